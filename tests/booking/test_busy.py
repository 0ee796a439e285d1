"""Imported busy time: stored in day-long pieces, replaced per remote event, blocking slots."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from bridge.availability import Interval
from bridge.booking import busy
from bridge.errors import ValidationFailed
from bridge.store.models import BusyInterval
from tests.booking.helpers import TUESDAY, local, offered

DAY = dt.timedelta(days=1)
WORKDAY = [f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)]


def stored_rows(store, provider_id: int) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).where(BusyInterval.provider_id == provider_id))


def test_a_long_interval_is_split_into_pieces_of_at_most_a_day():
    start = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    parts = busy.pieces(Interval(start, start + 2 * DAY + dt.timedelta(hours=3)))
    assert parts == [
        Interval(start, start + DAY),
        Interval(start + DAY, start + 2 * DAY),
        Interval(start + 2 * DAY, start + 2 * DAY + dt.timedelta(hours=3)),
    ]


def test_naive_busy_time_is_refused():
    with pytest.raises(ValidationFailed):
        busy.pieces(Interval(dt.datetime(2026, 6, 1), dt.datetime(2026, 6, 2)))


@pytest.mark.usefixtures("frozen_now")
def test_a_three_day_holiday_blocks_every_slot_of_the_three_days(store, provider):
    holiday = Interval(local(provider, TUESDAY, 0), local(provider, TUESDAY + 3 * DAY, 0))
    with store.write() as session:
        stored = busy.replace_remote_busy(session, provider.id, "google:work", "ev1", [holiday])
    assert stored == 3
    for day in (TUESDAY, TUESDAY + DAY, TUESDAY + 2 * DAY):
        assert offered(store, provider, day) == []
    assert offered(store, provider, TUESDAY + 3 * DAY) == WORKDAY


@pytest.mark.usefixtures("frozen_now")
def test_replacing_an_events_busy_time_frees_its_old_time(store, provider):
    with store.write() as session:
        busy.replace_remote_busy(
            session,
            provider.id,
            "google:work",
            "ev1",
            [Interval(local(provider, TUESDAY, 9), local(provider, TUESDAY, 10))],
        )
    assert offered(store, provider, TUESDAY)[:2] == ["10:00", "10:30"]
    with store.write() as session:
        busy.replace_remote_busy(
            session,
            provider.id,
            "google:work",
            "ev1",
            [Interval(local(provider, TUESDAY, 16), local(provider, TUESDAY, 17))],
        )
    assert offered(store, provider, TUESDAY) == WORKDAY[:-2]
    assert stored_rows(store, provider.id) == 1
    with store.write() as session:
        busy.replace_remote_busy(session, provider.id, "google:work", "ev1", [])
    assert offered(store, provider, TUESDAY) == WORKDAY


def test_the_database_refuses_a_busy_row_longer_than_a_day(store, provider):
    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    row = {
        "provider_id": provider.id,
        "source": "test",
        "remote_id": "too-long",
        "start_at": start,
        "end_at": start + DAY + dt.timedelta(seconds=1),
        "imported_at": start,
    }
    with pytest.raises(IntegrityError), store.write() as session:
        session.execute(insert(BusyInterval), [row])
    row["end_at"] = start + DAY
    with store.write() as session:
        session.execute(insert(BusyInterval), [row])
    assert stored_rows(store, provider.id) == 1
