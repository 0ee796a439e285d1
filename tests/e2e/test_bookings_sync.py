"""End to end, bookings both ways: booked, moved and cancelled through the API they follow in
the remote calendar; moved or deleted there, the booking follows."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.e2e.conftest import (
    SYNC_TIMEOUT,
    Api,
    Connected,
    at,
    connect_new_provider,
    next_weekday,
)
from tests.fakes.google import FakeGoogle
from tests.waiting import wait_until

HALF_HOUR = dt.timedelta(minutes=30)


@pytest.fixture
def linked(api: Api, fake: FakeGoogle) -> Connected:
    return connect_new_provider(api, fake)


def mirror_at(linked: Connected, uid: str, start: dt.datetime) -> bool:
    found = linked.remote.mirrors_of(uid)
    return len(found) == 1 and found[0].start == start and found[0].end == start + HALF_HOUR


def test_a_booking_appears_in_google_and_follows_its_moves_and_cancellation(linked):
    day = next_weekday()
    first, later = at(day, 10), at(day, 14)

    booking = linked.book(first)
    uid, manage = booking["uid"], {"Authorization": f"Bearer {booking['manage_token']}"}
    wait_until(lambda: mirror_at(linked, uid, first), SYNC_TIMEOUT, "the booking's event")

    moved = linked.api.http.post(
        linked.path("bookings", booking["id"], "reschedule"),
        json={"start": later.isoformat()},
        headers=manage,
    )
    assert moved.status_code == 200, moved.text
    wait_until(lambda: mirror_at(linked, uid, later), SYNC_TIMEOUT, "the event to move")

    cancelled = linked.api.http.post(
        linked.path("bookings", booking["id"], "cancel"), headers=manage
    )
    assert cancelled.status_code == 200, cancelled.text
    wait_until(lambda: linked.remote.mirrors_of(uid) == [], SYNC_TIMEOUT, "the event to go")
    assert linked.status()["pending_writes"] == 0


def test_a_cancelled_booking_leaves_google(linked):
    start = at(next_weekday(), 12)
    booking = linked.book(start)
    wait_until(lambda: mirror_at(linked, booking["uid"], start), SYNC_TIMEOUT, "the event")

    cancelled = linked.api.ok("POST", linked.path("bookings", booking["id"], "cancel"))

    assert cancelled["status"] == "cancelled"
    wait_until(
        lambda: linked.remote.mirrors_of(booking["uid"]) == [], SYNC_TIMEOUT, "the event to go"
    )


def test_deleting_the_booked_event_in_google_cancels_the_booking(linked):
    start = at(next_weekday(), 11)
    booking = linked.book(start)
    wait_until(lambda: mirror_at(linked, booking["uid"], start), SYNC_TIMEOUT, "the event")

    linked.remote.delete_mirror(booking["uid"])

    wait_until(
        lambda: linked.booking(booking["id"])["status"] == "cancelled",
        SYNC_TIMEOUT,
        "the booking to be cancelled",
    )
    assert start in linked.slots(start.date())  # the slot is free again
    history = linked.api.ok("GET", linked.path("bookings", booking["id"], "history"))
    assert history["changes"][-1]["action"] == "cancelled"


def test_moving_the_booked_event_in_google_reschedules_the_booking(linked):
    day = next_weekday()
    start, moved_to = at(day, 9), at(day, 15, 30)
    booking = linked.book(start)
    wait_until(lambda: mirror_at(linked, booking["uid"], start), SYNC_TIMEOUT, "the event")

    linked.remote.move_mirror(booking["uid"], moved_to, moved_to + HALF_HOUR)

    def rescheduled() -> bool:
        current = linked.booking(booking["id"])
        return dt.datetime.fromisoformat(current["start"]) == moved_to

    wait_until(rescheduled, SYNC_TIMEOUT, "the booking to move")
    assert linked.booking(booking["id"])["status"] == "confirmed"
    free = linked.slots(day)
    assert start in free and moved_to not in free
    assert len(linked.remote.mirrors_of(booking["uid"])) == 1  # no echo, no second event


def test_the_consent_callback_keeps_its_code_and_state_out_of_the_log(api, fake, server):
    linked = connect_new_provider(api, fake)
    consent = api.ok("POST", linked.path("connections", "google"))["consent_url"]

    page = linked.remote.approve_consent(consent)

    assert page.status_code == 200
    (redirect,) = page.history
    callback = httpx.URL(redirect.headers["location"])
    code, state = callback.params["code"], callback.params["state"]
    wait_until(
        lambda: "/oauth/google/callback?" in server.log(), SYNC_TIMEOUT, "the access log line"
    )
    log = server.log()
    assert code not in log and state not in log
    assert "code=<redacted>" in log and "state=<redacted>" in log
