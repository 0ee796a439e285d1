"""The stale rule on ``/slots`` and on booking: a dead or stale conflict calendar is never ignored.

The clock is pinned to Monday 2026-06-01 08:00 in Berlin; ``sync_stale_after`` is 30 minutes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bridge.booking.calendar_guard import CalendarGuard
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.sync_models import CONNECTION_ERROR, CONNECTION_NEEDS_REAUTH
from bridge.web import create_app
from bridge.web.routes.slots import get_calendar_guard
from tests.booking.calendar_helpers import FreeBusyOnly, add_calendar, set_synced
from tests.conftest import ProviderRef
from tests.web.conftest import booking_body, provider_url

pytestmark = pytest.mark.usefixtures("frozen_now")

TUESDAY = {"start": "2026-06-02", "end": "2026-06-02"}
TEN = "2026-06-02T10:00:00+02:00"
BASE = Settings(sync_stale_after=1800.0, free_busy_timeout=5.0)


@pytest.fixture(scope="module")
def apps(store: Store) -> dict[str, FastAPI]:
    """An app per policy; the live check answers "free" from a fake connector."""
    built = {}
    for policy in ("hide", "warn"):
        settings = dataclasses.replace(BASE, stale_calendar_policy=policy)
        app = create_app(settings, store)
        app.dependency_overrides[get_calendar_guard] = lambda settings=settings: CalendarGuard(
            settings, lambda _target: FreeBusyOnly()
        )
        built[policy] = app
    return built


@pytest.fixture
def hide(apps) -> Iterator[TestClient]:
    with TestClient(apps["hide"]) as client:
        yield client


@pytest.fixture
def warn(apps) -> Iterator[TestClient]:
    with TestClient(apps["warn"]) as client:
        yield client


def slots(client: TestClient, provider: ProviderRef) -> dict:
    response = client.get(
        provider_url(provider, "slots"), params={"service": provider.service_id, **TUESDAY}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_healthy_calendar_changes_nothing(hide, provider, store):
    add_calendar(store, provider.id, synced_ago=dt.timedelta(minutes=29))

    body = slots(hide, provider)

    assert body["warnings"] == []
    assert len(body["slots"]) == 16


PROBLEMS = {
    "needs_reauth": {"connection_status": CONNECTION_NEEDS_REAUTH},
    "connection_error": {"connection_status": CONNECTION_ERROR},
    "calendar_error": {"calendar_status": "error"},
    "never_synced": {"synced_ago": None},
    "stale": {"synced_ago": dt.timedelta(minutes=31)},
}


@pytest.mark.parametrize("problem", PROBLEMS.values(), ids=PROBLEMS.keys())
def test_under_hide_a_broken_or_stale_calendar_hides_every_slot_and_says_why(
    hide, provider, store, problem
):
    calendar = add_calendar(store, provider.id, name="Surgery rota", **problem)

    body = slots(hide, provider)

    assert body["slots"] == []
    (warning,) = body["warnings"]
    assert warning["code"] == "calendar_unavailable"
    assert "'Surgery rota'" in warning["message"]
    assert "no slots are offered" in warning["message"]
    # The public answer names the calendar, not the account it belongs to.
    assert calendar.account not in warning["message"]


@pytest.mark.parametrize("problem", PROBLEMS.values(), ids=PROBLEMS.keys())
def test_under_warn_slots_are_offered_with_the_warning(warn, provider, store, problem):
    add_calendar(store, provider.id, name="Surgery rota", **problem)

    body = slots(warn, provider)

    assert len(body["slots"]) == 16
    (warning,) = body["warnings"]
    assert warning["code"] == "calendar_unavailable"
    assert "'Surgery rota'" in warning["message"] and "may clash" in warning["message"]


def test_the_reason_is_in_the_warning(hide, provider, store):
    add_calendar(store, provider.id, name="Home", connection_status=CONNECTION_NEEDS_REAUTH)
    add_calendar(store, provider.id, name="Work", synced_ago=None)

    messages = sorted(w["message"] for w in slots(hide, provider)["warnings"])

    assert len(messages) == 2
    assert "'Home'" in messages[0] and "re-autho" in messages[0]
    assert "'Work'" in messages[1] and "not been synced yet" in messages[1]


def test_hidden_slots_return_once_the_calendar_syncs(hide, provider, store):
    calendar = add_calendar(store, provider.id, synced_ago=None)
    assert slots(hide, provider)["slots"] == []

    set_synced(store, calendar.id, dt.datetime(2026, 6, 1, 5, 59, tzinfo=dt.UTC))

    body = slots(hide, provider)
    assert body["warnings"] == [] and len(body["slots"]) == 16


def test_calendars_that_do_not_check_conflicts_do_not_count(hide, provider, store):
    add_calendar(store, provider.id, check_conflicts=False, synced_ago=None)
    add_calendar(store, provider.id, check_conflicts=False, connection_status=CONNECTION_ERROR)

    body = slots(hide, provider)

    assert body["warnings"] == [] and len(body["slots"]) == 16


def test_another_providers_calendar_does_not_count(hide, provider, store):
    from tests.conftest import new_provider

    other = new_provider(store)
    add_calendar(store, other.id, synced_ago=None)

    assert slots(hide, provider)["warnings"] == []


def test_under_hide_booking_is_refused_with_calendar_unavailable(hide, provider, store):
    add_calendar(store, provider.id, name="Work", connection_status=CONNECTION_NEEDS_REAUTH)

    response = hide.post(
        provider_url(provider, "bookings"), json=booking_body(provider.service_id, TEN)
    )

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "calendar_unavailable"
    assert "'Work'" in error["message"]


def test_under_warn_booking_goes_ahead(warn, provider, store):
    add_calendar(store, provider.id, name="Work", connection_status=CONNECTION_NEEDS_REAUTH)

    response = warn.post(
        provider_url(provider, "bookings"), json=booking_body(provider.service_id, TEN)
    )

    assert response.status_code == 201, response.text


def test_a_taken_slot_is_still_409_whatever_the_calendars(hide, provider, store):
    first = hide.post(
        provider_url(provider, "bookings"), json=booking_body(provider.service_id, TEN)
    )
    assert first.status_code == 201
    add_calendar(store, provider.id, synced_ago=None)

    again = hide.post(
        provider_url(provider, "bookings"), json=booking_body(provider.service_id, TEN)
    )

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "slot_unavailable"


def test_under_hide_a_client_cannot_move_but_the_provider_can(hide, provider, store, provider_auth):
    booked = hide.post(
        provider_url(provider, "bookings"), json=booking_body(provider.service_id, TEN)
    )
    assert booked.status_code == 201
    booking = booked.json()
    add_calendar(store, provider.id, synced_ago=None)
    url = provider_url(provider, "bookings", booking["id"], "reschedule")

    by_client = hide.post(
        url,
        json={"start": "2026-06-02T11:00:00+02:00"},
        headers={"Authorization": f"Bearer {booking['manage_token']}"},
    )
    by_provider = hide.post(url, json={"start": "2026-06-02T11:00:00+02:00"}, headers=provider_auth)

    assert by_client.status_code == 503
    assert by_client.json()["error"]["code"] == "calendar_unavailable"
    assert by_provider.status_code == 200, by_provider.text


def test_cancelling_is_never_paused(hide, provider, store):
    booked = hide.post(
        provider_url(provider, "bookings"), json=booking_body(provider.service_id, TEN)
    )
    booking = booked.json()
    add_calendar(store, provider.id, synced_ago=None)

    response = hide.post(
        provider_url(provider, "bookings", booking["id"], "cancel"),
        headers={"Authorization": f"Bearer {booking['manage_token']}"},
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
