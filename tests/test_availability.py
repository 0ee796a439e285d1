"""Unit and property tests of the pure slot arithmetic in :mod:`bridge.availability`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.availability import (
    DateOverride,
    Interval,
    SlotRules,
    WeeklyHours,
    day_minutes,
    free_slots,
    merge,
    working_intervals,
)

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
EVERY_DAY_9_TO_5 = [WeeklyHours(day, 9 * 60, 17 * 60) for day in range(7)]
JUNE_1 = dt.date(2026, 6, 1)  # a Monday


def at(zone: ZoneInfo, day: dt.date, hour: int, minute: int = 0, fold: int = 0) -> dt.datetime:
    """The UTC instant of a local wall-clock time."""
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).replace(fold=fold)
    return local.astimezone(UTC)


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def rules(duration=30, step=None, before=0, after=0, notice=0, horizon_days=400) -> SlotRules:
    return SlotRules(
        duration=minutes(duration),
        step=minutes(step if step is not None else duration),
        buffer_before=minutes(before),
        buffer_after=minutes(after),
        min_notice=minutes(notice),
        horizon=dt.timedelta(days=horizon_days),
    )


def slots_on(
    day: dt.date,
    *,
    zone: ZoneInfo = BERLIN,
    weekly=EVERY_DAY_9_TO_5,
    overrides=(),
    slot_rules: SlotRules | None = None,
    busy=(),
    now: dt.datetime | None = None,
    window: Interval | None = None,
) -> list[Interval]:
    """Free slots whose start lies on local ``day`` (or in ``window``)."""
    if window is None:
        window = Interval(at(zone, day, 0), at(zone, day + DAY, 0))
    working = working_intervals(zone, weekly, list(overrides), day - DAY, day + DAY)
    now = now if now is not None else window.start - dt.timedelta(days=30)
    return free_slots(working, list(busy), slot_rules or rules(), now, window)


def local_starts(slots: list[Interval], zone: ZoneInfo = BERLIN) -> list[str]:
    return [slot.start.astimezone(zone).strftime("%H:%M") for slot in slots]


# --- Daylight saving time -------------------------------------------------------------------

DST_CHANGES = [
    pytest.param(BERLIN, dt.date(2026, 3, 29), id="berlin-spring"),
    pytest.param(BERLIN, dt.date(2026, 10, 25), id="berlin-fall"),
    pytest.param(NEW_YORK, dt.date(2026, 3, 8), id="new-york-spring"),
    pytest.param(NEW_YORK, dt.date(2026, 11, 1), id="new-york-fall"),
]


@pytest.mark.parametrize(("zone", "change_day"), DST_CHANGES)
def test_office_hours_start_at_nine_local_on_and_around_a_dst_change(zone, change_day):
    offsets = []
    for day in (change_day - DAY, change_day, change_day + DAY):
        slots = slots_on(day, zone=zone)
        assert len(slots) == 16
        assert local_starts(slots, zone)[0] == "09:00"
        assert local_starts(slots, zone)[-1] == "16:30"
        assert slots[0].start == at(zone, day, 9)
        offsets.append(slots[0].start.astimezone(zone).utcoffset())
    assert offsets[0] != offsets[2]
    assert offsets[1] == offsets[2]


@pytest.mark.parametrize(
    ("zone", "change_day", "real_hours"),
    [
        pytest.param(BERLIN, dt.date(2026, 3, 29), 5, id="berlin-spring"),
        pytest.param(BERLIN, dt.date(2026, 10, 25), 7, id="berlin-fall"),
        pytest.param(NEW_YORK, dt.date(2026, 3, 8), 5, id="new-york-spring"),
        pytest.param(NEW_YORK, dt.date(2026, 11, 1), 7, id="new-york-fall"),
    ],
)
def test_hours_spanning_the_change_last_their_real_length(zone, change_day, real_hours):
    weekly = [WeeklyHours(change_day.weekday(), 0, 6 * 60)]
    (period,) = working_intervals(zone, weekly, [], change_day, change_day)
    assert period.start == at(zone, change_day, 0)
    assert period.end == at(zone, change_day, 6)
    assert period.end - period.start == dt.timedelta(hours=real_hours)
    slots = slots_on(change_day, zone=zone, weekly=weekly, slot_rules=rules(60))
    assert len(slots) == real_hours
    assert all(slot.end - slot.start == dt.timedelta(hours=1) for slot in slots)


@pytest.mark.parametrize(
    ("zone", "change_day"),
    [
        pytest.param(BERLIN, dt.date(2026, 3, 29), id="berlin"),
        pytest.param(NEW_YORK, dt.date(2026, 3, 8), id="new-york"),
    ],
)
def test_hours_wholly_inside_the_spring_gap_give_nothing(zone, change_day):
    weekly = [WeeklyHours(change_day.weekday(), 2 * 60 + 10, 2 * 60 + 50)]
    assert working_intervals(zone, weekly, [], change_day, change_day) == []
    assert slots_on(change_day, zone=zone, weekly=weekly, slot_rules=rules(10)) == []


def test_repeated_hour_on_fall_back_is_covered_both_times():
    day = dt.date(2026, 10, 25)  # Berlin: 03:00 CEST becomes 02:00 CET
    weekly = [WeeklyHours(day.weekday(), 2 * 60, 3 * 60)]
    (period,) = working_intervals(BERLIN, weekly, [], day, day)
    assert period == Interval(at(BERLIN, day, 2, fold=0), at(BERLIN, day, 3))
    assert period.end - period.start == dt.timedelta(hours=2)
    slots = slots_on(day, weekly=weekly)
    assert [s.start for s in slots] == [
        at(BERLIN, day, 2, 0, fold=0),
        at(BERLIN, day, 2, 30, fold=0),
        at(BERLIN, day, 2, 0, fold=1),
        at(BERLIN, day, 2, 30, fold=1),
    ]
    assert local_starts(slots) == ["02:00", "02:30", "02:00", "02:30"]


def test_repeated_hour_in_new_york_is_covered_both_times():
    day = dt.date(2026, 11, 1)  # 02:00 EDT becomes 01:00 EST
    weekly = [WeeklyHours(day.weekday(), 60, 120)]
    (period,) = working_intervals(NEW_YORK, weekly, [], day, day)
    assert period == Interval(dt.datetime(2026, 11, 1, 5, tzinfo=UTC), at(NEW_YORK, day, 2))
    assert period.end - period.start == dt.timedelta(hours=2)


def test_hours_until_24_00_end_at_the_next_local_midnight():
    weekly = [WeeklyHours(JUNE_1.weekday(), 22 * 60, 1440)]
    (period,) = working_intervals(BERLIN, weekly, [], JUNE_1, JUNE_1)
    assert period == Interval(at(BERLIN, JUNE_1, 22), at(BERLIN, JUNE_1 + DAY, 0))
    slots = slots_on(JUNE_1, weekly=weekly)
    assert local_starts(slots) == ["22:00", "22:30", "23:00", "23:30"]
    assert slots[-1].end == at(BERLIN, JUNE_1 + DAY, 0)


def test_hours_until_24_00_on_the_fall_back_day_last_25_hours():
    day = dt.date(2026, 10, 25)
    weekly = [WeeklyHours(day.weekday(), 0, 1440)]
    (period,) = working_intervals(BERLIN, weekly, [], day, day)
    assert period.end - period.start == dt.timedelta(hours=25)
    assert period.end == at(BERLIN, day + DAY, 0)


def test_each_day_keeps_its_own_periods_touching_at_midnight():
    weekly = [WeeklyHours(0, 22 * 60, 1440), WeeklyHours(1, 0, 2 * 60)]
    periods = working_intervals(BERLIN, weekly, [], JUNE_1, JUNE_1 + DAY)
    assert periods == [
        Interval(at(BERLIN, JUNE_1, 22), at(BERLIN, JUNE_1 + DAY, 0)),
        Interval(at(BERLIN, JUNE_1 + DAY, 0), at(BERLIN, JUNE_1 + DAY, 2)),
    ]


def test_a_night_shift_slot_runs_past_midnight_into_the_next_days_hours():
    weekly = [WeeklyHours(0, 22 * 60, 1440), WeeklyHours(1, 0, 2 * 60)]
    working = working_intervals(BERLIN, weekly, [], JUNE_1, JUNE_1 + DAY)
    window = Interval(at(BERLIN, JUNE_1, 0), at(BERLIN, JUNE_1 + 2 * DAY, 0))
    found = free_slots(working, [], rules(90, step=60), at(BERLIN, JUNE_1, 0), window)
    assert [s.start for s in found] == [
        at(BERLIN, JUNE_1, 22),
        at(BERLIN, JUNE_1, 23),
        at(BERLIN, JUNE_1 + DAY, 0),
    ]


def test_the_slot_grid_does_not_depend_on_the_first_day_asked_for():
    """Round-the-clock hours with a step that does not divide 24 h: every day restarts its grid
    at midnight, so a one-day query and a week-long query offer the same starts."""
    weekly = [WeeklyHours(day, 0, 1440) for day in range(7)]
    now = at(BERLIN, JUNE_1, 0)
    slot_rules = rules(45)
    wednesday = JUNE_1 + 2 * DAY
    day_window = Interval(at(BERLIN, wednesday, 0), at(BERLIN, wednesday + DAY, 0))

    def starts_on_wednesday(first_day: dt.date) -> list[dt.datetime]:
        working = working_intervals(BERLIN, weekly, [], first_day, wednesday + DAY)
        return [s.start for s in free_slots(working, [], slot_rules, now, day_window)]

    from_monday = starts_on_wednesday(JUNE_1)
    assert from_monday == starts_on_wednesday(wednesday - DAY)
    assert from_monday[0] == at(BERLIN, wednesday, 0)
    assert from_monday[-1] == at(BERLIN, wednesday, 23, 15)


# --- Buffers, notice, horizon, step, window -------------------------------------------------


def test_a_slots_buffer_after_keeps_it_clear_of_later_busy_time():
    busy = [Interval(at(BERLIN, JUNE_1, 10), at(BERLIN, JUNE_1, 10, 30))]
    starts = local_starts(slots_on(JUNE_1, busy=busy, slot_rules=rules(30, after=15)))
    assert starts[:3] == ["09:00", "10:30", "11:00"]
    assert "09:30" not in starts  # ends 10:00, but its buffer reaches 10:15


def test_a_slots_buffer_before_keeps_it_clear_of_earlier_busy_time():
    busy = [Interval(at(BERLIN, JUNE_1, 10), at(BERLIN, JUNE_1, 10, 30))]
    starts = local_starts(slots_on(JUNE_1, busy=busy, slot_rules=rules(30, step=15, before=15)))
    assert starts[:4] == ["09:00", "09:15", "09:30", "10:45"]
    assert "10:30" not in starts


def test_busy_time_touching_a_slot_does_not_block_it():
    busy = [
        Interval(at(BERLIN, JUNE_1, 8), at(BERLIN, JUNE_1, 9)),
        Interval(at(BERLIN, JUNE_1, 9, 30), at(BERLIN, JUNE_1, 10)),
    ]
    assert local_starts(slots_on(JUNE_1, busy=busy))[:2] == ["09:00", "10:00"]


def test_buffers_may_reach_outside_working_hours():
    slots = slots_on(JUNE_1, slot_rules=rules(30, before=30, after=30))
    assert local_starts(slots)[0] == "09:00"
    assert local_starts(slots)[-1] == "16:30"


def test_busy_time_outside_working_hours_blocks_through_a_buffer():
    busy = [Interval(at(BERLIN, JUNE_1, 8, 30), at(BERLIN, JUNE_1, 8, 45))]
    slots = slots_on(JUNE_1, busy=busy, slot_rules=rules(30, before=30))
    assert local_starts(slots)[0] == "09:30"


def test_slots_skip_busy_time_and_stay_aligned_to_the_period_start():
    busy = [Interval(at(BERLIN, JUNE_1, 9, 5), at(BERLIN, JUNE_1, 9, 25))]
    assert local_starts(slots_on(JUNE_1, busy=busy))[:2] == ["09:30", "10:00"]


def test_overlapping_busy_intervals_are_all_respected():
    busy = [
        Interval(at(BERLIN, JUNE_1, 9), at(BERLIN, JUNE_1, 11)),
        Interval(at(BERLIN, JUNE_1, 10), at(BERLIN, JUNE_1, 10, 30)),
        Interval(at(BERLIN, JUNE_1, 10, 45), at(BERLIN, JUNE_1, 12, 10)),
    ]
    assert local_starts(slots_on(JUNE_1, busy=busy))[0] == "12:30"


def test_min_notice_hides_slots_starting_too_soon():
    now = at(BERLIN, JUNE_1, 8)
    slots = slots_on(JUNE_1, now=now, slot_rules=rules(30, notice=90))
    assert local_starts(slots)[0] == "09:30"


def test_first_slot_after_now_is_aligned_to_the_period_not_to_now():
    now = at(BERLIN, JUNE_1, 9, 10)
    assert local_starts(slots_on(JUNE_1, now=now))[0] == "09:30"
    # A slot starting exactly at now + notice is offered.
    assert local_starts(slots_on(JUNE_1, now=at(BERLIN, JUNE_1, 9)))[0] == "09:00"


def test_horizon_includes_a_slot_starting_exactly_at_its_end():
    now = at(BERLIN, JUNE_1, 9)
    window = Interval(now, now + 3 * DAY)
    slots = slots_on(JUNE_1, now=now, window=window, slot_rules=rules(30, horizon_days=1))
    assert slots[-1].start == now + DAY
    assert slots[0].start == now


def test_step_counts_from_the_period_start_and_slots_must_end_inside_it():
    weekly = [WeeklyHours(JUNE_1.weekday(), 9 * 60, 10 * 60)]
    assert local_starts(slots_on(JUNE_1, weekly=weekly, slot_rules=rules(30, step=20))) == [
        "09:00",
        "09:20",
    ]
    weekly = [WeeklyHours(JUNE_1.weekday(), 9 * 60 + 10, 11 * 60)]
    assert local_starts(slots_on(JUNE_1, weekly=weekly, slot_rules=rules(25, step=35))) == [
        "09:10",
        "09:45",
        "10:20",
    ]


def test_a_slot_is_returned_when_its_start_lies_in_the_window():
    def starts(start: dt.datetime, end: dt.datetime) -> list[str]:
        return local_starts(slots_on(JUNE_1, window=Interval(start, end)))

    assert starts(at(BERLIN, JUNE_1, 9), at(BERLIN, JUNE_1, 9, 1)) == ["09:00"]
    assert starts(at(BERLIN, JUNE_1, 9), at(BERLIN, JUNE_1, 10)) == ["09:00", "09:30"]
    assert starts(at(BERLIN, JUNE_1, 9, 15), at(BERLIN, JUNE_1, 10)) == ["09:30"]
    assert starts(at(BERLIN, JUNE_1, 9, 31), at(BERLIN, JUNE_1, 10)) == []


# --- Date overrides -------------------------------------------------------------------------


def test_a_day_off_removes_the_whole_day():
    overrides = [DateOverride(JUNE_1, available=False)]
    assert slots_on(JUNE_1, overrides=overrides) == []
    assert len(slots_on(JUNE_1 + DAY, overrides=overrides)) == 16


def test_hours_off_remove_just_those_hours_and_realign_after_them():
    overrides = [DateOverride(JUNE_1, False, 12 * 60, 13 * 60 + 10)]
    starts = local_starts(slots_on(JUNE_1, overrides=overrides))
    assert starts[5:8] == ["11:30", "13:10", "13:40"]
    assert "12:00" not in starts


def test_extra_hours_add_time_on_a_day_without_weekly_hours():
    saturday = JUNE_1 + 5 * DAY
    weekdays = [WeeklyHours(day, 9 * 60, 17 * 60) for day in range(5)]
    assert slots_on(saturday, weekly=weekdays) == []
    overrides = [DateOverride(saturday, True, 10 * 60, 12 * 60)]
    starts = local_starts(slots_on(saturday, weekly=weekdays, overrides=overrides))
    assert starts == ["10:00", "10:30", "11:00", "11:30"]


def test_extra_hours_overlapping_weekly_hours_merge_into_one_period():
    weekly = [WeeklyHours(JUNE_1.weekday(), 9 * 60, 12 * 60)]
    overrides = [DateOverride(JUNE_1, True, 11 * 60, 14 * 60)]
    assert working_intervals(BERLIN, weekly, overrides, JUNE_1, JUNE_1) == [
        Interval(at(BERLIN, JUNE_1, 9), at(BERLIN, JUNE_1, 14))
    ]
    starts = local_starts(
        slots_on(JUNE_1, weekly=weekly, overrides=overrides, slot_rules=rules(45))
    )
    # One period, so the 45-minute step runs on from 09:00 instead of restarting at 11:00.
    assert starts == ["09:00", "09:45", "10:30", "11:15", "12:00", "12:45"]


def test_hours_off_also_remove_extra_hours_of_the_same_day():
    overrides = [
        DateOverride(JUNE_1, True, 17 * 60, 19 * 60),
        DateOverride(JUNE_1, False, 16 * 60, 18 * 60),
    ]
    assert day_minutes(JUNE_1, EVERY_DAY_9_TO_5, overrides) == [
        (9 * 60, 16 * 60),
        (18 * 60, 19 * 60),
    ]


def test_overrides_of_other_dates_change_nothing():
    overrides = [DateOverride(JUNE_1 + DAY, False)]
    assert day_minutes(JUNE_1, EVERY_DAY_9_TO_5, overrides) == [(9 * 60, 17 * 60)]


def test_merge_joins_touching_and_overlapping_intervals():
    a = dt.datetime(2026, 6, 1, tzinfo=UTC)
    h = dt.timedelta(hours=1)
    assert merge(
        [Interval(a + 3 * h, a + 4 * h), Interval(a, a + h), Interval(a + h, a + 2 * h)]
    ) == [
        Interval(a, a + 2 * h),
        Interval(a + 3 * h, a + 4 * h),
    ]


# --- Property tests against a brute-force reference -----------------------------------------
#
# The reference knows only the documented semantics: it samples the wall clock every 5 minutes
# (every UTC offset and DST change of the zones below is a multiple of 15 minutes, and all
# generated working minutes, durations and steps are multiples of 5, so the samples are exact),
# then tries every aligned candidate of every working period against every busy interval.

GRID = dt.timedelta(minutes=5)
DST_CHANGES_2026 = {
    "Europe/Berlin": [dt.date(2026, 3, 29), dt.date(2026, 10, 25)],
    "America/New_York": [dt.date(2026, 3, 8), dt.date(2026, 11, 1)],
    "Australia/Lord_Howe": [dt.date(2026, 4, 5), dt.date(2026, 10, 4)],
    "Asia/Kathmandu": [],  # +05:45 all year
    "UTC": [],
}


def reference_day_minutes(day: dt.date, weekly, overrides) -> set[int]:
    """The set of local minutes of ``day`` that are working time, straight from the rules."""
    todays = [o for o in overrides if o.date == day]
    if any(not o.available and o.start_minute is None for o in todays):
        return set()
    working: set[int] = set()
    for period in weekly:
        if period.weekday == day.weekday():
            working.update(range(period.start_minute, period.end_minute))
    for o in todays:
        if o.available:
            working.update(range(o.start_minute, o.end_minute))
    for o in todays:
        if not o.available:
            working.difference_update(range(o.start_minute, o.end_minute))
    return working


def reference_working(zone, weekly, overrides, first_day, last_day) -> list[Interval]:
    """Working periods found by reading the wall clock every 5 minutes, split at midnight."""
    minutes_of = {}
    t = dt.datetime.combine(first_day, dt.time(), tzinfo=UTC) - dt.timedelta(hours=15)
    stop = dt.datetime.combine(last_day + DAY, dt.time(), tzinfo=UTC) + dt.timedelta(hours=15)
    periods: list[Interval] = []
    previous_day = None
    while t < stop:
        local = t.astimezone(zone)
        day = local.date()
        if first_day <= day <= last_day:
            if day not in minutes_of:
                minutes_of[day] = reference_day_minutes(day, weekly, overrides)
            if local.hour * 60 + local.minute in minutes_of[day]:
                if periods and periods[-1].end == t and day == previous_day:
                    periods[-1] = Interval(periods[-1].start, t + GRID)
                else:
                    periods.append(Interval(t, t + GRID))
                previous_day = day
        t += GRID
    return periods


def reference_slots(periods, busy, slot_rules: SlotRules, now, window) -> list[Interval]:
    """Every aligned candidate of every period, kept if it fits the run of touching periods
    it starts in and passes every rule."""
    slots = []
    for period in periods:
        run_end = period.end
        for later in periods:
            if later.start == run_end:
                run_end = later.end
        start = period.start
        while start < period.end and start + slot_rules.duration <= run_end:
            padded = Interval(
                start - slot_rules.buffer_before,
                start + slot_rules.duration + slot_rules.buffer_after,
            )
            if (
                window.start <= start < window.end
                and start >= now + slot_rules.min_notice
                and start <= now + slot_rules.horizon
                and not any(padded.overlaps(b) for b in busy)
            ):
                slots.append(Interval(start, start + slot_rules.duration))
            start += slot_rules.step
    return slots


five_minutes = st.integers(0, 288).map(lambda n: n * 5)


@st.composite
def periods_of_day(draw) -> tuple[int, int]:
    start, end = sorted(draw(st.lists(five_minutes, min_size=2, max_size=2, unique=True)))
    return start, end


@st.composite
def scenarios(draw):
    zone_name = draw(st.sampled_from(sorted(DST_CHANGES_2026)))
    zone = ZoneInfo(zone_name)
    weekly = [
        WeeklyHours(weekday, *period)
        for weekday in range(7)
        for period in draw(st.lists(periods_of_day(), min_size=1, max_size=2))
        if draw(st.integers(0, 5)) > 0
    ]
    any_day = st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    changes = DST_CHANGES_2026[zone_name]
    base = draw(st.one_of(st.sampled_from(changes), any_day) if changes else any_day)
    midnight = dt.datetime.combine(base, dt.time(), tzinfo=UTC)
    now = midnight + draw(st.integers(-36 * 60, 12 * 60).map(minutes))
    window_start = midnight + draw(st.integers(-30 * 60, 20 * 60).map(minutes))
    length = minutes(draw(st.one_of(st.integers(12 * 60, 3 * 24 * 60), st.integers(1, 12 * 60))))
    window = Interval(window_start, window_start + length)
    first_day = window.start.astimezone(zone).date() - DAY
    last_day = window.end.astimezone(zone).date() + DAY
    days = [first_day + DAY * i for i in range((last_day - first_day).days + 1)]
    overrides = []
    for _ in range(draw(st.integers(0, 4))):
        day = draw(st.sampled_from(days))
        kind = draw(st.sampled_from(["day off", "hours off", "extra hours"]))
        if kind == "day off":
            overrides.append(DateOverride(day, False))
        else:
            overrides.append(DateOverride(day, kind == "extra hours", *draw(periods_of_day())))
    busy = []
    for _ in range(draw(st.integers(0, 8))):
        start = window.start + draw(st.integers(-24 * 60, 4 * 24 * 60).map(minutes))
        busy.append(Interval(start, start + draw(st.integers(1, 4 * 60).map(minutes))))
    slot_rules = SlotRules(
        duration=draw(st.integers(1, 48).map(lambda n: minutes(5 * n))),
        step=draw(st.integers(1, 36).map(lambda n: minutes(5 * n))),
        buffer_before=draw(st.integers(0, 90).map(minutes)),
        buffer_after=draw(st.integers(0, 90).map(minutes)),
        min_notice=draw(st.one_of(st.just(dt.timedelta(0)), st.integers(0, 24 * 60).map(minutes))),
        horizon=draw(st.integers(1, 7).map(lambda n: dt.timedelta(days=n))),
    )
    return zone, weekly, overrides, busy, slot_rules, now, window, first_day, last_day


def compute(scenario) -> tuple[list[Interval], list[Interval]]:
    zone, weekly, overrides, busy, slot_rules, now, window, first_day, last_day = scenario
    working = working_intervals(zone, weekly, overrides, first_day, last_day)
    return working, free_slots(working, busy, slot_rules, now, window)


@given(scenarios())
def test_no_slot_widened_by_its_buffers_overlaps_busy_time(scenario):
    _, _, _, busy, slot_rules, *_ = scenario
    _, slots = compute(scenario)
    for slot in slots:
        padded = Interval(slot.start - slot_rules.buffer_before, slot.end + slot_rules.buffer_after)
        assert not any(padded.overlaps(b) for b in busy), (slot, busy)


@given(scenarios())
def test_every_slot_lies_within_working_hours_on_the_wall_clock(scenario):
    zone, weekly, overrides, _, _, _, _, first_day, last_day = scenario
    working, slots = compute(scenario)
    wall_clock = reference_working(zone, weekly, overrides, first_day, last_day)
    for slot in slots:
        assert any(p.start <= slot.start and slot.end <= p.end for p in merge(working)), slot
        assert any(p.start <= slot.start and slot.end <= p.end for p in merge(wall_clock)), slot
        # And directly: the local time of the first and last minute is working time that day.
        for instant in (slot.start, slot.end - MINUTE):
            local = instant.astimezone(zone)
            day_working = reference_day_minutes(local.date(), weekly, overrides)
            assert local.hour * 60 + local.minute in day_working, (slot, local)


@given(scenarios())
def test_every_slot_respects_window_notice_and_horizon(scenario):
    *_, slot_rules, now, window, _, _ = scenario
    _, slots = compute(scenario)
    for slot in slots:
        assert window.start <= slot.start < window.end
        assert slot.start >= now + slot_rules.min_notice
        assert slot.start <= now + slot_rules.horizon
        assert slot.end - slot.start == slot_rules.duration


@given(scenarios())
def test_slots_are_sorted_and_distinct(scenario):
    _, slots = compute(scenario)
    starts = [slot.start for slot in slots]
    assert starts == sorted(set(starts))


@given(scenarios())
def test_slots_equal_the_brute_force_reference(scenario):
    zone, weekly, overrides, busy, slot_rules, now, window, first_day, last_day = scenario
    working, slots = compute(scenario)
    wall_clock = reference_working(zone, weekly, overrides, first_day, last_day)
    assert working == wall_clock
    assert slots == reference_slots(wall_clock, busy, slot_rules, now, window)


@pytest.mark.parametrize(
    ("zone_name", "change_day"),
    [
        ("Europe/Berlin", dt.date(2026, 3, 29)),
        ("Europe/Berlin", dt.date(2026, 10, 25)),
        ("America/New_York", dt.date(2026, 3, 8)),
        ("America/New_York", dt.date(2026, 11, 1)),
        ("Australia/Lord_Howe", dt.date(2026, 4, 5)),
        ("Australia/Lord_Howe", dt.date(2026, 10, 4)),
    ],
)
def test_reference_and_implementation_agree_on_a_dst_change_day(zone_name, change_day):
    zone = ZoneInfo(zone_name)
    weekly = [
        WeeklyHours(change_day.weekday(), 0, 4 * 60 + 15),
        WeeklyHours(change_day.weekday(), 9 * 60, 1440),
    ]
    busy = [Interval(at(zone, change_day, 0, 40), at(zone, change_day, 0, 55))]
    slot_rules = rules(25, step=20, before=10, after=5)
    now = at(zone, change_day - DAY, 12)
    window = Interval(at(zone, change_day, 0), at(zone, change_day + DAY, 0))
    scenario = (zone, weekly, [], busy, slot_rules, now, window, change_day, change_day)
    working, slots = compute(scenario)
    wall_clock = reference_working(zone, weekly, [], change_day, change_day)
    assert working == wall_clock
    assert slots == reference_slots(wall_clock, busy, slot_rules, now, window)
    assert len(slots) >= 40
