"""Keep the ``bookings`` and ``busy`` collections in step with bookings and imported busy time.

Called inside the transaction that changes a booking or busy time, so a CalDAV client sees the
change at once and the change log (sync tokens) covers it. Generated items need no parsing: the
facts Radicale caches (UID, ETag, time range) are known from the rows themselves.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import icalendar
from radicale.item import get_etag
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import ical
from bridge.dav.items import ItemFacts, delete_item, get_item, new_collection, put_item
from bridge.store.models import (
    BOOKING_CONFIRMED,
    DAV_BOOKINGS,
    DAV_BUSY,
    Booking,
    BusyInterval,
    DavCollection,
    DavItem,
)

log = logging.getLogger(__name__)

BOOKINGS_PROPS = {
    "tag": "VCALENDAR",
    "D:displayname": "Bookings",
    "C:calendar-description": "Appointments booked with you; move or delete them here.",
    "C:supported-calendar-component-set": "VEVENT",
    "ICAL:calendar-color": "#1B7F5C",
}
BUSY_PROPS = {
    "tag": "VCALENDAR",
    "D:displayname": "Busy (external calendars)",
    "C:calendar-description": "Busy time imported from your other calendars (read-only).",
    "C:supported-calendar-component-set": "VEVENT",
    "ICAL:calendar-color": "#8A8A8A",
}


def _timestamp(instant: dt.datetime) -> int:
    return int(instant.timestamp())


def provider_collections(session: Session, provider_id: int) -> dict[str, DavCollection]:
    """The provider's ``bookings`` and ``busy`` collections, created (and filled) if missing."""
    found = {
        c.kind: c
        for c in session.scalars(
            select(DavCollection).where(
                DavCollection.provider_id == provider_id,
                DavCollection.kind.in_((DAV_BOOKINGS, DAV_BUSY)),
            )
        )
    }
    if DAV_BOOKINGS not in found:
        found[DAV_BOOKINGS] = new_collection(
            session, provider_id, DAV_BOOKINGS, DAV_BOOKINGS, BOOKINGS_PROPS
        )
        confirmed = session.scalars(
            select(Booking).where(
                Booking.provider_id == provider_id, Booking.status == BOOKING_CONFIRMED
            )
        )
        for booking in confirmed:
            _put_booking(session, found[DAV_BOOKINGS], booking)
    if DAV_BUSY not in found:
        found[DAV_BUSY] = new_collection(session, provider_id, DAV_BUSY, DAV_BUSY, BUSY_PROPS)
        rows = session.scalars(select(BusyInterval).where(BusyInterval.provider_id == provider_id))
        _put_busy(session, found[DAV_BUSY], rows)
    return found


def booking_href(booking: Booking) -> str:
    return f"booking-{booking.id}.ics"


def booking_item(session: Session, booking_id: int) -> DavItem | None:
    return session.scalar(select(DavItem).where(DavItem.booking_id == booking_id))


def _put_booking(
    session: Session, collection: DavCollection, booking: Booking, overlay: str | None = None
) -> DavItem:
    text = ical.booking_calendar(booking, booking.service.name, booking.provider.time_zone, overlay)
    facts = ItemFacts(
        text,
        booking.uid,
        "VEVENT",
        get_etag(text),
        _timestamp(booking.start_at),
        _timestamp(booking.end_at),
    )
    item, _ = put_item(
        session, collection, booking_href(booking), facts, booking_id=booking.id, overlay=overlay
    )
    return item


def project_booking(
    session: Session, booking: Booking, *, overlay: str | None = None, keep_overlay: bool = True
) -> DavItem | None:
    """Render a booking into its provider's ``bookings`` collection, or remove it if cancelled.

    Args:
        overlay: the client's additions (from a CalDAV PUT), used when ``keep_overlay`` is
            false; by default the additions stored with the item are kept.
    """
    collection = provider_collections(session, booking.provider_id)[DAV_BOOKINGS]
    href = booking_href(booking)
    if booking.status != BOOKING_CONFIRMED:
        delete_item(session, collection, href)
        return None
    if keep_overlay:
        existing = get_item(session, collection, href)
        overlay = existing.overlay if existing is not None else None
    return _put_booking(session, collection, booking, overlay)


def busy_href(busy_interval_id: int) -> str:
    return f"busy-{busy_interval_id}.ics"


def _busy_text(row: BusyInterval) -> str:
    calendar = ical.new_calendar()
    event = icalendar.Event()
    event.add("uid", f"busy-{row.id}@{ical.UID_DOMAIN}")
    event.add("dtstamp", row.imported_at)
    event.add("dtstart", row.start_at)
    event.add("dtend", row.end_at)
    event.add("summary", "Busy")
    event.add("transp", "OPAQUE")
    event.add("class", "PRIVATE")
    calendar.add_component(event)
    return ical.to_text(calendar)


def project_busy(
    session: Session,
    provider_id: int,
    *,
    added: Iterable[BusyInterval],
    removed_ids: Iterable[int],
) -> None:
    """Mirror added and removed busy-interval rows as anonymous "Busy" events."""
    collection = provider_collections(session, provider_id)[DAV_BUSY]
    for busy_id in removed_ids:
        delete_item(session, collection, busy_href(busy_id))
    _put_busy(session, collection, added)


def _put_busy(session: Session, collection: DavCollection, rows: Iterable[BusyInterval]) -> None:
    for row in rows:
        text = _busy_text(row)
        facts = ItemFacts(
            text,
            f"busy-{row.id}@{ical.UID_DOMAIN}",
            "VEVENT",
            get_etag(text),
            _timestamp(row.start_at),
            _timestamp(row.end_at),
        )
        put_item(session, collection, busy_href(row.id), facts, busy_interval_id=row.id)
