"""Connecting a calendar through the API and the callback page; calendars, status, disconnect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bridge.settings import SecretKeys, Settings
from bridge.store import Store
from bridge.web import create_app
from tests.conftest import ProviderRef, new_provider
from tests.fakes.google import FakeGoogle
from tests.web.conftest import bearer, issue_token, provider_url
from tests.web.sync_helpers import (
    PUBLIC_URL,
    SECRET_KEY,
    connect,
    consent,
    forget_connections,
    new_account,
    settings_for,
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as the_fake:
        yield the_fake


@pytest.fixture(autouse=True)
def own_connections_only(store: Store, provider: ProviderRef) -> Iterator[None]:
    """The store is shared by the whole run: leave no connection behind."""
    yield
    forget_connections(store, provider.id)


@pytest.fixture(autouse=True)
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake speaks plain http


@pytest.fixture(scope="module")
def sync_app(store: Store, fake: FakeGoogle) -> FastAPI:
    return create_app(settings_for(fake), store)


@pytest.fixture
def client(sync_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(sync_app) as test_client:
        yield test_client


def test_connecting_shows_the_account_and_its_primary_calendar_syncs_both_ways(
    client, fake, provider, provider_auth
):
    account = new_account(fake)
    started = client.post(provider_url(provider, "connections", "google"), headers=provider_auth)
    assert started.status_code == 200, started.text
    assert started.headers["cache-control"] == "no-store"
    assert started.json()["consent_url"].startswith(fake.auth_uri)

    page = client.get("/oauth/google/callback", params=consent(fake, started.json()["consent_url"]))

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f"Connected {account.email}" in page.text
    assert "receives your bookings" in page.text
    listed = client.get(provider_url(provider, "connections"), headers=provider_auth).json()
    (connection,) = listed["connections"]
    assert connection["account"] == account.email and connection["status"] == "ok"
    primary = next(c for c in connection["calendars"] if c["primary"])
    family = next(c for c in connection["calendars"] if not c["primary"])
    assert primary["check_conflicts"] and primary["is_destination"]
    assert not family["check_conflicts"] and not family["is_destination"]
    assert "credentials" not in page.text and "refresh" not in started.text


def test_starting_needs_the_google_client_settings(store, provider, provider_auth):
    app = create_app(Settings(public_url=PUBLIC_URL, secret_key=SecretKeys((SECRET_KEY,))), store)
    with TestClient(app) as plain:
        answer = plain.post(provider_url(provider, "connections", "google"), headers=provider_auth)

    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "not_configured" and "BRIDGE_GOOGLE_CLIENT_ID" in error["message"]


def test_an_unknown_kind_is_bad_input(client, provider, provider_auth):
    answer = client.post(provider_url(provider, "connections", "outlook"), headers=provider_auth)

    assert answer.status_code == 422
    assert "kind" in answer.json()["error"]["fields"]


def test_connecting_needs_a_token_of_the_provider(client, store, provider):
    other = bearer(issue_token(store, new_provider(store)))

    assert client.post(provider_url(provider, "connections", "google")).status_code == 401
    answer = client.post(provider_url(provider, "connections", "google"), headers=other)
    assert answer.status_code == 404


def test_a_reused_callback_is_a_clear_page_not_a_traceback(client, fake, provider, provider_auth):
    new_account(fake)
    started = client.post(provider_url(provider, "connections", "google"), headers=provider_auth)
    back = consent(fake, started.json()["consent_url"])
    assert client.get("/oauth/google/callback", params=back).status_code == 200

    again = client.get("/oauth/google/callback", params=back)

    assert again.status_code == 400
    assert again.headers["content-type"].startswith("text/html")
    assert "already used" in again.text and "Traceback" not in again.text


def test_declining_consent_is_a_clear_page(client, fake, provider, provider_auth):
    fake.consenting_account = None
    started = client.post(provider_url(provider, "connections", "google"), headers=provider_auth)
    back = consent(fake, started.json()["consent_url"])
    assert back["error"] == "access_denied"

    page = client.get("/oauth/google/callback", params=back)

    assert page.status_code == 400 and "was not granted" in page.text
    listed = client.get(provider_url(provider, "connections"), headers=provider_auth).json()
    assert listed["connections"] == []


@pytest.mark.parametrize("params", [{}, {"code": "4/0abc"}, {"state": "x" * 43}])
def test_a_callback_without_code_or_state_is_refused(client, params):
    page = client.get("/oauth/google/callback", params=params)

    assert page.status_code == 400 and "start connecting again" in page.text


def test_a_forged_state_is_refused(client):
    page = client.get("/oauth/google/callback", params={"code": "4/0abc", "state": "x" * 43})

    assert page.status_code == 400 and "unknown" in page.text


def test_a_callback_of_an_unknown_kind_is_404(client):
    assert client.get("/oauth/outlook/callback", params={"code": "c"}).status_code == 404


def test_calendar_options_change_what_a_calendar_does(client, fake, provider, provider_auth):
    linked = connect(client, fake, provider, provider_auth)
    family = provider_url(provider, "calendars", linked.family["id"])

    ticked = client.patch(family, json={"check_conflicts": True}, headers=provider_auth)
    moved = client.patch(family, json={"is_destination": True}, headers=provider_auth)

    assert ticked.status_code == 200 and ticked.json()["check_conflicts"] is True
    assert moved.status_code == 200 and moved.json()["is_destination"] is True
    calendars = client.get(provider_url(provider, "connections"), headers=provider_auth).json()
    flags = {
        c["name"]: (c["check_conflicts"], c["is_destination"])
        for c in calendars["connections"][0]["calendars"]
    }
    assert flags == {linked.primary["name"]: (True, False), "Family": (True, True)}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"check_conflicts": "maybe"}, "check_conflicts"), ({"colour": "red"}, "colour")],
)
def test_calendar_options_refuse_bad_input(client, fake, provider, provider_auth, body, field):
    linked = connect(client, fake, provider, provider_auth)

    answer = client.patch(
        provider_url(provider, "calendars", linked.family["id"]), json=body, headers=provider_auth
    )

    assert answer.status_code == 422 and field in answer.json()["error"]["fields"]


def test_another_providers_calendars_and_connections_are_404(
    client, fake, store, provider, provider_auth
):
    linked = connect(client, fake, provider, provider_auth)
    other = new_provider(store)
    other_auth = bearer(issue_token(store, other))
    calendar_id, connection_id = linked.family["id"], linked.connection["id"]

    answers = [
        client.patch(
            provider_url(other, "calendars", calendar_id),
            json={"check_conflicts": True},
            headers=other_auth,
        ),
        client.post(provider_url(other, "calendars", calendar_id, "sync"), headers=other_auth),
        client.post(
            provider_url(other, "calendars", calendar_id, "breaker"),
            json={"confirm": False},
            headers=other_auth,
        ),
        client.delete(
            provider_url(other, "connections", connection_id),
            params={"remove_events": "false"},
            headers=other_auth,
        ),
        client.get(provider_url(provider, "sync", "status"), headers=other_auth),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)


def test_a_sync_runs_in_the_background_and_the_status_shows_it(
    client, fake, provider, provider_auth
):
    linked = connect(client, fake, provider, provider_auth)
    primary = linked.primary["id"]

    answer = client.post(
        provider_url(provider, "calendars", primary, "sync"),
        params={"full": "true"},
        headers=provider_auth,
    )

    assert answer.status_code == 202
    assert answer.json() == {"calendar_id": primary, "full": True, "status": "queued"}
    status = client.get(provider_url(provider, "sync", "status"), headers=provider_auth)
    assert status.status_code == 200
    rows = {row["calendar_id"]: row for row in status.json()["calendars"]}
    row = rows[primary]
    assert row["state"] == "ok" and row["last_synced_at"] is not None
    assert row["account"] == linked.account.email and row["kind"] == "google"
    assert row["check_conflicts"] and row["is_destination"]
    assert row["pending_writes"] == row["failed_writes"] == row["held_cancellations"] == 0
    assert rows[linked.family["id"]]["last_synced_at"] is None


def test_notices_and_an_untripped_breaker(client, fake, provider, provider_auth):
    linked = connect(client, fake, provider, provider_auth)

    notices = client.get(provider_url(provider, "sync", "notices"), headers=provider_auth)
    breaker = client.post(
        provider_url(provider, "calendars", linked.primary["id"], "breaker"),
        json={"confirm": True},
        headers=provider_auth,
    )

    assert notices.status_code == 200 and notices.json() == {"notices": []}
    assert breaker.status_code == 200
    assert breaker.json() == {
        "calendar_id": linked.primary["id"],
        "confirmed": True,
        "bookings": 0,
    }


def test_the_breaker_needs_an_answer(client, fake, provider, provider_auth):
    linked = connect(client, fake, provider, provider_auth)

    answer = client.post(
        provider_url(provider, "calendars", linked.primary["id"], "breaker"),
        json={},
        headers=provider_auth,
    )

    assert answer.status_code == 422 and answer.json()["error"]["fields"] == {"confirm": "required"}


def test_disconnecting_asks_about_the_events_then_revokes_and_forgets(
    client, fake, provider, provider_auth
):
    linked = connect(client, fake, provider, provider_auth)
    where = provider_url(provider, "connections", linked.connection["id"])
    fake.clear_requests()

    unasked = client.delete(where, headers=provider_auth)
    answer = client.delete(where, params={"remove_events": "false"}, headers=provider_auth)

    assert unasked.status_code == 422 and "remove_events" in unasked.json()["error"]["fields"]
    assert answer.status_code == 204
    listed = client.get(provider_url(provider, "connections"), headers=provider_auth).json()
    assert listed["connections"] == []
    assert [r.path for r in fake.requests if r.path == "/revoke"] == ["/revoke"]
    gone = client.delete(where, params={"remove_events": "true"}, headers=provider_auth)
    assert gone.status_code == 404


def test_the_openapi_document_describes_the_sync_api(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    for path in [
        "/api/v1/providers/{slug}/connections/{kind}",
        "/api/v1/providers/{slug}/connections",
        "/api/v1/providers/{slug}/connections/{connection_id}",
        "/api/v1/providers/{slug}/calendars/{calendar_id}",
        "/api/v1/providers/{slug}/calendars/{calendar_id}/sync",
        "/api/v1/providers/{slug}/calendars/{calendar_id}/breaker",
        "/api/v1/providers/{slug}/sync/status",
        "/api/v1/providers/{slug}/sync/notices",
    ]:
        assert path in paths, path
    assert "/hooks/google" not in paths  # outside the API document
