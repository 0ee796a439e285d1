"""Series expansion, and series that keep blocking as time passes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bridge.store import Store
from bridge.sync.engine import SyncEngine
from bridge.sync.recurrence import MAX_OCCURRENCES, RecurrenceError, expand, occurrence_key
from tests.sync.conftest import Clock, Linked
from tests.sync.helpers import TUESDAY, busy_of, local

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = (dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 5, 1, tzinfo=UTC))


def _starts(occurrences) -> list[str]:
    return [o.key for o in occurrences]


def test_occurrence_keys_are_utc_or_dates() -> None:
    assert occurrence_key(dt.datetime(2026, 3, 2, 9, tzinfo=BERLIN)) == "20260302T080000Z"
    assert occurrence_key(dt.datetime(2026, 3, 2, 9)) == "20260302T090000Z"
    assert occurrence_key(dt.date(2026, 3, 2)) == "20260302"


def test_a_weekly_series_keeps_its_local_time_across_dst() -> None:
    start = dt.datetime(2026, 3, 23, 9, tzinfo=BERLIN)

    found = expand(
        start,
        start + dt.timedelta(hours=1),
        ["RRULE:FREQ=WEEKLY;COUNT=2"],
        "Europe/Berlin",
        *WINDOW,
    )

    assert [o.start.astimezone(BERLIN).hour for o in found] == [9, 9]
    assert _starts(found) == ["20260323T080000Z", "20260330T070000Z"]
    assert all(o.end - o.start == dt.timedelta(hours=1) for o in found)


def test_exdate_rdate_and_until_are_honoured() -> None:
    start = dt.datetime(2026, 3, 2, 9, tzinfo=BERLIN)
    lines = [
        "RRULE:FREQ=WEEKLY;UNTIL=20260324T000000Z",
        "EXDATE;TZID=Europe/Berlin:20260309T090000",
        "RDATE:20260304T110000Z",
    ]

    found = expand(start, start + dt.timedelta(hours=1), lines, "Europe/Berlin", *WINDOW)

    assert _starts(found) == [
        "20260302T080000Z",
        "20260304T110000Z",
        "20260316T080000Z",
        "20260323T080000Z",
    ]


def test_only_the_window_is_expanded() -> None:
    start = dt.datetime(2020, 1, 6, 9, tzinfo=BERLIN)

    found = expand(
        start, start + dt.timedelta(hours=1), ["RRULE:FREQ=WEEKLY"], "Europe/Berlin", *WINDOW
    )

    assert found[0].start >= WINDOW[0] - dt.timedelta(hours=1)
    assert found[-1].start < WINDOW[1]
    assert len(found) == 9


def test_an_endless_series_is_capped() -> None:
    start = dt.datetime(2026, 3, 1, tzinfo=UTC)
    far = (start, start + dt.timedelta(days=400))

    found = expand(start, start + dt.timedelta(minutes=30), ["RRULE:FREQ=HOURLY"], None, *far)

    assert len(found) == MAX_OCCURRENCES


def test_an_all_day_series_yields_dates() -> None:
    found = expand(
        dt.date(2026, 3, 2), dt.date(2026, 3, 3), ["RRULE:FREQ=DAILY;COUNT=3"], None, *WINDOW
    )

    assert [(o.start, o.end) for o in found] == [
        (dt.date(2026, 3, d), dt.date(2026, 3, d + 1)) for d in (2, 3, 4)
    ]
    assert _starts(found) == ["20260302", "20260303", "20260304"]


@pytest.mark.parametrize(
    "line", ["RRULE:FREQ=SOMETIMES", "END:VEVENT", "EXDATE:not-a-date", "RRULE", "X-FOO:1"]
)
def test_malformed_recurrences_raise(line: str) -> None:
    start = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    with pytest.raises(RecurrenceError):
        expand(start, start, [line], None, *WINDOW)


def test_a_weekly_meeting_keeps_blocking_when_the_clock_moves_120_days(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock: Clock
) -> None:
    first = local(linked.ref, TUESDAY, 9)
    series = linked.system.add_event(
        "primary",
        first,
        first + dt.timedelta(hours=1),
        time_zone="Europe/Berlin",
        recurrence=("RRULE:FREQ=WEEKLY;BYDAY=TU",),
    )
    engine.pull_calendar(linked.calendar_id)
    later_tuesday = TUESDAY + dt.timedelta(days=7 * 18)  # 126 days on, past the 60-day horizon
    meeting = (local(linked.ref, later_tuesday, 9), local(linked.ref, later_tuesday, 10))
    assert meeting not in busy_of(store, linked.ref, series)

    moving_clock.advance(days=120)
    engine.pull_calendar(linked.calendar_id)  # nothing changed remotely: nothing comes in
    assert meeting not in busy_of(store, linked.ref, series)
    assert engine.extend_recurrences() == 1

    blocked = busy_of(store, linked.ref, series)
    assert meeting in blocked
    assert blocked[0][0] >= moving_clock.now - dt.timedelta(days=1)
    assert engine.extend_recurrences() == 0  # already at the horizon
