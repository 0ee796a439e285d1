"""What a CalDAV client's writes to the ``bookings`` calendar mean.

Every function runs inside the caller's write transaction (the Radicale storage plugin holds
one for the whole request), so the checks and the change commit together, and a refusal
(:class:`~bridge.dav.errors.DavRefused`) leaves the database as it was once the caller rolls
back.

- PUT to a booking's href: only DTSTART/DTEND change the booking (a provider-side reschedule:
  it may leave working hours but may not overlap another booking, see
  :func:`bridge.booking.bookings.reschedule_in`). The booking keeps its length: a PUT that
  resizes it is refused. Whatever else the client added (alarms, categories, colour,
  X- properties) is kept as the booking's overlay. A PUT that changes no time is not a
  reschedule.
- PUT to a new href: a blocked time, kept verbatim, blocking its occurrences
  (:mod:`bridge.dav.blocked`).
- DELETE of a booking's href cancels the booking; of a blocked time's href deletes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import clock, ical
from bridge.booking import bookings
from bridge.dav import blocked, items, projection
from bridge.dav.errors import InvalidCalendarData, WriteConflict, WriteForbidden, bridge, caldav
from bridge.dav.items import ItemFacts
from bridge.errors import InvalidStateChange, SlotUnavailable
from bridge.store.models import Booking, DavCollection, DavItem, Provider

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Stored:
    """The outcome of a PUT: the item now stored, and whether its text is not what was sent.

    ``rewritten`` items are served in the bridge's own rendering, so the client must fetch them
    again (the PUT answer then carries no ETag, RFC 4791 §5.3.4).
    """

    item: DavItem
    rewritten: bool


def parse(text: str) -> icalendar.Calendar:
    """Parse one calendar object resource.

    Raises:
        InvalidCalendarData: with the parser's reason.
    """
    try:
        return icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        raise InvalidCalendarData(f"not valid iCalendar: {exc}") from exc


def _require_event(facts: ItemFacts) -> None:
    if facts.component != "VEVENT":
        raise WriteForbidden(
            caldav("supported-calendar-component"),
            f"the bookings calendar holds events (VEVENT) only, not {facts.component or 'this'}; "
            "keep tasks and notes in a calendar of your own",
        )


def put(
    session: Session,
    provider: Provider,
    collection: DavCollection,
    href: str,
    facts: ItemFacts,
    actor: bookings.Actor,
) -> Stored:
    """Store a client's PUT to ``href`` in the ``bookings`` calendar (see module doc).

    Raises:
        DavRefused: the write is refused; the caller must roll back.
    """
    _require_event(facts)
    existing = items.get_item(session, collection, href)
    if existing is not None and existing.booking_id is not None:
        return _put_booking(session, provider, existing.booking_id, facts, actor)
    if existing is None and session.scalar(select(Booking.id).where(Booking.uid == facts.uid)):
        # A booking's event put back after its cancellation (e.g. "Undo" in a calendar app):
        # a copy of a booking is never blocked time, and a cancellation is not undone here.
        raise WriteConflict(
            bridge("booking-cancelled"),
            "this event is a cancelled booking: it cannot be restored from the calendar; "
            "book the time again through the booking system",
        )
    return Stored(_put_blocked_time(session, provider, collection, href, facts), False)


def _single_event(calendar: icalendar.Calendar) -> icalendar.Event:
    events = [c for c in calendar.subcomponents if isinstance(c, icalendar.Event)]
    recurring = any(
        name in event for event in events for name in ("RRULE", "RDATE", "RECURRENCE-ID")
    )
    if len(events) != 1 or recurring:
        raise WriteForbidden(
            bridge("booking-is-one-event"),
            "a booking is one appointment: it cannot repeat or have exceptions",
        )
    return events[0]


def _times(event: icalendar.Event, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    try:
        start_value, end_value = event.start, event.end
    except ValueError as exc:  # icalendar's InvalidCalendar and IncompleteComponent
        raise InvalidCalendarData(f"the event's times are unusable: {exc}") from exc
    if not isinstance(start_value, dt.datetime):
        raise WriteForbidden(
            bridge("booking-has-a-time"),
            "a booking has a start time: it cannot become an all-day event",
        )
    if not isinstance(end_value, dt.datetime):
        raise InvalidCalendarData("DTEND must be a date-time like DTSTART")

    def utc(value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(dt.UTC)

    return utc(start_value), utc(end_value)


def _minutes(length: dt.timedelta) -> str:
    return f"{int(length.total_seconds() // 60)} minutes"


def _put_booking(
    session: Session,
    provider: Provider,
    booking_id: int,
    facts: ItemFacts,
    actor: bookings.Actor,
) -> Stored:
    booking = session.get(Booking, booking_id)
    if booking is None:  # pragma: no cover - the item's foreign key cascades
        raise WriteConflict(bridge("booking-gone"), "this booking no longer exists")
    event = _single_event(parse(facts.text))
    start, end = _times(event, ZoneInfo(provider.time_zone))
    if (start, end) != (booking.start_at, booking.end_at):
        length = booking.end_at - booking.start_at
        if end - start != length:
            raise WriteForbidden(
                bridge("booking-keeps-its-length"),
                f"a booking keeps its length ({_minutes(length)}); move it without resizing "
                "it, or change it in the booking system",
            )
        try:
            bookings.reschedule_in(session, provider, booking.id, start, actor)
        except SlotUnavailable as exc:
            raise WriteConflict(
                bridge("booking-time-unavailable"),
                f"cannot move the booking to {start.isoformat()}: the time overlaps another "
                "booking (including its buffers); nothing was changed",
            ) from exc
        except InvalidStateChange as exc:
            raise WriteForbidden(bridge("booking-not-movable"), str(exc)) from exc
    item = projection.project_booking(
        session, booking, overlay=ical.overlay_of(event), keep_overlay=False
    )
    if item is None:  # pragma: no cover - only confirmed bookings have items
        raise WriteConflict(bridge("booking-gone"), "this booking is cancelled")
    return Stored(item, item.text != facts.text)


def _put_blocked_time(
    session: Session,
    provider: Provider,
    collection: DavCollection,
    href: str,
    facts: ItemFacts,
) -> DavItem:
    calendar = parse(facts.text)
    intervals = blocked.occurrences(calendar, ZoneInfo(provider.time_zone), clock.now())
    item, changed = items.put_item(session, collection, href, facts)
    if changed:
        blocked.replace_blocks(session, provider.id, item, intervals, blocked.summary_of(calendar))
        log.info(
            "CalDAV blocked time %s of provider %s: %d occurrence(s)",
            href,
            provider.slug,
            len(intervals),
        )
    return item


def delete(
    session: Session,
    provider: Provider,
    collection: DavCollection,
    href: str,
    actor: bookings.Actor,
) -> bool:
    """Delete ``href`` from the ``bookings`` calendar: cancel a booking or drop a blocked time.

    Returns:
        Whether ``href`` existed.
    """
    existing = items.get_item(session, collection, href)
    if existing is None:
        return False
    if existing.booking_id is not None:
        bookings.cancel_in(session, provider, existing.booking_id, actor)
        return True
    return items.delete_item(session, collection, href)  # its blocked times cascade
