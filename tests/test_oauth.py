"""The consent flow: state and PKCE verifier at rest, single use, expiry, binding, and the
connection it saves, against the fake Google's real consent and token endpoints."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import urllib.parse
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import delete, select, update

from bridge import clock, keys, oauth
from bridge.errors import NotFound
from bridge.keys import Keyring
from bridge.settings import Secret, Settings
from bridge.store import Store
from bridge.store.sync_models import Connection, OAuthState
from tests.conftest import ProviderRef
from tests.fakes.google import FakeAccount, FakeGoogle

PUBLIC_URL = "https://book.example.org"
KEYRING = Keyring(["oauth-test-key-" + "k" * 40], source="test")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as the_fake:
        yield the_fake


@pytest.fixture(autouse=True)
def own_connections_only(store: Store, provider: ProviderRef) -> Iterator[None]:
    """The store is shared by the whole run: leave no connection behind."""
    yield
    with store.write() as session:
        session.execute(delete(Connection).where(Connection.provider_id == provider.id))


@pytest.fixture(autouse=True)
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauthlib refuses the fake's plain-http endpoints otherwise (tests only)."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(scope="module")
def settings(fake: FakeGoogle) -> Settings:
    return Settings(
        public_url=PUBLIC_URL,
        google_client_id=fake.client_id,
        google_client_secret=Secret(fake.client_secret),
        google_api_endpoint=fake.api_endpoint,
        google_auth_uri=fake.auth_uri,
        google_token_uri=fake.token_uri,
        google_revoke_uri=fake.revoke_uri,
        connector_timeout=10.0,
    )


@pytest.fixture
def account(fake: FakeGoogle) -> FakeAccount:
    the_account = fake.add_account(f"dr-{uuid.uuid4().hex[:8]}@example.com")
    the_account.add_calendar(f"family-{uuid.uuid4().hex[:8]}@group.calendar.google.com", "Family")
    fake.consenting_account = the_account
    return the_account


@dataclasses.dataclass
class Pulls:
    asked: list[int] = dataclasses.field(default_factory=list)

    def __call__(self, calendar_id: int) -> None:
        self.asked.append(calendar_id)


def start(store: Store, settings: Settings, provider: ProviderRef, **kwargs: object) -> str:
    with store.write() as session:
        return oauth.start_consent(
            session, KEYRING, settings, provider_id=provider.id, kind="google", **kwargs
        )


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def approve(url: str) -> dict[str, str]:
    """Open the consent URL at the fake (which approves at once); the callback's query."""
    answer = httpx.get(url, follow_redirects=False, trust_env=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{PUBLIC_URL}/oauth/google/callback?")
    return query_of(location)


def complete(
    store: Store, settings: Settings, back: dict[str, str], **kwargs: object
) -> Connection:
    return oauth.complete_consent(
        store,
        KEYRING,
        settings,
        kind="google",
        state=back["state"],
        code=back["code"],
        request_pull=kwargs.pop("request_pull", Pulls()),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def state_row(store: Store, state: str) -> OAuthState | None:
    digest = hashlib.sha256(state.encode()).hexdigest()
    with store.read() as session:
        return session.scalar(select(OAuthState).where(OAuthState.state_hash == digest))


def test_the_consent_url_asks_the_fake_for_offline_access_with_pkce(store, settings, provider):
    url = start(store, settings, provider)

    assert url.startswith(settings.google_auth_uri + "?")
    query = query_of(url)
    assert query["redirect_uri"] == f"{PUBLIC_URL}/oauth/google/callback"
    assert query["access_type"] == "offline" and query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 43  # 256 bits, URL-safe base64


def test_the_state_is_kept_only_as_a_hash_and_the_verifier_encrypted(store, settings, provider):
    now = clock.now()
    with clock.frozen(now):
        url = start(store, settings, provider)
    query = query_of(url)

    row = state_row(store, query["state"])

    assert row is not None and row.provider_id == provider.id and row.kind == "google"
    assert query["state"] not in {row.state_hash, row.code_verifier}
    verifier = KEYRING.decrypt(keys.OAUTH_VERIFIERS, row.code_verifier)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert query["code_challenge"] == challenge.decode().rstrip("=")
    assert row.expires_at == now + dt.timedelta(minutes=10)
    assert row.used_at is None and row.session_hash is None


def test_a_connection_needs_the_google_client_settings(store, provider):
    with pytest.raises(oauth.ConnectorNotConfigured, match="BRIDGE_GOOGLE_CLIENT_ID"):
        start(store, Settings(public_url=PUBLIC_URL), provider)


def test_consenting_saves_the_account_and_its_primary_calendar_syncs_both_ways(
    store, settings, provider, account
):
    back = approve(start(store, settings, provider))
    pulls = Pulls()

    connection = complete(store, settings, back, request_pull=pulls)

    assert connection.account == account.email and connection.status == "ok"
    by_name = {c.name: c for c in connection.calendars}
    primary = next(c for c in connection.calendars if c.is_primary)
    assert primary.remote_id == account.email
    assert primary.check_conflicts and primary.is_destination
    assert not by_name["Family"].check_conflicts and not by_name["Family"].is_destination
    assert pulls.asked == [primary.id]
    with store.read() as session:
        stored = session.get_one(Connection, connection.id)
        assert stored.credentials is not None
        tokens = json.loads(KEYRING.decrypt(keys.CONNECTOR_CREDENTIALS, stored.credentials))
    assert tokens["refresh_token"]


def test_a_state_works_once(store, settings, provider, account):
    back = approve(start(store, settings, provider))
    complete(store, settings, back)

    with pytest.raises(oauth.OAuthStateInvalid, match="already used"):
        complete(store, settings, back)


def test_an_unknown_state_is_refused(store, settings, provider, account):
    back = approve(start(store, settings, provider))

    with pytest.raises(oauth.OAuthStateInvalid, match="unknown"):
        complete(store, settings, {**back, "state": back["state"][::-1]})


def test_a_state_expires_after_ten_minutes(store, settings, provider, account):
    now = clock.now()
    with clock.frozen(now):
        back = approve(start(store, settings, provider))

    with clock.frozen(now + dt.timedelta(minutes=10, seconds=1)):
        with pytest.raises(oauth.OAuthStateInvalid, match="expired"):
            complete(store, settings, back)
    with pytest.raises(oauth.OAuthStateInvalid, match="already used"):
        complete(store, settings, back)  # used up by the late attempt


def test_a_state_of_another_kind_is_refused(store, settings, provider, account):
    back = approve(start(store, settings, provider))
    digest = hashlib.sha256(back["state"].encode()).hexdigest()
    with store.write() as session:
        session.execute(
            update(OAuthState).where(OAuthState.state_hash == digest).values(kind="graph")
        )

    with pytest.raises(oauth.OAuthStateInvalid, match="another calendar system"):
        complete(store, settings, back)


@pytest.mark.parametrize("presented", [None, "session-b"])
def test_a_state_bound_to_a_session_needs_that_session(
    store, settings, provider, account, presented
):
    back = approve(start(store, settings, provider, session_binding="session-a"))

    with pytest.raises(oauth.OAuthStateInvalid, match="another session"):
        complete(store, settings, back, session_binding=presented)


def test_a_state_bound_to_a_session_works_in_that_session(store, settings, provider, account):
    back = approve(start(store, settings, provider, session_binding="session-a"))

    connection = complete(store, settings, back, session_binding="session-a")

    assert connection.account == account.email


def test_a_refused_code_saves_nothing_and_uses_the_state(store, settings, provider, account):
    back = approve(start(store, settings, provider))

    with pytest.raises(oauth.ConsentFailed, match="could not connect the Google Calendar"):
        complete(store, settings, {**back, "code": "4/0-not-a-code"})

    with store.read() as session:
        assert (
            session.scalars(select(Connection).where(Connection.provider_id == provider.id)).all()
            == []
        )
    with pytest.raises(oauth.OAuthStateInvalid, match="already used"):
        complete(store, settings, back)


def test_declining_uses_up_the_state(store, settings, provider, fake):
    fake.consenting_account = None
    back = approve(start(store, settings, provider))
    assert back["error"] == "access_denied"

    error = oauth.decline_consent(store, kind="google", state=back["state"], reason=back["error"])

    assert isinstance(error, oauth.ConsentDenied) and "not granted" in str(error)
    row = state_row(store, back["state"])
    assert row is not None and row.used_at is not None


def test_a_reconnect_must_sign_in_to_the_same_account(store, settings, provider, account, fake):
    first = complete(store, settings, approve(start(store, settings, provider)))
    other = fake.add_account(f"other-{uuid.uuid4().hex[:8]}@example.com")
    fake.consenting_account = other

    back = approve(start(store, settings, provider, reconnect_id=first.id))
    fake.clear_requests()

    with pytest.raises(oauth.AccountMismatch, match=account.email):
        complete(store, settings, back)
    assert [r.path for r in fake.requests if r.path == "/revoke"] == ["/revoke"]  # not kept


def test_a_reconnect_of_the_same_account_renews_the_connection(store, settings, provider, account):
    first = complete(store, settings, approve(start(store, settings, provider)))

    again = complete(
        store, settings, approve(start(store, settings, provider, reconnect_id=first.id))
    )

    assert again.id == first.id and again.status == "ok"


def test_a_reconnect_names_a_connection_of_the_provider(store, settings, provider):
    with pytest.raises(NotFound):
        start(store, settings, provider, reconnect_id=987654)
