"""End to end, busy time: personal events in the remote calendar block exactly the right slots,
reach the booking page by push (no poll in this module: the poll interval is an hour), and a
lost cursor resyncs without duplicates."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bridge.booking import providers
from bridge.store.models import BusyInterval
from tests.e2e.conftest import (
    SYNC_TIMEOUT,
    Api,
    Connected,
    Server,
    at,
    connect_new_provider,
    next_weekday,
)
from tests.fakes.google import FakeGoogle
from tests.waiting import wait_until

HOUR = dt.timedelta(hours=1)
HALF_HOUR = dt.timedelta(minutes=30)


@pytest.fixture
def linked(api: Api, fake: FakeGoogle) -> Connected:
    return connect_new_provider(api, fake)


def offered(linked: Connected, moment: dt.datetime) -> bool:
    return moment in linked.slots(moment.date())


def wait_blocked(linked: Connected, *moments: dt.datetime) -> None:
    wait_until(
        lambda: not any(offered(linked, m) for m in moments),
        SYNC_TIMEOUT,
        f"{', '.join(m.isoformat() for m in moments)} to be blocked",
    )


def busy_rows(server: Server, slug: str) -> int:
    store = server.store()
    try:
        with store.read() as session:
            provider = providers.get_provider(session, slug)
            count = session.scalar(
                select(func.count())
                .select_from(BusyInterval)
                .where(BusyInterval.provider_id == provider.id)
            )
    finally:
        store.dispose()
    return int(count or 0)


def test_a_personal_event_blocks_its_slots_by_push_without_a_poll(linked):
    day = next_weekday()
    assert offered(linked, at(day, 10)) and offered(linked, at(day, 10, 30))
    synced = dt.datetime.fromisoformat(linked.status()["last_synced_at"])

    linked.remote.create_event(at(day, 10), at(day, 11))
    linked.remote.settle()  # the push notification went out

    # The poll interval is an hour and nothing else asks for a pull: only the push can.
    wait_blocked(linked, at(day, 10), at(day, 10, 30))
    free = linked.slots(day)
    assert at(day, 9, 30) in free and at(day, 11) in free
    assert dt.datetime.fromisoformat(linked.status()["last_synced_at"]) > synced


def test_moving_and_deleting_a_personal_event_frees_its_old_time(linked):
    day = next_weekday()
    event = linked.remote.create_event(at(day, 13), at(day, 14))
    wait_blocked(linked, at(day, 13))

    linked.remote.move_event(event, at(day, 15), at(day, 16))
    wait_blocked(linked, at(day, 15))
    assert offered(linked, at(day, 13))

    linked.remote.delete_event(event)
    wait_until(lambda: offered(linked, at(day, 15)), SYNC_TIMEOUT, "15:00 to be free again")


def test_a_weekly_event_blocks_every_week_but_its_moved_occurrence(linked):
    first = next_weekday(7)
    weeks = [first + dt.timedelta(weeks=n) for n in range(3)]
    event = linked.remote.create_event(at(first, 10), at(first, 11), weekly_count=3)
    wait_blocked(linked, *(at(day, 10) for day in weeks))

    linked.remote.move_occurrence(event, at(weeks[1], 10), at(weeks[1], 14), at(weeks[1], 15))

    wait_until(lambda: offered(linked, at(weeks[1], 10)), SYNC_TIMEOUT, "the moved week free")
    wait_blocked(linked, at(weeks[1], 14))
    assert not offered(linked, at(weeks[0], 10)) and not offered(linked, at(weeks[2], 10))
    after = weeks[2] + dt.timedelta(weeks=1)
    assert offered(linked, at(after, 10))  # the series has three occurrences


def test_an_all_day_event_blocks_the_whole_day(linked):
    day = next_weekday(8)
    other = day + dt.timedelta(days=3 if day.weekday() == 4 else 1)  # the next weekday
    assert linked.slots(day)

    linked.remote.create_event(day, day + dt.timedelta(days=1))

    wait_until(lambda: linked.slots(day) == [], SYNC_TIMEOUT, "the day to be blocked")
    assert linked.slots(other)


def test_a_transparent_event_blocks_nothing(linked):
    day = next_weekday(9)
    linked.remote.create_event(at(day, 9), at(day, 12), transparent=True)
    linked.remote.create_event(at(day, 12), at(day, 13))  # opaque, after it: proves the pull ran

    wait_blocked(linked, at(day, 12))
    free = linked.slots(day)
    assert at(day, 9) in free and at(day, 11, 30) in free


def test_an_expired_cursor_resyncs_everything_with_no_duplicate_busy_time(linked, server):
    day = next_weekday(10)
    linked.remote.create_event(at(day, 9), at(day, 10))
    linked.remote.create_event(at(day, 14), at(day, 16))
    wait_blocked(linked, at(day, 9), at(day, 14), at(day, 15, 30))
    rows = busy_rows(server, linked.slug)

    linked.remote.expire_cursor()
    result = server.cli("sync", "run", "--provider", linked.slug)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "full pull" in result.stdout, result.stdout  # the 410 made it start over
    linked.remote.create_event(at(day, 11), at(day, 12))  # a change after the resync
    wait_blocked(linked, at(day, 11))
    assert busy_rows(server, linked.slug) == rows + 1
    assert not offered(linked, at(day, 9)) and not offered(linked, at(day, 15, 30))
