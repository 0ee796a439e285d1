"""Working hours (weekly rules and date overrides) and blocked times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bridge import availability
from bridge.booking.validation import check_minutes_range, check_text
from bridge.errors import NotFound, ValidationFailed
from bridge.store.models import AvailabilityRule, BlockedTime, DateOverride

WEEKDAYS_9_TO_5 = tuple(availability.WeeklyHours(day, 9 * 60, 17 * 60) for day in range(5))
MAX_BLOCK = dt.timedelta(days=366)


def get_weekly_hours(session: Session, provider_id: int) -> list[availability.WeeklyHours]:
    rows = session.scalars(
        select(AvailabilityRule)
        .where(AvailabilityRule.provider_id == provider_id)
        .order_by(AvailabilityRule.weekday, AvailabilityRule.start_minute)
    )
    return [availability.WeeklyHours(r.weekday, r.start_minute, r.end_minute) for r in rows]


def set_weekly_hours(
    session: Session, provider_id: int, hours: Sequence[availability.WeeklyHours]
) -> list[availability.WeeklyHours]:
    """Replace the provider's weekly hours; overlapping periods of a day are merged.

    Raises:
        ValidationFailed: a weekday or a period is out of range.
    """
    problems: dict[str, str] = {}
    for index, period in enumerate(hours):
        if not 0 <= period.weekday <= 6:
            problems[f"hours[{index}].weekday"] = "must be 0 (Monday) to 6 (Sunday)"
        try:
            check_minutes_range(period.start_minute, period.end_minute, f"hours[{index}]")
        except ValidationFailed as exc:
            problems.update(exc.fields)
    if problems:
        raise ValidationFailed(problems)
    merged: list[availability.WeeklyHours] = []
    for period in sorted(hours, key=lambda h: (h.weekday, h.start_minute)):
        last = merged[-1] if merged else None
        if last and last.weekday == period.weekday and period.start_minute <= last.end_minute:
            merged[-1] = availability.WeeklyHours(
                last.weekday, last.start_minute, max(last.end_minute, period.end_minute)
            )
        else:
            merged.append(period)
    session.execute(delete(AvailabilityRule).where(AvailabilityRule.provider_id == provider_id))
    session.add_all(
        AvailabilityRule(
            provider_id=provider_id,
            weekday=p.weekday,
            start_minute=p.start_minute,
            end_minute=p.end_minute,
        )
        for p in merged
    )
    session.flush()
    return merged


def list_overrides(
    session: Session, provider_id: int, first: dt.date | None = None, last: dt.date | None = None
) -> list[DateOverride]:
    query = select(DateOverride).where(DateOverride.provider_id == provider_id)
    if first is not None:
        query = query.where(DateOverride.date >= first)
    if last is not None:
        query = query.where(DateOverride.date <= last)
    return list(session.scalars(query.order_by(DateOverride.date, DateOverride.start_minute)))


def add_override(
    session: Session,
    provider_id: int,
    date: dt.date,
    *,
    available: bool,
    start_minute: int | None,
    end_minute: int | None,
) -> DateOverride:
    """Add a day off (unavailable, no hours), hours off, or extra hours (available, hours).

    Raises:
        ValidationFailed: extra hours without times, or a malformed period.
    """
    if (start_minute is None) != (end_minute is None):
        raise ValidationFailed({"end": "give both start and end, or neither for the whole day"})
    if start_minute is not None and end_minute is not None:
        check_minutes_range(start_minute, end_minute, "start")
    elif available:
        raise ValidationFailed({"start": "extra hours need a start and an end"})
    override = DateOverride(
        provider_id=provider_id,
        date=date,
        available=available,
        start_minute=start_minute,
        end_minute=end_minute,
    )
    session.add(override)
    session.flush()
    return override


def delete_override(session: Session, provider_id: int, override_id: int) -> None:
    override = session.get(DateOverride, override_id)
    if override is None or override.provider_id != provider_id:
        raise NotFound("date override", override_id)
    session.delete(override)
    session.flush()


def list_blocked_times(
    session: Session, provider_id: int, window: availability.Interval | None = None
) -> list[BlockedTime]:
    query = select(BlockedTime).where(BlockedTime.provider_id == provider_id)
    if window is not None:
        query = query.where(BlockedTime.end_at > window.start, BlockedTime.start_at < window.end)
    return list(session.scalars(query.order_by(BlockedTime.start_at)))


def add_blocked_time(
    session: Session,
    provider_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    summary: str | None = None,
    source: str = "api",
) -> BlockedTime:
    """Block [start, end) for every service of the provider.

    Raises:
        ValidationFailed: naive times, an empty or over-long period, an over-long summary.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed({"start": "needs a UTC offset"})
    if not start < end:
        raise ValidationFailed({"end": "must be after start"})
    if end - start > MAX_BLOCK:
        raise ValidationFailed({"end": "a blocked time may span at most 366 days"})
    block = BlockedTime(
        provider_id=provider_id,
        start_at=start,
        end_at=end,
        summary=check_text(summary, "summary", max_length=500, required=False) if summary else None,
        source=source,
    )
    session.add(block)
    session.flush()
    return block


def delete_blocked_time(session: Session, provider_id: int, block_id: int) -> None:
    block = session.get(BlockedTime, block_id)
    if block is None or block.provider_id != provider_id:
        raise NotFound("blocked time", block_id)
    session.delete(block)
    session.flush()
