"""The fake's OAuth endpoints and API authentication, driven by google-auth and oauthlib."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import httpx
import pytest
from google.auth.exceptions import RefreshError
from google_auth_oauthlib.flow import Flow
from googleapiclient.errors import HttpError
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError

from tests.fakes.google import CALENDAR_SCOPE, FakeGoogle
from tests.fakes.google.testing import (  # noqa: F401 - fixtures
    account_fixture,
    credentials,
    fake_fixture,
    make_service_fixture,
    no_backoff_fixture,
    raw_http,
    service_fixture,
    timed,
)

REDIRECT = "http://127.0.0.1:9/oauth/callback"


def _paths(fake: FakeGoogle) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests]


def _refresh_form(fake: FakeGoogle, token: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        **extra,
    }


def test_stale_access_token_gets_401_then_client_refreshes_and_replays(fake, account, make_service):
    creds = credentials(fake, account, token="ya29.not-issued-by-the-fake")
    service = make_service(account, creds)

    answer = service.events().list(calendarId="primary").execute()

    assert answer["kind"] == "calendar#events"
    assert _paths(fake) == [
        "GET /calendar/v3/calendars/primary/events",
        "POST /token",
        "GET /calendar/v3/calendars/primary/events",
    ]
    assert fake.requests[0].headers["authorization"] == "Bearer ya29.not-issued-by-the-fake"
    assert fake.requests[2].headers["authorization"] == f"Bearer {creds.token}"
    form = urllib.parse.parse_qs(fake.requests[1].body)
    assert form["grant_type"] == ["refresh_token"]
    assert form["client_id"] == [fake.client_id]


def test_401_body_is_googles_auth_error(fake, account):
    response = httpx.get(
        fake.api_endpoint + "calendars/primary/events", headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer realm=")
    error = response.json()["error"]
    assert error["code"] == 401
    assert error["errors"] == [
        {
            "domain": "global",
            "reason": "authError",
            "message": "Invalid Credentials",
            "locationType": "header",
            "location": "Authorization",
        }
    ]
    missing = httpx.get(fake.api_endpoint + "calendars/primary/events")
    assert missing.status_code == 401
    assert missing.json()["error"]["errors"][0]["reason"] == "required"


def test_expired_credentials_refresh_before_the_call(fake, account, make_service):
    creds = credentials(
        fake,
        account,
        token="ya29.old",
        expiry=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1),
    )
    service = make_service(account, creds)

    service.events().list(calendarId="primary").execute()

    assert _paths(fake) == ["POST /token", "GET /calendar/v3/calendars/primary/events"]


def test_access_token_expires_on_the_fakes_clock(fake, account, service):
    service.events().list(calendarId="primary").execute()
    fake.clear_requests()
    fake.advance_clock(dt.timedelta(seconds=3601))

    service.events().list(calendarId="primary").execute()

    assert [r.path for r in fake.requests] == [
        "/calendar/v3/calendars/primary/events",
        "/token",
        "/calendar/v3/calendars/primary/events",
    ]


def test_revoked_refresh_token_gives_invalid_grant(fake, account, make_service):
    creds = credentials(fake, account)
    service = make_service(account, creds)
    service.events().list(calendarId="primary").execute()
    fake.revoke(creds.refresh_token)

    # The access token minted from it is dead too: 401, then the refresh fails.
    with pytest.raises(RefreshError, match="invalid_grant") as caught:
        service.events().list(calendarId="primary").execute()

    assert caught.value.args[1] == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


def test_revoke_endpoint(fake, account):
    token = fake.issue_refresh_token(account)
    assert httpx.post(fake.revoke_uri, data={"token": token}).status_code == 200
    again = httpx.post(fake.revoke_uri, data={"token": token})
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_token"
    refresh = httpx.post(fake.token_uri, data=_refresh_form(fake, token))
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"


def test_revoking_an_access_token_revokes_its_grant(fake, account, make_service):
    creds = credentials(fake, account)
    service = make_service(account, creds)
    service.events().list(calendarId="primary").execute()
    assert httpx.post(fake.revoke_uri, params={"token": creds.token}).status_code == 200
    with pytest.raises(RefreshError, match="invalid_grant"):
        service.events().list(calendarId="primary").execute()


def test_wrong_client_secret_is_invalid_client(fake, account, make_service):
    creds = credentials(fake, account, client_secret="wrong")
    service = make_service(account, creds)
    with pytest.raises(RefreshError, match="invalid_client"):
        service.events().list(calendarId="primary").execute()


def test_token_endpoint_errors(fake, account):
    unknown = httpx.post(fake.token_uri, data=_refresh_form(fake, "x", grant_type="password"))
    assert (unknown.status_code, unknown.json()["error"]) == (400, "unsupported_grant_type")
    stranger = httpx.post(fake.token_uri, data={"grant_type": "refresh_token", "client_id": "x"})
    assert (stranger.status_code, stranger.json()["error"]) == (401, "invalid_client")
    token = fake.issue_refresh_token(account)
    wider = httpx.post(
        fake.token_uri, data=_refresh_form(fake, token, scope="https://mail.google.com/")
    )
    assert (wider.status_code, wider.json()["error"]) == (400, "invalid_scope")
    ok = httpx.post(fake.token_uri, data=_refresh_form(fake, token))
    assert ok.status_code == 200
    assert set(ok.json()) == {"access_token", "expires_in", "scope", "token_type"}
    assert ok.json()["token_type"] == "Bearer"


def test_scopes_and_accounts_are_enforced(fake, account, make_service):
    readonly = "https://www.googleapis.com/auth/calendar.readonly"
    token = fake.issue_refresh_token(account, [readonly])
    reader = make_service(account, credentials(fake, account, refresh_token=token))
    reader.events().list(calendarId="primary").execute()
    with pytest.raises(HttpError) as caught:
        reader.events().insert(calendarId="primary", body=timed()).execute()
    assert caught.value.resp.status == 403
    assert caught.value.error_details[0]["reason"] == "insufficientPermissions"

    other = fake.add_account("bob@example.com")
    bob = make_service(other)
    with pytest.raises(HttpError) as caught:
        bob.events().list(calendarId=account.email).execute()
    assert caught.value.resp.status == 404
    assert caught.value.error_details[0]["reason"] == "notFound"


# -- consent flow ----------------------------------------------------------------------------


@pytest.fixture
def flow_factory(fake, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    flows = []

    def make():
        flow = Flow.from_client_config(
            fake.client_config([REDIRECT]), scopes=[CALENDAR_SCOPE], redirect_uri=REDIRECT
        )
        flows.append(flow)
        return flow

    yield make
    for flow in flows:
        flow.oauth2session.close()


def _consent_url(fake: FakeGoogle, **change: str) -> str:
    query = {
        "client_id": fake.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": CALENDAR_SCOPE,
        **change,
    }
    return fake.auth_uri + "?" + urllib.parse.urlencode(query)


def _consent(url: str) -> dict[str, list[str]]:
    """Visit the consent URL like a browser would, without following the redirect."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)


