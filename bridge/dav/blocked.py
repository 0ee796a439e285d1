"""Blocked time from the events a provider creates in their ``bookings`` calendar.

Such an event is kept verbatim as a CalDAV item; what it blocks is stored beside it as
:class:`~bridge.store.models.BlockedTime` rows pointing at the item (``dav_item_id``), so the slot
search needs no iCalendar parsing and deleting the item deletes its blocks (cascade).

Rules (the same as for imported busy time, see ``docs/architecture.md``):

- every occurrence of a recurring event blocks (RRULE, RDATE, EXDATE and moved occurrences are
  honoured); occurrences are expanded from :data:`LOOKBACK` before now up to :data:`HORIZON`
  ahead, at most :data:`MAX_OCCURRENCES` per event. Saving the event again re-expands it from
  the new "now";
- an all-day event blocks whole local days in the provider's time zone; a floating time is read
  in that zone too;
- ``TRANSP:TRANSPARENT`` and ``STATUS:CANCELLED`` occurrences block nothing;
- one occurrence blocks at most :data:`~bridge.booking.schedule.MAX_BLOCK`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]
from sqlalchemy import delete
from sqlalchemy.orm import Session

from bridge.availability import Interval
from bridge.booking.schedule import MAX_BLOCK
from bridge.dav.errors import InvalidCalendarData
from bridge.store.models import BlockedTime, DavItem

HORIZON = dt.timedelta(days=730)
LOOKBACK = dt.timedelta(days=1)
MAX_OCCURRENCES = 1000
SOURCE = "caldav"
_SUMMARY_LENGTH = 500


def _instant(value: dt.date | dt.datetime, zone: ZoneInfo) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


def _blocks(occurrence: icalendar.cal.Component) -> bool:
    transparency = str(occurrence.get("TRANSP", "OPAQUE")).upper()
    status = str(occurrence.get("STATUS", "")).upper()
    return transparency != "TRANSPARENT" and status != "CANCELLED"


def occurrences(calendar: icalendar.Calendar, zone: ZoneInfo, now: dt.datetime) -> list[Interval]:
    """The intervals an event blocks, in UTC, within the expansion window (see module doc).

    Raises:
        InvalidCalendarData: the recurrence cannot be expanded (a malformed rule, an end before
            the start).
    """
    earliest, latest = now - LOOKBACK, now + HORIZON
    found: list[Interval] = []
    try:
        query = recurring_ical_events.of(calendar, components=["VEVENT"])
        for occurrence in query.after(earliest):
            start = _instant(occurrence["DTSTART"].dt, zone)
            if start >= latest or len(found) >= MAX_OCCURRENCES:
                break
            if not _blocks(occurrence):
                continue
            end_property = occurrence.get("DTEND")
            end = _instant(end_property.dt, zone) if end_property is not None else start
            end = min(end, start + MAX_BLOCK)
            if start < end:
                found.append(Interval(start, end))
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise InvalidCalendarData(f"cannot expand the event's occurrences: {exc}") from exc
    return found


def summary_of(calendar: icalendar.Calendar) -> str | None:
    for event in calendar.walk("VEVENT"):
        if "SUMMARY" in event:
            return str(event["SUMMARY"])[:_SUMMARY_LENGTH] or None
    return None


def replace_blocks(
    session: Session,
    provider_id: int,
    item: DavItem,
    intervals: list[Interval],
    summary: str | None,
) -> None:
    """Make ``intervals`` the blocked time of ``item`` (replacing what it blocked before)."""
    session.execute(delete(BlockedTime).where(BlockedTime.dav_item_id == item.id))
    session.add_all(
        BlockedTime(
            provider_id=provider_id,
            start_at=interval.start,
            end_at=interval.end,
            summary=summary,
            source=SOURCE,
            dav_item_id=item.id,
        )
        for interval in intervals
    )
    session.flush()
