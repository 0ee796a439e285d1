"""End to end, when things go wrong: revoked access, a write whose answer was lost.

The server of this module offers slots of a broken conflict calendar with a warning
(``stale_calendar_policy = warn``), so bookings go on while an account needs re-authorisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import (
    SYNC_TIMEOUT,
    Api,
    Connected,
    Servers,
    at,
    connect_new_provider,
    make_servers,
    next_weekday,
)
from tests.fakes.google import FakeGoogle
from tests.waiting import wait_until

HALF_HOUR = dt.timedelta(minutes=30)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, fake: FakeGoogle) -> Iterator[Servers]:
    yield from make_servers(tmp_path_factory, fake, BRIDGE_STALE_CALENDAR_POLICY="warn")


@pytest.fixture
def linked(api: Api, fake: FakeGoogle) -> Connected:
    return connect_new_provider(api, fake)


def one_event_at(linked: Connected, uid: str, start: dt.datetime) -> bool:
    found = linked.remote.mirrors_of(uid)
    return [(m.start, m.end) for m in found] == [(start, start + HALF_HOUR)]


def test_revoked_access_shows_needs_reauth_and_nothing_else_breaks(linked, api, fake):
    day = next_weekday(11)
    neighbour = connect_new_provider(api, fake)
    linked.remote.revoke_access()

    asked = api.http.post(linked.path("calendars", linked.calendar_id, "sync"))
    assert asked.status_code == 202, asked.text
    wait_until(lambda: linked.status()["state"] == "needs_reauth", SYNC_TIMEOUT, "needs_reauth")

    status = linked.status()
    assert status["reason"] and "Traceback" not in status["reason"]
    slots = api.ok("GET", linked.path("slots"), params={"service": linked.service_id})
    assert slots["slots"] and any(w["code"] == "calendar_unavailable" for w in slots["warnings"])
    booking = linked.book(at(day, 10))  # bookings still work; the write waits for the account
    assert booking["status"] == "confirmed"
    other = neighbour.book(at(day, 10))  # and other accounts sync as before
    wait_until(lambda: one_event_at(neighbour, other["uid"], at(day, 10)), SYNC_TIMEOUT, "it")
    assert linked.status()["state"] == "needs_reauth"
    assert linked.remote.mirrors_of(booking["uid"]) == []

    connection_id = api.ok("GET", linked.path("connections"))["connections"][0]["id"]
    consent = api.ok(
        "POST", linked.path("connections", "google"), json={"reconnect": connection_id}
    )["consent_url"]
    page = linked.remote.approve_consent(consent)

    assert page.status_code == 200 and f"Connected {linked.remote.account}" in page.text
    wait_until(lambda: linked.status()["state"] == "ok", SYNC_TIMEOUT, "the state to be ok")
    wait_until(
        lambda: one_event_at(linked, booking["uid"], at(day, 10)),
        SYNC_TIMEOUT,
        "the waiting booking to reach Google after reconnecting",
    )


def test_a_write_whose_answer_was_lost_leaves_exactly_one_event(linked, fake):
    start = at(next_weekday(12), 11)
    lost = linked.remote.fail_writes(lost_answer=True)

    booking = linked.book(start)

    wait_until(lambda: lost.hits == 1, SYNC_TIMEOUT, "the first write (its answer lost)")
    wait_until(lambda: linked.status()["pending_writes"] == 0, SYNC_TIMEOUT, "the retry")
    assert one_event_at(linked, booking["uid"], start)
    inserts = [
        r
        for r in fake.requests
        if r.method == "POST" and r.path.endswith("/events") and booking["uid"] in r.body
    ]
    assert len(inserts) >= 2  # the lost one and the retry that found it


def test_a_failing_write_is_retried_until_it_succeeds(linked):
    start = at(next_weekday(12), 14)
    failing = linked.remote.fail_writes(times=2)

    booking = linked.book(start)

    wait_until(lambda: one_event_at(linked, booking["uid"], start), SYNC_TIMEOUT, "the event")
    assert failing.hits == 2
    status = linked.status()
    assert status["pending_writes"] == 0 and status["failed_writes"] == 0