def test_consent_flow_with_pkce_gives_a_refresh_token_on_first_consent(
    fake, account, flow_factory, make_service
):
    fake.consenting_account = account
    flow = flow_factory()
    url, state = flow.authorization_url(access_type="offline")

    answer = _consent(url)
    flow.fetch_token(code=answer["code"][0])

    assert answer["state"] == [state]
    asked = fake.consent_requests[-1]
    assert asked["code_challenge_method"] == "S256"
    assert asked["access_type"] == "offline"
    assert flow.credentials.refresh_token
    # The credentials work against the API.
    service = make_service(account, flow.credentials)
    assert service.calendarList().list().execute()["items"][0]["id"] == account.email

    # Consenting again without prompt=consent: no new refresh token, as Google does.
    second = flow_factory()
    url, _ = second.authorization_url(access_type="offline")
    second.fetch_token(code=_consent(url)["code"][0])
    assert second.credentials.token
    assert second.credentials.refresh_token is None

    # prompt=consent forces a new one.
    third = flow_factory()
    url, _ = third.authorization_url(access_type="offline", prompt="consent")
    third.fetch_token(code=_consent(url)["code"][0])
    assert third.credentials.refresh_token not in (None, flow.credentials.refresh_token)


def test_online_access_gets_no_refresh_token(fake, account, flow_factory):
    fake.consenting_account = account
    flow = flow_factory()
    url, _ = flow.authorization_url(access_type="online")
    flow.fetch_token(code=_consent(url)["code"][0])
    assert flow.credentials.refresh_token is None


def test_code_exchange_checks_verifier_and_single_use(fake, account, flow_factory):
    fake.consenting_account = account
    flow = flow_factory()
    url, _ = flow.authorization_url(access_type="offline")
    code = _consent(url)["code"][0]
    good_verifier = flow.code_verifier

    flow.code_verifier = "x" * 64
    with pytest.raises(InvalidGrantError, match="Invalid code verifier"):
        flow.fetch_token(code=code)
    flow.code_verifier = good_verifier
    flow.fetch_token(code=code)
    with pytest.raises(InvalidGrantError):
        flow.fetch_token(code=code)  # codes are single-use


def test_consent_codes_expire(fake, account, flow_factory):
    fake.consenting_account = account
    flow = flow_factory()
    url, _ = flow.authorization_url(access_type="offline")
    code = _consent(url)["code"][0]
    fake.advance_clock(dt.timedelta(minutes=11))
    with pytest.raises(InvalidGrantError):
        flow.fetch_token(code=code)


def test_redirect_uri_must_match_at_exchange(fake, account):
    fake.consenting_account = account
    code = _consent(_consent_url(fake, state="s1"))["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT + "/other",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    answer = httpx.post(fake.token_uri, data=form)
    assert (answer.status_code, answer.json()["error"]) == (400, "redirect_uri_mismatch")


def test_no_consenting_account_redirects_with_access_denied(fake, flow_factory):
    flow = flow_factory()
    url, state = flow.authorization_url(access_type="offline")
    assert _consent(url) == {"error": ["access_denied"], "state": [state]}


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"redirect_uri": "/relative"}, 400, "invalid_request"),
        ({"response_type": "token"}, 400, "unsupported_response_type"),
        ({"scope": ""}, 400, "invalid_request"),
        ({"scope": "calendar"}, 400, "invalid_scope"),
    ],
)
def test_consent_endpoint_validates_the_request(fake, account, change, status, error):
    fake.consenting_account = account
    response = httpx.get(_consent_url(fake, **change))
    assert response.status_code == status
    assert json.loads(response.text)["error"] == error


def test_raw_http_transport_is_authorised(fake, account, service):
    response, content = raw_http(service).request(fake.api_endpoint + "users/me/calendarList")
    assert response.status == 200
    assert json.loads(content)["kind"] == "calendar#calendarList"
