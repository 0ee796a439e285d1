"""Free-slot computation: pure interval arithmetic over aware UTC datetimes.

Working hours are wall-clock times in the provider's zone. A period "09:00-17:00 on date D" covers
exactly the instants whose local wall-clock time on D lies in [09:00, 17:00): on a spring-forward
day a period that crosses the gap is shorter in real time, on a fall-back day one that crosses the
repeated hour is longer, and a period lying wholly inside the gap is empty. ``24:00`` (minute 1440)
is the next midnight.

A candidate slot starts at the start of one day's working period plus a multiple of the step
(so each day's grid is anchored in that day), lasts the service's duration and must end within
that period or the periods of the following days that touch it (a night shift). It is free
when the slot widened by the service's buffers overlaps no busy interval (bookings arrive
already widened by their own buffers). It must start at or after ``now + min_notice``, no later
than ``now + horizon``, and within the requested range. Buffers may reach outside working
hours; the appointment may not.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple
from zoneinfo import ZoneInfo

UTC = dt.UTC
MINUTES_PER_DAY = 1440


class Interval(NamedTuple):
    """A half-open interval [start, end) of aware datetimes.

    A named tuple rather than a dataclass: slot queries build thousands of them per request,
    and tuples are built and sorted in C.
    """

    start: dt.datetime
    end: dt.datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


@dataclasses.dataclass(frozen=True, slots=True)
class WeeklyHours:
    weekday: int  # 0 = Monday
    start_minute: int
    end_minute: int


@dataclasses.dataclass(frozen=True, slots=True)
class DateOverride:
    """See :class:`bridge.store.models.DateOverride` for the meaning of the fields."""

    date: dt.date
    available: bool
    start_minute: int | None = None
    end_minute: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SlotRules:
    duration: dt.timedelta
    step: dt.timedelta
    buffer_before: dt.timedelta = dt.timedelta(0)
    buffer_after: dt.timedelta = dt.timedelta(0)
    min_notice: dt.timedelta = dt.timedelta(0)
    horizon: dt.timedelta = dt.timedelta(days=60)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge overlapping or touching intervals."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def _subtract(minutes: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    result = []
    for start, end in minutes:
        if cut[1] <= start or cut[0] >= end:
            result.append((start, end))
            continue
        if start < cut[0]:
            result.append((start, cut[0]))
        if cut[1] < end:
            result.append((cut[1], end))
    return result


def day_minutes(
    day: dt.date, weekly: Sequence[WeeklyHours], overrides: Sequence[DateOverride]
) -> list[tuple[int, int]]:
    """The local working minutes of one date after applying its overrides."""
    minutes = [(w.start_minute, w.end_minute) for w in weekly if w.weekday == day.weekday()]
    todays = [o for o in overrides if o.date == day]
    for override in todays:
        if override.available and override.start_minute is not None:
            assert override.end_minute is not None
            minutes.append((override.start_minute, override.end_minute))
    for override in todays:
        if not override.available:
            if override.start_minute is None or override.end_minute is None:
                return []
            minutes = _subtract(minutes, (override.start_minute, override.end_minute))
    return minutes


def _offset(zone: ZoneInfo, instant: dt.datetime) -> dt.timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _constant_offset_pieces(
    zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
    """Split the UTC span [start, end) where the zone's offset changes (to the second)."""
    pieces = []
    while start < end:
        offset = _offset(zone, start)
        if _offset(zone, end - dt.timedelta(seconds=1)) == offset:
            pieces.append((start, end, offset))
            break
        low, high = start, end - dt.timedelta(seconds=1)  # offset(low) == offset != offset(high)
        while high - low > dt.timedelta(seconds=1):
            middle = low + (high - low) / 2
            middle = middle.replace(microsecond=0)
            if _offset(zone, middle) == offset:
                low = middle
            else:
                high = middle
        pieces.append((start, high, offset))
        start = high
    return pieces


