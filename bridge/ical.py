"""Bookings as iCalendar (RFC 5545), with the icalendar library.

One rendering of a booking serves every reader: the CalDAV ``bookings`` collection, ICS feeds and
(later) the connectors. The text is a pure function of the booking's stored state, so its ETag
changes exactly when the booking (or a client's overlay) does: DTSTAMP and LAST-MODIFIED are the
booking's ``updated_at``, SEQUENCE is ``version - 1``. Events carry no ORGANIZER or ATTENDEE:
clients would show them as invitations.

A client may add to a booking's event what is theirs to keep (alarms, categories, colour, X-
properties): :func:`overlay_of` extracts that part of a PUT and :func:`booking_calendar` merges
it back on every rendering.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

import icalendar

from bridge.store.models import Booking
from bridge.vtimezone import vtimezone

UID_DOMAIN = "calendar-bridge"
PRODID = "-//Calendar Bridge//Calendar Bridge//EN"
BOOKING_ID_PROPERTY = "X-CALENDAR-BRIDGE-BOOKING"

# Properties the bridge writes and owns; a client's values for them are not kept.
MANAGED = frozenset(
    {
        "UID", "DTSTAMP", "LAST-MODIFIED", "CREATED", "SEQUENCE", "DTSTART", "DTEND",
        "DURATION", "SUMMARY", "DESCRIPTION", "STATUS", "TRANSP", "ORGANIZER", "ATTENDEE",
        "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "CLASS", BOOKING_ID_PROPERTY,
    }
)  # fmt: skip

Detail = Literal["full", "first_name", "busy"]


def new_calendar() -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    return calendar


def to_text(component: icalendar.cal.Component) -> str:
    return bytes(component.to_ical()).decode("utf-8")


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def booking_event(
    booking: Booking, service_name: str, zone_name: str, detail: Detail
) -> icalendar.Event:
    """The VEVENT of a confirmed booking.

    Args:
        detail: ``full`` (the provider's own calendar: client's name and contact details),
            ``first_name`` (a shared feed: service and the client's first name) or ``busy``
            (nothing but the time).
    """
    zone = ZoneInfo(zone_name)
    event = icalendar.Event()
    event.add("uid", booking.uid)
    event.add("dtstamp", booking.updated_at)
    event.add("created", booking.created_at)
    event.add("last-modified", booking.updated_at)
    event.add("sequence", booking.version - 1)
    event.add("dtstart", booking.start_at.astimezone(zone))
    event.add("dtend", booking.end_at.astimezone(zone))
    event.add("transp", "OPAQUE")
    event.add("status", "CONFIRMED")
    if detail == "busy":
        event.add("summary", "Busy")
        event.add("class", "PRIVATE")
        return event
    if detail == "first_name":
        event.add("summary", f"{service_name} – {first_name(booking.client_name)}")
        return event
    event.add("summary", f"{service_name} – {booking.client_name}")
    lines = [f"Client: {booking.client_name}", f"Email: {booking.client_email}"]
    if booking.client_phone:
        lines.append(f"Phone: {booking.client_phone}")
    if booking.client_notes:
        lines.append(f"Notes: {booking.client_notes}")
    event.add("description", "\n".join(lines))
    event.add(BOOKING_ID_PROPERTY, str(booking.id))
    return event


def booking_calendar(
    booking: Booking, service_name: str, zone_name: str, overlay: str | None = None
) -> str:
    """The calendar object resource of a booking: VTIMEZONE, VEVENT and the client's overlay."""
    calendar = new_calendar()
    calendar.add_component(vtimezone(zone_name))
    event = booking_event(booking, service_name, zone_name, "full")
    if overlay:
        merge_overlay(event, overlay)
    calendar.add_component(event)
    return to_text(calendar)


def _copy_unmanaged(source: icalendar.cal.Component, target: icalendar.Event) -> None:
    for name, value in source.property_items(recursive=False):
        if name in {"BEGIN", "END"} or name.upper() in MANAGED:
            continue
        target.add(name, value, encode=False)
    for component in source.subcomponents:
        target.add_component(component)


def overlay_of(event: icalendar.Event) -> str | None:
    """What a client added to a booking's event (not :data:`MANAGED`), as VEVENT text."""
    overlay = icalendar.Event()
    _copy_unmanaged(event, overlay)
    if not overlay.property_items(recursive=False)[1:-1] and not overlay.subcomponents:
        return None
    return to_text(overlay)


def merge_overlay(event: icalendar.Event, overlay: str) -> None:
    _copy_unmanaged(icalendar.Event.from_ical(overlay), event)
