"""The live free/busy check at booking time, through the API.

First against a scripted connector (every outcome), then end to end: the real Google connector
talking to the fake Google, with the app's own keyring and connector wiring.

The clock is pinned to Monday 2026-06-01 08:00 in Berlin (see ``tests/conftest.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bridge.availability import Interval
from bridge.booking.calendar_guard import CalendarGuard, request_pulls_in
from bridge.connectors.errors import Transient
from bridge.connectors.google_tokens import GoogleTokens
from bridge.keys import Keyring
from bridge.settings import Secret, SecretKeys, Settings
from bridge.store import Store
from bridge.store.sync_models import CONNECTION_NEEDS_REAUTH, Mirror
from bridge.web import create_app
from bridge.web.routes.slots import get_calendar_guard
from tests.booking.calendar_helpers import (
    FreeBusyOnly,
    add_calendar,
    pull_requested_at,
)
from tests.booking.helpers import local, update_service
from tests.conftest import ProviderRef
from tests.fakes.google.fake import CALENDAR_SCOPE, FakeGoogle
from tests.web.conftest import bearer, booking_body, provider_url

pytestmark = pytest.mark.usefixtures("frozen_now")

TUESDAY = dt.date(2026, 6, 2)
TEN = "2026-06-02T10:00:00+02:00"


def post_booking(client: TestClient, provider: ProviderRef, start: str = TEN):
    return client.post(
        provider_url(provider, "bookings"), json=booking_body(provider.service_id, start)
    )


# -- a scripted connector -------------------------------------------------------------------------


@dataclasses.dataclass
class Scripted:
    connector: FreeBusyOnly
    client: TestClient


@pytest.fixture(scope="module")
def scripted_app(store: Store) -> FastAPI:
    return create_app(Settings(free_busy_timeout=5.0), store)


@pytest.fixture
def scripted(scripted_app: FastAPI, store: Store) -> Iterator[Scripted]:
    connector = FreeBusyOnly()
    settings = scripted_app.state.settings

    def guard() -> CalendarGuard:
        return CalendarGuard(
            settings, lambda _target: connector, request_pulls=request_pulls_in(store)
        )

    scripted_app.dependency_overrides[get_calendar_guard] = guard
    try:
        with TestClient(scripted_app) as client:
            yield Scripted(connector, client)
    finally:
        scripted_app.dependency_overrides.clear()


def test_busy_in_a_conflict_calendar_refuses_the_booking_and_asks_for_a_pull(
    scripted, provider, store
):
    work = add_calendar(store, provider.id, name="Work")
    start = local(provider, TUESDAY, 10)
    scripted.connector.busy = {work.remote_id: [Interval(start, start + dt.timedelta(minutes=5))]}

    response = post_booking(scripted.client, provider)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"
    assert pull_requested_at(store, work.id) is not None


def test_free_in_every_conflict_calendar_books(scripted, provider, store):
    add_calendar(store, provider.id, name="Work")

    assert post_booking(scripted.client, provider).status_code == 201
    assert len(scripted.connector.asked) == 1


def test_bad_client_details_are_refused_before_any_remote_call(scripted, provider, store):
    add_calendar(store, provider.id, name="Work")

    response = scripted.client.post(
        provider_url(provider, "bookings"),
        json=booking_body(provider.service_id, TEN, email="not an address"),
    )

    assert response.status_code == 422
    assert scripted.connector.asked == []


def test_a_failed_check_under_hide_is_503_calendar_unavailable(scripted, provider, store):
    add_calendar(store, provider.id, name="Work")
    scripted.connector.error = Transient("Google answered 503")

    response = post_booking(scripted.client, provider)

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "calendar_unavailable"
    assert "'Work'" in error["message"] and "could not be checked" in error["message"]
    assert "Google answered 503" not in error["message"]  # the detail goes to the log


def test_a_clients_move_is_checked_and_a_providers_is_not(scripted, provider, store, provider_auth):
    booked = post_booking(scripted.client, provider).json()
    work = add_calendar(store, provider.id, name="Work")
    eleven = local(provider, TUESDAY, 11)
    scripted.connector.busy = {work.remote_id: [Interval(eleven, eleven + dt.timedelta(hours=1))]}
    url = provider_url(provider, "bookings", booked["id"], "reschedule")
    move = {"start": "2026-06-02T11:00:00+02:00"}

    by_client = scripted.client.post(url, json=move, headers=bearer(booked["manage_token"]))
    assert by_client.status_code == 409
    assert by_client.json()["error"]["code"] == "slot_unavailable"

    by_provider = scripted.client.post(url, json=move, headers=provider_auth)
    assert by_provider.status_code == 200, by_provider.text
    assert len(scripted.connector.asked) == 1


# -- end to end: the Google connector and the fake Google ---------------------------------------


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        yield fake


def google_app(store: Store, fake: FakeGoogle, **changes: object) -> FastAPI:
    settings = Settings(
        secret_key=SecretKeys((secrets.token_urlsafe(32),)),
        google_client_id=fake.client_id,
        google_client_secret=Secret(fake.client_secret),
        google_api_endpoint=fake.api_endpoint,
        google_auth_uri=fake.auth_uri,
        google_token_uri=fake.token_uri,
        google_revoke_uri=fake.revoke_uri,
        free_busy_timeout=5.0,
        connector_timeout=5.0,
    )
    return create_app(dataclasses.replace(settings, **changes), store)


@dataclasses.dataclass
class Connected:
    client: TestClient
    fake: FakeGoogle
    email: str
    refresh_token: str
    calendar_id: int


def connect_google(
    app: FastAPI, store: Store, fake: FakeGoogle, provider: ProviderRef, **calendar: object
) -> Connected:
    """A provider whose Google primary calendar checks conflicts (synced a minute ago)."""
    email = f"{provider.slug}@example.com"
    account = fake.add_account(email)
    refresh_token = fake.issue_refresh_token(account, (CALENDAR_SCOPE,))
    tokens = GoogleTokens(refresh_token, None, None, (CALENDAR_SCOPE,))
    settings = app.state.settings
    keyring = Keyring(settings.secret_key.keys, source="test")
    ref = add_calendar(
        store,
        provider.id,
        name=email,
        account=email,
        kind="google",
        credentials=tokens.to_json(),
        remote_id=email,
        keyring=keyring,
        **calendar,
    )
    return Connected(TestClient(app), fake, email, refresh_token, ref.id)


def freebusy_requests(fake: FakeGoogle) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/freeBusy"))


def test_an_event_created_a_second_ago_and_never_pulled_prevents_the_booking(
    store, provider, google
):
    connected = connect_google(google_app(store, google), store, google, provider)
    google.calendar(connected.email).create_event(
        {
            "summary": "Dentist",
            "start": {"dateTime": "2026-06-02T10:20:00+02:00"},
            "end": {"dateTime": "2026-06-02T11:00:00+02:00"},
        }
    )

    with connected.client as client:
        refused = post_booking(client, provider)
        accepted = post_booking(client, provider, "2026-06-02T09:30:00+02:00")

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "slot_unavailable"
    assert "Dentist" not in refused.text
    assert pull_requested_at(store, connected.calendar_id) is not None
    assert accepted.status_code == 201, accepted.text
    assert freebusy_requests(google) == 2


def test_a_clients_move_is_not_blocked_by_the_bookings_own_event_in_google(store, provider, google):
    update_service(store, provider, buffer_before_minutes=15)
    connected = connect_google(google_app(store, google), store, google, provider)
    with connected.client as client:
        booked = post_booking(client, provider).json()
        # The outbox wrote the booking to Google (10:00-10:30) and mapped it.
        event = google.calendar(connected.email).create_event(
            {
                "start": {"dateTime": "2026-06-02T10:00:00+02:00"},
                "end": {"dateTime": "2026-06-02T10:30:00+02:00"},
            }
        )
        with store.write() as session:
            session.add(
                Mirror(
                    booking_id=booked["id"],
                    calendar_id=connected.calendar_id,
                    remote_id=event["id"],
                    booking_version=1,
                    remote_start=local(provider, TUESDAY, 10),
                    remote_end=local(provider, TUESDAY, 10, 30),
                )
            )

        # 10:30 with its 15 minutes before reaches into the booking's own event: no matter.
        moved = client.post(
            provider_url(provider, "bookings", booked["id"], "reschedule"),
            json={"start": "2026-06-02T10:30:00+02:00"},
            headers=bearer(booked["manage_token"]),
        )

    assert moved.status_code == 200, moved.text
    assert freebusy_requests(google) == 2


@pytest.mark.parametrize("policy", ["hide", "warn"])
def test_a_slow_google_means_the_stale_rule(store, provider, google, policy):
    app = google_app(store, google, free_busy_timeout=0.3, stale_calendar_policy=policy)
    connected = connect_google(app, store, google, provider)
    google.faults.add(path="/freeBusy", delay=1.5)

    with connected.client as client:
        response = post_booking(client, provider)

    if policy == "hide":
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "calendar_unavailable"
        assert connected.email in response.json()["error"]["message"]
    else:
        assert response.status_code == 201, response.text


def test_a_revoked_grant_found_live_means_the_stale_rule(store, provider, google):
    connected = connect_google(google_app(store, google), store, google, provider)
    google.revoke(connected.refresh_token)

    with connected.client as client:
        response = post_booking(client, provider)

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "calendar_unavailable"


def test_a_connection_needing_reauth_is_not_asked(store, provider, google):
    app = google_app(store, google, stale_calendar_policy="warn")
    connected = connect_google(
        app, store, google, provider, connection_status=CONNECTION_NEEDS_REAUTH
    )

    with connected.client as client:
        response = post_booking(client, provider)

    assert response.status_code == 201, response.text
    assert freebusy_requests(google) == 0
