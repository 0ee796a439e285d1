"""Weekly hours, date overrides and blocked times, and what they do to the offered slots."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge.availability import Interval, WeeklyHours
from bridge.booking import schedule
from bridge.errors import NotFound, ValidationFailed
from tests.booking.helpers import TUESDAY, local, offered
from tests.conftest import new_provider

pytestmark = pytest.mark.usefixtures("frozen_now")

H = 60


def weekly(store, ref) -> list[WeeklyHours]:
    with store.read() as session:
        return schedule.get_weekly_hours(session, ref.id)


def set_weekly(store, ref, hours) -> list[WeeklyHours]:
    with store.write() as session:
        return schedule.set_weekly_hours(session, ref.id, hours)


# --- Weekly hours ---------------------------------------------------------------------------


def test_setting_weekly_hours_replaces_the_old_ones(store, provider):
    assert weekly(store, provider) == [WeeklyHours(d, 9 * H, 17 * H) for d in range(5)]
    set_weekly(store, provider, [WeeklyHours(1, 10 * H, 12 * H)])
    assert weekly(store, provider) == [WeeklyHours(1, 10 * H, 12 * H)]
    assert offered(store, provider, TUESDAY) == ["10:00", "10:30", "11:00", "11:30"]
    assert offered(store, provider, TUESDAY + dt.timedelta(days=1)) == []


def test_overlapping_and_touching_periods_of_a_day_are_merged(store, provider):
    merged = set_weekly(
        store,
        provider,
        [
            WeeklyHours(0, 11 * H, 14 * H),
            WeeklyHours(2, 9 * H, 10 * H),
            WeeklyHours(0, 9 * H, 12 * H),
            WeeklyHours(0, 14 * H, 15 * H),
            WeeklyHours(0, 16 * H, 1440),
            WeeklyHours(1, 0, 1 * H),
        ],
    )
    expected = [
        WeeklyHours(0, 9 * H, 15 * H),
        WeeklyHours(0, 16 * H, 1440),
        WeeklyHours(1, 0, 1 * H),
        WeeklyHours(2, 9 * H, 10 * H),
    ]
    assert merged == expected
    assert weekly(store, provider) == expected


def test_an_empty_week_means_no_slots(store, provider):
    set_weekly(store, provider, [])
    assert weekly(store, provider) == []
    assert offered(store, provider, TUESDAY) == []


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        pytest.param(WeeklyHours(7, 9 * H, 10 * H), "hours[1].weekday", id="weekday-7"),
        pytest.param(WeeklyHours(-1, 9 * H, 10 * H), "hours[1].weekday", id="weekday-minus-1"),
        pytest.param(WeeklyHours(1, 10 * H, 10 * H), "hours[1]", id="empty"),
        pytest.param(WeeklyHours(1, 11 * H, 10 * H), "hours[1]", id="reversed"),
        pytest.param(WeeklyHours(1, -5, 10 * H), "hours[1]", id="negative-start"),
        pytest.param(WeeklyHours(1, 9 * H, 1441), "hours[1]", id="after-24-00"),
    ],
)
def test_bad_weekly_hours_are_refused_and_change_nothing(store, provider, hours, field):
    with pytest.raises(ValidationFailed) as failure:
        set_weekly(store, provider, [WeeklyHours(0, 9 * H, 10 * H), hours])
    assert set(failure.value.fields) == {field}
    assert len(weekly(store, provider)) == 5


def test_weekly_hours_are_per_provider(store, provider):
    other = new_provider(store)
    set_weekly(store, provider, [])
    assert len(weekly(store, other)) == 5


# --- Date overrides -------------------------------------------------------------------------


def add_override(store, ref, day, *, available, start=None, end=None):
    with store.write() as session:
        return schedule.add_override(
            session, ref.id, day, available=available, start_minute=start, end_minute=end
        )


def test_a_day_off_empties_that_date_only(store, provider):
    add_override(store, provider, TUESDAY, available=False)
    assert offered(store, provider, TUESDAY) == []
    assert len(offered(store, provider, TUESDAY + dt.timedelta(days=1))) == 16


def test_hours_off_and_extra_hours_change_that_date(store, provider):
    add_override(store, provider, TUESDAY, available=False, start=10 * H, end=16 * H)
    add_override(store, provider, TUESDAY, available=True, start=18 * H, end=19 * H)
    assert offered(store, provider, TUESDAY) == [
        "09:00",
        "09:30",
        "16:00",
        "16:30",
        "18:00",
        "18:30",
    ]


def test_extra_hours_make_a_weekend_day_bookable(store, provider):
    saturday = TUESDAY + dt.timedelta(days=4)
    assert offered(store, provider, saturday) == []
    add_override(store, provider, saturday, available=True, start=10 * H, end=11 * H)
    assert offered(store, provider, saturday) == ["10:00", "10:30"]


def test_overrides_are_listed_by_date_and_can_be_deleted(store, provider):
    later = add_override(store, provider, TUESDAY + dt.timedelta(days=7), available=False)
    first = add_override(store, provider, TUESDAY, available=True, start=18 * H, end=19 * H)
    with store.read() as session:
        assert [o.id for o in schedule.list_overrides(session, provider.id)] == [first.id, later.id]
        assert [o.id for o in schedule.list_overrides(session, provider.id, last=TUESDAY)] == [
            first.id
        ]
        assert [
            o.id for o in schedule.list_overrides(session, provider.id, first=TUESDAY, last=TUESDAY)
        ] == [first.id]
    with store.write() as session:
        schedule.delete_override(session, provider.id, first.id)
    assert "18:00" not in offered(store, provider, TUESDAY)


def test_an_override_of_another_provider_cannot_be_deleted(store, provider):
    other = new_provider(store)
    theirs = add_override(store, other, TUESDAY, available=False)
    with pytest.raises(NotFound), store.write() as session:
        schedule.delete_override(session, provider.id, theirs.id)


@pytest.mark.parametrize(
    ("available", "start", "end", "field"),
    [
        pytest.param(True, None, None, "start", id="extra-hours-without-times"),
        pytest.param(False, 9 * H, None, "end", id="start-without-end"),
        pytest.param(True, None, 10 * H, "end", id="end-without-start"),
        pytest.param(False, 10 * H, 9 * H, "start", id="reversed"),
        pytest.param(True, 9 * H, 1500, "start", id="after-24-00"),
    ],
)
def test_bad_overrides_are_refused(store, provider, available, start, end, field):
    with pytest.raises(ValidationFailed) as failure:
        add_override(store, provider, TUESDAY, available=available, start=start, end=end)
    assert set(failure.value.fields) == {field}
    with store.read() as session:
        assert schedule.list_overrides(session, provider.id) == []


# --- Blocked times --------------------------------------------------------------------------


def test_blocked_times_are_stored_listed_and_deleted(store, provider):
    start, end = local(provider, TUESDAY, 12), local(provider, TUESDAY, 13)
    with store.write() as session:
        block = schedule.add_blocked_time(session, provider.id, start, end, summary="  Lunch ")
    assert "12:00" not in offered(store, provider, TUESDAY)
    with store.read() as session:
        (listed,) = schedule.list_blocked_times(session, provider.id, Interval(start, end))
        assert (listed.start_at, listed.end_at, listed.summary) == (start, end, "Lunch")
        later = Interval(end, end + dt.timedelta(hours=1))
        assert schedule.list_blocked_times(session, provider.id, later) == []
    with store.write() as session:
        schedule.delete_blocked_time(session, provider.id, block.id)
    assert "12:00" in offered(store, provider, TUESDAY)


def test_a_blocked_time_of_another_provider_cannot_be_deleted(store, provider):
    other = new_provider(store)
    with store.write() as session:
        theirs = schedule.add_blocked_time(
            session, other.id, local(other, TUESDAY, 12), local(other, TUESDAY, 13)
        )
    with pytest.raises(NotFound), store.write() as session:
        schedule.delete_blocked_time(session, provider.id, theirs.id)


@pytest.mark.parametrize(
    ("start", "end", "summary", "field"),
    [
        pytest.param(
            dt.datetime(2026, 6, 2, 12), dt.datetime(2026, 6, 2, 13), None, "start", id="naive"
        ),
        pytest.param(
            dt.datetime(2026, 6, 2, 13, tzinfo=dt.UTC),
            dt.datetime(2026, 6, 2, 13, tzinfo=dt.UTC),
            None,
            "end",
            id="empty",
        ),
        pytest.param(
            dt.datetime(2026, 6, 2, 14, tzinfo=dt.UTC),
            dt.datetime(2026, 6, 2, 13, tzinfo=dt.UTC),
            None,
            "end",
            id="reversed",
        ),
        pytest.param(
            dt.datetime(2026, 6, 2, tzinfo=dt.UTC),
            dt.datetime(2027, 6, 4, tzinfo=dt.UTC),
            None,
            "end",
            id="longer-than-366-days",
        ),
        pytest.param(
            dt.datetime(2026, 6, 2, 12, tzinfo=dt.UTC),
            dt.datetime(2026, 6, 2, 13, tzinfo=dt.UTC),
            "x" * 501,
            "summary",
            id="summary-too-long",
        ),
    ],
)
def test_bad_blocked_times_are_refused(store, provider, start, end, summary, field):
    with pytest.raises(ValidationFailed) as failure, store.write() as session:
        schedule.add_blocked_time(session, provider.id, start, end, summary=summary)
    assert set(failure.value.fields) == {field}
    with store.read() as session:
        assert schedule.list_blocked_times(session, provider.id) == []


def test_a_blocked_time_of_exactly_366_days_is_accepted(store, provider):
    start = dt.datetime(2026, 6, 2, tzinfo=dt.UTC)
    with store.write() as session:
        schedule.add_blocked_time(session, provider.id, start, start + dt.timedelta(days=366))
    assert offered(store, provider, TUESDAY) == []
