"""Free slots of a service, from the database: working hours minus everything busy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bridge import availability
from bridge.availability import Interval
from bridge.booking.validation import MAX_BUFFER_MINUTES
from bridge.store.models import (
    BOOKING_CONFIRMED,
    AvailabilityRule,
    BlockedTime,
    Booking,
    BusyInterval,
    DateOverride,
    Provider,
    Service,
)

_MAX_BUFFER = dt.timedelta(minutes=MAX_BUFFER_MINUTES)


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
        Booking.status == BOOKING_CONFIRMED,
        Booking.end_at > span.start - _MAX_BUFFER,
        Booking.start_at < span.end + _MAX_BUFFER,
    )
    if exclude_booking_id is not None:
        query = query.where(Booking.id != exclude_booking_id)
    widened = []
    for start, end, before, after in session.execute(query):
        interval = Interval(start - dt.timedelta(minutes=before), end + dt.timedelta(minutes=after))
        if interval.overlaps(span):
            widened.append(interval)
    return widened


def busy_near(
    session: Session,
    provider_id: int,
    span: Interval,
    *,
    exclude_booking_id: int | None = None,
    only: Sequence[Interval] = (),
) -> list[Interval]:
    """Everything that blocks ``span``: bookings (with buffers), blocked times, imported busy.

    Args:
        only: if given, blocked and imported busy time is fetched only where it overlaps one of
            these intervals (the working periods widened by the buffers): the rest cannot block
            a slot, and converting rows is most of the cost when a calendar is crowded.
    """
    busy = booking_intervals(session, provider_id, span, exclude_booking_id=exclude_booking_id)
    for model in (BlockedTime, BusyInterval):
        query = select(model.start_at, model.end_at).where(
            model.provider_id == provider_id,
            model.end_at > span.start,
            model.start_at < span.end,
        )
        if only:
            query = query.where(
                or_(*(and_(model.end_at > i.start, model.start_at < i.end) for i in only))
            )
        busy.extend(Interval(start, end) for start, end in session.execute(query))
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
    # Where busy time can matter: working periods that may hold a slot, widened by the buffers.
    earliest = max(window.start, now + rules.min_notice)
    relevant = availability.merge(
        Interval(period.start - rules.buffer_before, period.end + rules.buffer_after)
        for period in working
        if period.end > earliest and period.start < window.end
    )
    if not relevant:
        return []
    busy = busy_near(
        session, provider.id, reach, exclude_booking_id=exclude_booking_id, only=relevant
    )
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
