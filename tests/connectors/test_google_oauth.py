"""Connecting a Google account: the real consent flow (oauthlib, PKCE) against the fake Google."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import socket
import urllib.parse

import httpx
import pytest

from bridge.connectors import google, google_oauth
from bridge.connectors.errors import NeedsReauth, RateLimited, RemoteRejected, Transient
from bridge.errors import ConfigError
from bridge.settings import Settings
from tests.connectors.conftest import credentials_for
from tests.connectors.contract import pull_all
from tests.fakes.google import CALENDAR_SCOPE, FakeAccount, FakeGoogle

REDIRECT_URI = "https://bridge.example/oauth/google/callback"
EMAIL_SCOPE = "https://www.googleapis.com/auth/userinfo.email"


@pytest.fixture(autouse=True)
def _plain_http_token_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake speaks http; oauthlib allows that only with this variable (tests only).
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def consenting(fake_google: FakeGoogle, account: FakeAccount) -> FakeAccount:
    fake_google.consenting_account = account
    return account


def _query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _consent(url: str) -> dict[str, str]:
    """What the browser brings back to the redirect URI after the user consents."""
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return _query(location)


def _connect(settings: Settings, *, state: str = "st-1") -> tuple[str, str]:
    """Run the flow up to the callback; returns (code, verifier)."""
    verifier = google_oauth.new_code_verifier()
    url = google_oauth.consent_url(
        settings, redirect_uri=REDIRECT_URI, state=state, code_verifier=verifier
    )
    callback = _consent(url)
    assert callback["state"] == state
    return callback["code"], verifier


def test_code_verifiers_are_fresh_and_follow_rfc_7636() -> None:
    verifiers = {google_oauth.new_code_verifier() for _ in range(20)}

    assert len(verifiers) == 20
    for verifier in verifiers:
        assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", verifier)


def test_consent_url_asks_for_offline_access_again_with_an_s256_challenge(
    google_settings: Settings, fake_google: FakeGoogle
) -> None:
    verifier = google_oauth.new_code_verifier()

    url = google_oauth.consent_url(
        google_settings, redirect_uri=REDIRECT_URI, state="st-42", code_verifier=verifier
    )

    assert url.startswith(fake_google.auth_uri + "?")
    assert _query(url) == {
        "response_type": "code",
        "client_id": fake_google.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": CALENDAR_SCOPE,
        "state": "st-42",
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
    }


def test_the_exchanged_credentials_work(
    google_settings: Settings, fake_google: FakeGoogle, consenting: FakeAccount
) -> None:
    code, verifier = _connect(google_settings)

    credentials = google_oauth.exchange_code(
        google_settings, redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
    )

    stored = json.loads(credentials)
    assert stored["refresh_token"] and stored["access_token"] and stored["expiry"]
    assert stored["scopes"] == [CALENDAR_SCOPE]
    connector = google.from_credentials(google_settings, credentials)
    fake_google.clear_requests()
    assert connector.account() == consenting.email
    assert pull_all(connector, consenting.email, None)[-1].cursor
    assert "/token" not in [r.path for r in fake_google.requests]  # the access token was used
    assert connector.credentials() is None


def test_the_exchange_sends_the_verifier(
    google_settings: Settings, fake_google: FakeGoogle, consenting: FakeAccount
) -> None:
    code, verifier = _connect(google_settings)
    fake_google.clear_requests()

    google_oauth.exchange_code(
        google_settings, redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
    )

    (exchange,) = fake_google.requests
    form = dict(urllib.parse.parse_qsl(exchange.body))
    assert form["grant_type"] == "authorization_code"
    assert form["code_verifier"] == verifier
    assert form["redirect_uri"] == REDIRECT_URI


def test_a_reconnect_gets_a_new_refresh_token(
    google_settings: Settings, consenting: FakeAccount
) -> None:
    tokens = set()
    for _ in range(2):
        code, verifier = _connect(google_settings)
        credentials = google_oauth.exchange_code(
            google_settings, redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
        )
        tokens.add(json.loads(credentials)["refresh_token"])

    assert len(tokens) == 2


def test_a_wrong_verifier_is_rejected(google_settings: Settings, consenting: FakeAccount) -> None:
    code, _ = _connect(google_settings)

    with pytest.raises(RemoteRejected, match="invalid_grant"):
        google_oauth.exchange_code(
            google_settings,
            redirect_uri=REDIRECT_URI,
            code=code,
            code_verifier=google_oauth.new_code_verifier(),
        )


def test_a_code_works_once(google_settings: Settings, consenting: FakeAccount) -> None:
    code, verifier = _connect(google_settings)
    google_oauth.exchange_code(
        google_settings, redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
    )

    with pytest.raises(RemoteRejected):
        google_oauth.exchange_code(
            google_settings, redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
        )


def test_no_refresh_token_in_the_answer_is_rejected_with_advice(
    google_settings: Settings, fake_google: FakeGoogle, consenting: FakeAccount
) -> None:
    fake_google.issue_refresh_token(consenting)  # an earlier consent
    verifier = google_oauth.new_code_verifier()
    url = google_oauth.consent_url(
        google_settings, redirect_uri=REDIRECT_URI, state="s", code_verifier=verifier
    )
    # Without prompt=consent Google sends no second refresh token.
    parts = urllib.parse.urlsplit(url)
    query = {k: v for k, v in _query(url).items() if k != "prompt"}
    code = _consent(parts._replace(query=urllib.parse.urlencode(query)).geturl())["code"]

    with pytest.raises(RemoteRejected) as raised:
        google_oauth.exchange_code(
            google_settings, redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
        )
    assert str(raised.value) == google_oauth.NO_REFRESH_TOKEN


def test_scopes_granted_earlier_are_kept(
    google_settings: Settings, fake_google: FakeGoogle, consenting: FakeAccount
) -> None:
    fake_google.issue_refresh_token(consenting, scopes=(EMAIL_SCOPE,))
    code, verifier = _connect(google_settings)

    credentials = google_oauth.exchange_code(
        google_settings, redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
    )

    assert set(json.loads(credentials)["scopes"]) == {CALENDAR_SCOPE, EMAIL_SCOPE}
    connector = google.from_credentials(google_settings, credentials)
    connector.refresh_access()  # the token is fresh: nothing to do
    assert connector.account() == consenting.email


@pytest.mark.parametrize(("status", "error"), [(503, Transient), (429, RateLimited)])
def test_a_failing_token_endpoint_is_transient(
    google_settings: Settings,
    fake_google: FakeGoogle,
    consenting: FakeAccount,
    status: int,
    error: type[Exception],
) -> None:
    code, verifier = _connect(google_settings)
    fake_google.faults.add(path="/token", status=status, retry_after=30)

    with pytest.raises(error) as raised:
        google_oauth.exchange_code(
            google_settings, redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
        )
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 30


def test_an_unreachable_token_endpoint_is_transient(
    google_settings: Settings, consenting: FakeAccount
) -> None:
    code, verifier = _connect(google_settings)
    settings = _settings_with(google_settings, google_token_uri=_closed_port_url("/token"))

    with pytest.raises(Transient):
        google_oauth.exchange_code(
            settings, redirect_uri=REDIRECT_URI, code=code, code_verifier=verifier
        )


def test_plain_http_endpoints_are_refused_outside_tests(
    google_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT")

    with pytest.raises(ConfigError, match="google_auth_uri"):
        google_oauth.consent_url(
            google_settings, redirect_uri=REDIRECT_URI, state="s", code_verifier="v" * 43
        )
    with pytest.raises(ConfigError, match="google_token_uri"):
        google_oauth.exchange_code(
            google_settings, redirect_uri=REDIRECT_URI, code="4/0x", code_verifier="v" * 43
        )


def test_without_an_oauth_client_there_is_no_consent() -> None:
    with pytest.raises(ConfigError):
        google_oauth.consent_url(
            Settings(), redirect_uri=REDIRECT_URI, state="s", code_verifier="v" * 43
        )


def test_revoke_withdraws_the_grant(
    google_settings: Settings, fake_google: FakeGoogle, account: FakeAccount
) -> None:
    credentials = credentials_for(fake_google.issue_refresh_token(account))

    google_oauth.revoke(google_settings, credentials)

    with pytest.raises(NeedsReauth):
        google.from_credentials(google_settings, credentials).account()


def test_revoke_is_best_effort(
    google_settings: Settings,
    fake_google: FakeGoogle,
    account: FakeAccount,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.connectors.google_oauth")
    credentials = credentials_for(fake_google.issue_refresh_token(account))
    unreachable = _settings_with(google_settings, google_revoke_uri=_closed_port_url("/revoke"))

    google_oauth.revoke(google_settings, credentials)
    google_oauth.revoke(google_settings, credentials)  # already revoked: 400
    google_oauth.revoke(unreachable, credentials)
    google_oauth.revoke(google_settings, "not json")

    assert len(caplog.records) == 4
    assert json.loads(credentials)["refresh_token"] not in caplog.text


def _settings_with(settings: Settings, **changes: object) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def _closed_port_url(path: str) -> str:
    """An http URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
