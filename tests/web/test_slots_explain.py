"""``GET /providers/{slug}/slots/explain``: who may ask, what it says, and that it agrees with
``/slots``.

The clock is pinned to Monday 2026-06-01 08:00 in Berlin (see ``tests/conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from bridge.booking import schedule
from bridge.store.sync_models import CONNECTION_NEEDS_REAUTH
from tests.booking.calendar_helpers import add_busy, add_calendar
from tests.booking.helpers import book, local, update_service
from tests.conftest import new_provider
from tests.web.conftest import bearer, issue_token, provider_url, slot_starts

pytestmark = pytest.mark.usefixtures("frozen_now")

TUESDAY = dt.date(2026, 6, 2)
ON_TUESDAY = {"start": "2026-06-02", "end": "2026-06-02"}


def explain(client, provider, headers, **params):
    params.setdefault("service", provider.service_id)
    return client.get(provider_url(provider, "slots", "explain"), params=params, headers=headers)


def test_needs_the_providers_or_an_admin_token(client, store, provider, provider_auth, admin_auth):
    other = new_provider(store)
    booking = client.post(
        provider_url(provider, "bookings"),
        json={
            "service": provider.service_id,
            "start": "2026-06-02T10:00:00+02:00",
            "client": {"name": "Ada", "email": "ada@example.org"},
        },
    ).json()

    assert explain(client, provider, {}).status_code == 401
    assert explain(client, provider, bearer(issue_token(store, other))).status_code == 404
    assert explain(client, provider, bearer(booking["manage_token"])).status_code == 403
    assert explain(client, provider, provider_auth).status_code == 200
    assert explain(client, provider, admin_auth).status_code == 200


def test_lists_each_reason_with_what_blocks_and_never_an_event(
    client, store, provider, provider_auth
):
    booked = book(store, provider, local(provider, TUESDAY, 10)).booking
    with store.write() as session:
        block_id = schedule.add_blocked_time(
            session, provider.id, local(provider, TUESDAY, 12), local(provider, TUESDAY, 12, 30)
        ).id
    work = add_calendar(store, provider.id, name="Work", account="dr.test@example.org")
    add_busy(
        store, provider.id, work.id, local(provider, TUESDAY, 14), local(provider, TUESDAY, 15)
    )

    response = explain(client, provider, provider_auth, **ON_TUESDAY)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["service"] == provider.service_id and body["time_zone"] == "Europe/Berlin"
    by_start = {s["start"]: s for s in body["slots"]}
    assert len(by_start) == 16
    assert by_start["2026-06-02T09:00:00+02:00"] == {
        "start": "2026-06-02T09:00:00+02:00",
        "end": "2026-06-02T09:30:00+02:00",
        "free": True,
        "reasons": [],
    }
    (taken,) = by_start["2026-06-02T10:00:00+02:00"]["reasons"]
    assert taken["code"] == "booking" and taken["booking_id"] == booked.id
    assert (taken["start"], taken["end"]) == (
        "2026-06-02T10:00:00+02:00",
        "2026-06-02T10:30:00+02:00",
    )
    (blocked,) = by_start["2026-06-02T12:00:00+02:00"]["reasons"]
    assert blocked["code"] == "blocked_time" and blocked["blocked_time_id"] == block_id
    (busy,) = by_start["2026-06-02T14:30:00+02:00"]["reasons"]
    assert busy["code"] == "busy"
    assert busy["calendar"] == {"id": work.id, "name": "Work", "account": "dr.test@example.org"}
    assert set(busy) == {"code", "message", "calendar", "start", "end"}
    assert not by_start["2026-06-02T14:30:00+02:00"]["free"]


def test_times_render_in_the_requested_zone(client, provider, provider_auth):
    body = explain(client, provider, provider_auth, tz="Asia/Tokyo", **ON_TUESDAY).json()

    assert body["time_zone"] == "Asia/Tokyo"
    assert body["slots"][0]["start"] == "2026-06-02T16:00:00+09:00"


def test_working_hours_day_off_notice_and_horizon(client, store, provider, provider_auth):
    update_service(store, provider, horizon_days=3, duration_minutes=45, slot_step_minutes=15)
    with store.write() as session:
        schedule.add_override(
            session,
            provider.id,
            dt.date(2026, 6, 3),
            available=False,
            start_minute=None,
            end_minute=None,
        )

    body = explain(client, provider, provider_auth, start="2026-06-01", end="2026-06-04").json()

    codes = {s["start"]: [r["code"] for r in s["reasons"]] for s in body["slots"]}
    assert codes["2026-06-01T09:00:00+02:00"] == ["min_notice"]
    assert codes["2026-06-01T16:30:00+02:00"] == ["outside_working_hours"]
    assert codes["2026-06-03T09:00:00+02:00"] == ["date_override"]
    assert codes["2026-06-04T09:00:00+02:00"] == ["beyond_horizon"]
    assert [w["code"] for w in body["warnings"]] == ["beyond_horizon"]


def test_unknown_service_is_a_validation_error(client, provider, provider_auth):
    response = explain(client, provider, provider_auth, service=999_999)

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"service": "no service 999999 for this provider"}


@pytest.mark.parametrize("seed", range(3))
def test_free_exactly_when_slots_offers_it(client, store, provider_auth, seed, provider):
    rng = random.Random(seed)
    update_service(
        store,
        provider,
        duration_minutes=rng.choice([20, 30, 50]),
        slot_step_minutes=rng.choice([10, 15, 30]),
        buffer_before_minutes=rng.choice([0, 10]),
        buffer_after_minutes=rng.choice([0, 15]),
    )
    calendar = add_calendar(store, provider.id)
    for _ in range(12):
        start = local(provider, TUESDAY, rng.randrange(8, 17), rng.randrange(0, 60, 5))
        add_busy(
            store, provider.id, calendar.id, start, start + dt.timedelta(minutes=rng.randint(5, 90))
        )
    window = {"start": "2026-06-01", "end": "2026-06-05"}

    explained = explain(client, provider, provider_auth, **window).json()["slots"]

    assert [s["start"] for s in explained if s["free"]] == slot_starts(client, provider, **window)
    assert any(not s["free"] for s in explained) and any(s["free"] for s in explained)


def test_a_hidden_calendar_is_a_reason_on_every_slot(client, store, provider, provider_auth):
    add_calendar(store, provider.id, name="Work", connection_status=CONNECTION_NEEDS_REAUTH)

    body = explain(client, provider, provider_auth, **ON_TUESDAY).json()

    assert slot_starts(client, provider, **ON_TUESDAY) == []
    assert body["slots"] and not any(s["free"] for s in body["slots"])
    for slot in body["slots"]:
        (reason,) = slot["reasons"]
        assert reason["code"] == "calendar_unavailable"
        assert reason["calendar"]["name"] == "Work"
    (warning,) = body["warnings"]
    assert warning["code"] == "calendar_unavailable" and "Work" in warning["message"]
