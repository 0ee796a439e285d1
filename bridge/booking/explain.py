"""Why a slot is or is not offered: every candidate start of a service, with its reasons.

The explanation is built from the same data and the same rules as
:func:`bridge.booking.slots.find_slots` (see :mod:`bridge.availability`):

- **Candidates** are the starts of the service's grid: each working period's start (weekly hours
  after that date's overrides) plus multiples of the step, and, so that a day off or hours off
  can be named, the starts the weekly hours alone would give that fall in no working period.
  A candidate is listed when its start lies in the requested window.
- **Reasons** a candidate is not offered, each one that applies:

  ``outside_working_hours``
      the appointment would run past the end of the working period it starts in (and of any
      period of the next day touching it);
  ``date_override``
      the weekly hours offer this start but a day off or hours off on that date removes it
      (names the override);
  ``min_notice``
      it starts before now plus the service's minimum notice (a start in the past included);
  ``beyond_horizon``
      it starts later than now plus the service's booking horizon;
  ``booking``
      the slot, widened by the service's buffers, overlaps a confirmed booking widened by that
      booking's own buffers (names the booking);
  ``blocked_time``
      ... overlaps time the provider blocked (names the blocked time);
  ``busy``
      ... overlaps busy time imported from an external calendar: names that calendar and its
      account (from ``BusyInterval.source`` = ``calendar:<id>``), never the event, whose title
      the bridge does not even store;
  ``calendar_unavailable``
      added by the caller (:mod:`bridge.booking.calendar_guard`) when a broken or stale conflict
      calendar hides every slot.

A candidate with no reason is free, and exactly the free candidates are the slots
:func:`~bridge.booking.slots.find_slots` offers for the same window and instant (a test holds
the two to that).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import availability
from bridge.availability import Interval
from bridge.booking import slots
from bridge.booking.validation import MAX_BUFFER_MINUTES
from bridge.store.models import (
    BOOKING_CONFIRMED,
    MAX_ROW_LENGTH,
    AvailabilityRule,
    BlockedTime,
    Booking,
    BusyInterval,
    DateOverride,
    Provider,
    Service,
)
from bridge.store.sync_models import Connection, ExternalCalendar

OUTSIDE_WORKING_HOURS = "outside_working_hours"
DATE_OVERRIDE = "date_override"
MIN_NOTICE = "min_notice"
BEYOND_HORIZON = "beyond_horizon"
BOOKING = "booking"
BLOCKED_TIME = "blocked_time"
BUSY = "busy"
CALENDAR_UNAVAILABLE = "calendar_unavailable"

CALENDAR_SOURCE_PREFIX = "calendar:"

_MAX_BUFFER = dt.timedelta(minutes=MAX_BUFFER_MINUTES)
_MINUTE = dt.timedelta(minutes=1)


@dataclasses.dataclass(frozen=True, slots=True)
class CalendarRef:
    """An external calendar as the provider knows it: our id, its name, the account."""

    id: int
    name: str
    account: str


@dataclasses.dataclass(frozen=True, slots=True)
class Reason:
    """One reason a candidate is not offered; the optional fields name what blocks it.

    ``start``/``end`` are the blocking interval (a booking with its buffers, a blocked time, the
    calendar's busy time), never anything else about it.
    """

    code: str
    message: str
    booking_id: int | None = None
    blocked_time_id: int | None = None
    override_id: int | None = None
    calendar: CalendarRef | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Candidate:
    """A start on the service's grid and why it is not offered (no reasons: it is free)."""

    start: dt.datetime
    end: dt.datetime
    reasons: tuple[Reason, ...]

    @property
    def free(self) -> bool:
        return not self.reasons


@dataclasses.dataclass(frozen=True, slots=True)
class _Blocker:
    """Something busy near the window, as the slot search sees it, with what it is."""

    interval: Interval
    reason: Reason


def explain_slots(
    session: Session,
    provider: Provider,
    service: Service,
    window: Interval,
    now: dt.datetime,
    *,
    extra_reasons: Sequence[Reason] = (),
) -> list[Candidate]:
    """Every candidate start of ``service`` in ``window``, earliest first, with its reasons.

    Args:
        session: a read session.
        provider: whose schedule.
        service: the service whose grid, duration, buffers, notice and horizon apply.
        window: a candidate is listed when its start lies in ``[window.start, window.end)``.
        now: the instant notice and horizon count from.
        extra_reasons: reasons that apply to every candidate (a hidden calendar).

    Returns:
        The candidates; ``free`` ones are exactly what ``find_slots`` offers for ``window``.
    """
    rules = slots.rules_of(service)
    zone = ZoneInfo(provider.time_zone)
    reach = Interval(
        window.start - rules.buffer_before,
        window.end + rules.duration + rules.buffer_after,
    )
    first_day = reach.start.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = reach.end.astimezone(zone).date()
    weekly = _weekly_hours(session, provider.id)
    overrides = _overrides(session, provider.id, first_day, last_day)
    working = availability.working_intervals(
        zone, weekly, [o for _, o in overrides], first_day, last_day
    )
    regular = availability.working_intervals(zone, weekly, [], first_day, last_day)

    starts: dict[dt.datetime, list[Reason]] = {}
    runs = availability.merge(working)
    run_index = 0
    for period in working:
        while runs[run_index].end < period.end:
            run_index += 1
        run_end = runs[run_index].end
        for start in _grid(period, rules.step, window):
            reasons = starts.setdefault(start, [])
            if start + rules.duration > run_end:
                reasons.append(
                    Reason(
                        OUTSIDE_WORKING_HOURS,
                        "the appointment would end after working hours end, at "
                        + _wall_clock(run_end, zone),
                    )
                )
    for period in regular:
        for start in _grid(period, rules.step, window):
            if start in starts or any(p.start <= start < p.end for p in working):
                continue
            starts[start] = _override_reasons(start, rules.duration, zone, overrides)

    notice_from = now + rules.min_notice
    horizon_until = now + rules.horizon
    for start, reasons in starts.items():
        if start < notice_from:
            reasons.append(
                Reason(
                    MIN_NOTICE,
                    f"bookings need {_minutes(rules.min_notice)} minutes' notice"
                    if start >= now
                    else "this time has passed",
                )
            )
        if start > horizon_until:
            reasons.append(
                Reason(
                    BEYOND_HORIZON,
                    f"bookings are taken at most {service.horizon_days} days ahead",
                )
            )

    ordered = sorted(starts)
    blockers = _blockers(session, provider.id, reach)
    busy_reasons = _sweep(ordered, blockers, rules)
    return [
        Candidate(
            start,
            start + rules.duration,
            (*starts[start], *busy_reasons[start], *extra_reasons),
        )
        for start in ordered
    ]


def _grid(period: Interval, step: dt.timedelta, window: Interval) -> Iterable[dt.datetime]:
    """The period's grid starts (period start + k * step, inside the period) in ``window``."""
    start = period.start
    if start < window.start:
        start += step * -((period.start - window.start) // step)
    while start < period.end and start < window.end:
        yield start
        start += step


def _sweep(
    starts: Sequence[dt.datetime], blockers: Sequence[_Blocker], rules: availability.SlotRules
) -> dict[dt.datetime, list[Reason]]:
    """For each start (ascending), the blockers its buffered slot overlaps, in one pass."""
    result: dict[dt.datetime, list[Reason]] = {}
    pending = sorted(blockers, key=lambda b: (b.interval.start, b.interval.end))
    next_index = 0
    active: list[_Blocker] = []
    for start in starts:
        padded = Interval(start - rules.buffer_before, start + rules.duration + rules.buffer_after)
        while next_index < len(pending) and pending[next_index].interval.start < padded.end:
            active.append(pending[next_index])
            next_index += 1
        # Padded slots only move forward: what ended before this one starts is done with.
        active = [b for b in active if b.interval.end > padded.start]
        reasons: list[Reason] = []
        seen_calendars: set[object] = set()
        for blocker in active:
            reason = blocker.reason
            if reason.code == BUSY:
                # One reason per calendar, however many of its busy rows the slot touches.
                key = reason.calendar.id if reason.calendar else reason.message
                if key in seen_calendars:
                    continue
                seen_calendars.add(key)
            reasons.append(reason)
        result[start] = reasons
    return result


def _blockers(session: Session, provider_id: int, span: Interval) -> list[_Blocker]:
    """Bookings (with their buffers), blocked times and imported busy time near ``span``.

    The same rows, with the same widening, as :func:`bridge.booking.slots.busy_near`.
    """
    blockers: list[_Blocker] = []
    bookings = session.execute(
        select(
            Booking.id,
            Booking.start_at,
            Booking.end_at,
            Booking.buffer_before_minutes,
            Booking.buffer_after_minutes,
        ).where(
            Booking.provider_id == provider_id,
            Booking.start_at > span.start - MAX_ROW_LENGTH - _MAX_BUFFER,
            Booking.start_at < span.end + _MAX_BUFFER,
            Booking.status == BOOKING_CONFIRMED,
        )
    )
    for booking_id, start, end, before, after in bookings:
        widened = Interval(start - before * _MINUTE, end + after * _MINUTE)
        if widened.overlaps(span):
            blockers.append(
                _Blocker(
                    widened,
                    Reason(
                        BOOKING,
                        f"booked (booking {booking_id}, with its buffers)",
                        booking_id=booking_id,
                        start=widened.start,
                        end=widened.end,
                    ),
                )
            )
    blocked = session.execute(
        select(BlockedTime.id, BlockedTime.start_at, BlockedTime.end_at).where(
            BlockedTime.provider_id == provider_id,
            BlockedTime.end_at > span.start,
            BlockedTime.start_at < span.end,
        )
    )
    for block_id, start, end in blocked:
        blockers.append(
            _Blocker(
                Interval(start, end),
                Reason(
                    BLOCKED_TIME,
                    f"blocked time {block_id}",
                    blocked_time_id=block_id,
                    start=start,
                    end=end,
                ),
            )
        )
    imported = session.execute(
        select(BusyInterval.source, BusyInterval.start_at, BusyInterval.end_at).where(
            BusyInterval.provider_id == provider_id,
            BusyInterval.start_at > span.start - MAX_ROW_LENGTH,
            BusyInterval.start_at < span.end,
            BusyInterval.end_at > span.start,
        )
    ).all()
    calendars = _calendars(session, provider_id, {source for source, _, _ in imported})
    for source, start, end in imported:
        calendar = calendars.get(source)
        message = (
            f"busy in calendar {calendar.name!r} ({calendar.account})"
            if calendar is not None
            else "busy in an external calendar"
        )
        blockers.append(
            _Blocker(
                Interval(start, end),
                Reason(BUSY, message, calendar=calendar, start=start, end=end),
            )
        )
    return blockers


def calendar_id_of(source: str) -> int | None:
    """The :class:`ExternalCalendar` id of a ``BusyInterval.source`` (``calendar:<id>``)."""
    if not source.startswith(CALENDAR_SOURCE_PREFIX):
        return None
    ident = source[len(CALENDAR_SOURCE_PREFIX) :]
    return int(ident) if ident.isdigit() else None


def _calendars(session: Session, provider_id: int, sources: set[str]) -> dict[str, CalendarRef]:
    ids = {ident for ident in map(calendar_id_of, sources) if ident is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(ExternalCalendar.id, ExternalCalendar.name, Connection.account)
        .join(Connection, Connection.id == ExternalCalendar.connection_id)
        .where(ExternalCalendar.provider_id == provider_id, ExternalCalendar.id.in_(ids))
    )
    return {
        f"{CALENDAR_SOURCE_PREFIX}{ident}": CalendarRef(ident, name, account)
        for ident, name, account in rows
    }


def _weekly_hours(session: Session, provider_id: int) -> list[availability.WeeklyHours]:
    return [
        availability.WeeklyHours(weekday, start, end)
        for weekday, start, end in session.execute(
            select(
                AvailabilityRule.weekday, AvailabilityRule.start_minute, AvailabilityRule.end_minute
            ).where(AvailabilityRule.provider_id == provider_id)
        )
    ]


def _overrides(
    session: Session, provider_id: int, first_day: dt.date, last_day: dt.date
) -> list[tuple[int, availability.DateOverride]]:
    return [
        (ident, availability.DateOverride(day, available, start, end))
        for ident, day, available, start, end in session.execute(
            select(
                DateOverride.id,
                DateOverride.date,
                DateOverride.available,
                DateOverride.start_minute,
                DateOverride.end_minute,
            )
            .where(
                DateOverride.provider_id == provider_id,
                DateOverride.date >= first_day,
                DateOverride.date <= last_day,
            )
            .order_by(DateOverride.id)
        )
    ]


def _override_reasons(
    start: dt.datetime,
    duration: dt.timedelta,
    zone: ZoneInfo,
    overrides: Sequence[tuple[int, availability.DateOverride]],
) -> list[Reason]:
    """The day off or hours off that removed a start the weekly hours offer."""
    local = start.astimezone(zone)
    first = local.hour * 60 + local.minute
    last = first + _minutes(duration)
    offs = [(ident, o) for ident, o in overrides if o.date == local.date() and not o.available]
    named = [
        (ident, o)
        for ident, o in offs
        if o.start_minute is None
        or (o.end_minute is not None and o.start_minute < last and first < o.end_minute)
    ]
    reasons = [
        Reason(
            DATE_OVERRIDE,
            f"day off on {o.date.isoformat()} (date override {ident})"
            if o.start_minute is None
            else f"hours off on {o.date.isoformat()} (date override {ident})",
            override_id=ident,
        )
        for ident, o in (named or offs)
    ]
    # Only an override removes weekly hours; this fallback keeps the start explained anyway.
    return reasons or [Reason(OUTSIDE_WORKING_HOURS, "outside working hours")]


def _wall_clock(instant: dt.datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%H:%M")


def _minutes(span: dt.timedelta) -> int:
    return int(span.total_seconds() // 60)