def local_day_span(day: dt.date, zone: ZoneInfo) -> Interval:
    """The UTC instants whose local date is ``day``."""
    return Interval(_local_midnight(day, zone), _local_midnight(day + dt.timedelta(days=1), zone))


def _local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first instant of ``day`` in ``zone`` (midnight, or the end of a gap covering it)."""
    naive = dt.datetime.combine(day, dt.time())
    candidates = [naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    valid = [c for c in candidates if c.astimezone(zone).replace(tzinfo=None) == naive]
    if valid:
        return min(valid)
    # Midnight falls in a gap (e.g. America/Santiago): the day starts at the transition.
    low, high = min(candidates), max(candidates)
    return _constant_offset_pieces(zone, low, high + dt.timedelta(seconds=1))[0][1]


def working_intervals(
    zone: ZoneInfo,
    weekly: Sequence[WeeklyHours],
    overrides: Sequence[DateOverride],
    first_day: dt.date,
    last_day: dt.date,
) -> list[Interval]:
    """Working periods from ``first_day`` to ``last_day`` (local dates, inclusive), in UTC.

    Periods are merged within a day but not across midnight: each day's periods anchor that
    day's slot grid, so the grid never depends on which day a query starts from. Periods of
    consecutive days may touch, and a slot may run on into the next day's touching period.
    """
    periods: list[Interval] = []
    day = first_day
    while day <= last_day:
        minutes = day_minutes(day, weekly, overrides)
        if minutes:
            todays: list[Interval] = []
            span = local_day_span(day, zone)
            midnight = dt.datetime.combine(day, dt.time(), tzinfo=UTC)  # wall clock as if UTC
            for piece_start, piece_end, offset in _constant_offset_pieces(
                zone, span.start, span.end
            ):
                for start_minute, end_minute in minutes:
                    wall_start = midnight + dt.timedelta(minutes=start_minute)
                    wall_end = midnight + dt.timedelta(minutes=end_minute)
                    start = max(wall_start - offset, piece_start)
                    end = min(wall_end - offset, piece_end)
                    if start < end:
                        todays.append(Interval(start, end))
            periods.extend(merge(todays))
        day += dt.timedelta(days=1)
    return periods


def free_slots(
    working: Sequence[Interval],
    busy: Sequence[Interval],
    rules: SlotRules,
    now: dt.datetime,
    window: Interval,
) -> list[Interval]:
    """Free slots whose start lies in ``window``.

    Args:
        working: sorted, non-overlapping working periods (from :func:`working_intervals`);
            candidates start at each period's start plus multiples of the step, and a slot
            must end within the run of touching periods it starts in.
        busy: everything that blocks time, bookings already widened by their own buffers;
            need not be sorted or merged.
        rules: the service's duration, step, buffers, notice and horizon.
        now: the current instant.
        window: the requested range; a slot is returned when its start lies in it.
    """
    earliest = max(window.start, now + rules.min_notice)
    latest_start = min(window.end - dt.timedelta(microseconds=1), now + rules.horizon)
    blocked = merge(busy)
    blocked_ends = [b.end for b in blocked]
    runs = merge(working)
    run_index = 0
    slots: list[Interval] = []
    for period in working:
        while runs[run_index].end < period.end:
            run_index += 1
        if period.end <= earliest or period.start > latest_start:
            continue
        run_end = runs[run_index].end
        step = rules.step
        # First aligned start at or after `earliest`.
        start = period.start
        if start < earliest:
            start += step * -((period.start - earliest) // step)
        while start < period.end and start <= latest_start and start + rules.duration <= run_end:
            padded = Interval(
                start - rules.buffer_before, start + rules.duration + rules.buffer_after
            )
            # The first blocked interval that ends after the padded slot starts.
            index = bisect.bisect_right(blocked_ends, padded.start)
            if index < len(blocked) and blocked[index].start < padded.end:
                # Jump to the first aligned start whose padding clears this blocked interval.
                clear_from = blocked[index].end + rules.buffer_before
                start += step * -((start - clear_from) // step)
                continue
            slots.append(Interval(start, start + rules.duration))
            start += step
    return slots
