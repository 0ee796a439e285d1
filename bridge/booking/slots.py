"""Free slots of a service, from the database: working hours minus everything busy."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import availability
from bridge.availability import Interval
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

_MAX_BUFFER = dt.timedelta(minutes=MAX_BUFFER_MINUTES)
_MINUTE = dt.timedelta(minutes=1)


def rules_of(service: Service) -> availability.SlotRules:
    return availability.SlotRules(
        duration=dt.timedelta(minutes=service.duration_minutes),
        step=dt.timedelta(minutes=service.slot_step_minutes),
        buffer_before=dt.timedelta(minutes=service.buffer_before_minutes),
        buffer_after=dt.timedelta(minutes=service.buffer_after_minutes),
        min_notice=dt.timedelta(minutes=service.min_notice_minutes),
        horizon=dt.timedelta(days=service.horizon_days),
    )


def booking_intervals(
    session: Session, provider_id: int, span: Interval, *, exclude_booking_id: int | None = None
) -> list[Interval]:
    """Confirmed bookings near ``span``, each widened by its own buffers."""
    query = select(
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
    if exclude_booking_id is not None:
        query = query.where(Booking.id != exclude_booking_id)
    widened = []
    minute = _MINUTE
    for start, end, before, after in session.connection().execute(query).all():
        interval = Interval(start - before * minute, end + after * minute)
        if interval.overlaps(span):
            widened.append(interval)
    return widened


def busy_near(
    session: Session, provider_id: int, span: Interval, *, exclude_booking_id: int | None = None
) -> list[Interval]:
    """Everything that blocks ``span``: bookings (with buffers), blocked times, imported busy."""
    busy = booking_intervals(session, provider_id, span, exclude_booking_id=exclude_booking_id)
    blocked = select(BlockedTime.start_at, BlockedTime.end_at).where(
        BlockedTime.provider_id == provider_id,
        BlockedTime.end_at > span.start,
        BlockedTime.start_at < span.end,
    )
    imported = select(BusyInterval.start_at, BusyInterval.end_at).where(
        BusyInterval.provider_id == provider_id,
        BusyInterval.start_at > span.start - MAX_ROW_LENGTH,
        BusyInterval.start_at < span.end,
        BusyInterval.end_at > span.start,
    )
    connection = session.connection()  # Core rows: no ORM result machinery on the hot path
    for query in (blocked, imported):
        busy.extend(Interval._make(row) for row in connection.execute(query).all())
    return busy


def working_intervals(session: Session, provider: Provider, span: Interval) -> list[Interval]:
    zone = ZoneInfo(provider.time_zone)
    first_day = span.start.astimezone(zone).date() - dt.timedelta(days=1)
    last_day = span.end.astimezone(zone).date()
    weekly = [
        availability.WeeklyHours(weekday, start, end)
        for weekday, start, end in session.execute(
            select(
                AvailabilityRule.weekday, AvailabilityRule.start_minute, AvailabilityRule.end_minute
            ).where(AvailabilityRule.provider_id == provider.id)
        )
    ]
    overrides = [
        availability.DateOverride(day, available, start, end)
        for day, available, start, end in session.execute(
            select(
                DateOverride.date,
                DateOverride.available,
                DateOverride.start_minute,
                DateOverride.end_minute,
            ).where(
                DateOverride.provider_id == provider.id,
                DateOverride.date >= first_day,
                DateOverride.date <= last_day,
            )
        )
    ]
    return availability.working_intervals(zone, weekly, overrides, first_day, last_day)


def find_slots(
    session: Session,
    provider: Provider,
    service: Service,
    window: Interval,
    now: dt.datetime,
    *,
    exclude_booking_id: int | None = None,
) -> list[Interval]:
    """Free slots of ``service`` starting in ``window``.

    Args:
        exclude_booking_id: a booking whose own time does not count as busy (its reschedule).
    """
    rules = rules_of(service)
    latest = min(window.end, now + rules.horizon + dt.timedelta(microseconds=1))
    if latest <= window.start:
        return []
    window = Interval(window.start, latest)
    reach = Interval(
        window.start - rules.buffer_before,
        window.end + rules.duration + rules.buffer_after,
    )
    working = working_intervals(session, provider, reach)
    # Busy time matters only around working periods that may hold a slot.
    earliest = max(window.start, now + rules.min_notice)
    candidates = [p for p in working if p.end > earliest and p.start < window.end]
    if not candidates:
        return []
    reach = Interval(
        max(reach.start, candidates[0].start - rules.buffer_before),
        min(reach.end, candidates[-1].end + rules.buffer_after),
    )
    busy = busy_near(session, provider.id, reach, exclude_booking_id=exclude_booking_id)
    return availability.free_slots(working, busy, rules, now, window)


def is_free_slot(
    session: Session,
    provider: Provider,
    service: Service,
    start: dt.datetime,
    now: dt.datetime,
    *,
    exclude_booking_id: int | None = None,
) -> bool:
    """Whether ``start`` is one of the slots a client could pick right now."""
    window = Interval(start, start + dt.timedelta(microseconds=1))
    slots = find_slots(
        session, provider, service, window, now, exclude_booking_id=exclude_booking_id
    )
    return any(slot.start == start for slot in slots)
