"""Google Calendar event resources ⇄ the connector value types.

Pure functions, no I/O. The resource is described in
https://developers.google.com/workspace/calendar/api/v3/reference/events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Mapping
from typing import Any

from bridge.connectors.base import (
    Blocking,
    EventTime,
    OutboundEvent,
    RemoteChange,
    RemoteDeletion,
    RemoteEvent,
    WrittenEvent,
)

BOOKING_PROPERTY = "bridgeBookingUid"
"""The ``extendedProperties.private`` key holding the booking UID (our marker)."""

_FREE_TYPES = frozenset({"workingLocation", "birthday"})


class Unmappable(ValueError):
    """An event resource the connector cannot make sense of; ``str()`` is the reason."""


def event_id(booking_uid: str) -> str:
    """The Google event id of a booking's event: stable, and valid base32hex (``[a-v0-9]``).

    ``bk`` and lower-case hex digits are all base32hex characters; 40 hex digits keep 160 bits
    of the UID's SHA-256, far from any collision.
    """
    return "bk" + hashlib.sha256(booking_uid.encode("utf-8")).hexdigest()[:40]


def write_body(event: OutboundEvent) -> dict[str, Any]:
    """The fields of a booking's event, for insert and patch (no attendees, ever)."""
    return {
        "summary": event.summary,
        "description": event.description,
        "start": _write_time(event.start, event.time_zone),
        "end": _write_time(event.end, event.time_zone),
        "transparency": "opaque",
        "extendedProperties": {"private": {BOOKING_PROPERTY: event.booking_uid, "bridge": "1"}},
        "reminders": {"useDefault": True},
    }


def insert_body(event: OutboundEvent) -> dict[str, Any]:
    return {"id": event_id(event.booking_uid), **write_body(event)}


def matches(item: Mapping[str, Any], event: OutboundEvent) -> bool:
    """Whether the stored event already shows ``event`` (live, same times, texts and marker)."""
    if item.get("status") == "cancelled" or item.get("transparency") == "transparent":
        return False
    try:
        start = parse_time(item.get("start"), None)
        end = parse_time(item.get("end"), None)
    except Unmappable:
        return False
    return (
        start == event.start.replace(microsecond=0)
        and end == event.end.replace(microsecond=0)
        and item.get("summary", "") == event.summary
        and item.get("description", "") == event.description
        and marker_of(item) == event.booking_uid
    )


def written(item: Mapping[str, Any], event: OutboundEvent) -> WrittenEvent:
    """What a write left, from Google's answer (the times we sent if it has none readable)."""
    try:
        start = parse_time(item.get("start"), event.time_zone)
        end = parse_time(item.get("end"), event.time_zone)
    except Unmappable:
        start, end = event.start, event.end
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        start, end = event.start, event.end
    return WrittenEvent(
        remote_id=str(item.get("id") or event_id(event.booking_uid)),
        etag=_etag(item),
        start=start,
        end=end,
    )


def to_change(item: Mapping[str, Any], calendar_zone: str | None) -> RemoteChange:
    """The change an ``events.list`` item stands for.

    Args:
        item: the event resource.
        calendar_zone: the calendar's zone (``timeZone`` of the list answer), used when the
            event names none.

    Raises:
        Unmappable: the item lacks what a change needs (an id, readable times).
    """
    remote_id = item.get("id")
    if not isinstance(remote_id, str) or not remote_id:
        raise Unmappable("the event has no id")
    series_id = item.get("recurringEventId")
    if series_id is not None and not isinstance(series_id, str):
        raise Unmappable("recurringEventId is not a string")
    if item.get("status") == "cancelled":
        original = item.get("originalStartTime")
        zone = _zone_of(original) or calendar_zone
        return RemoteDeletion(
            remote_id=remote_id,
            series_id=series_id,
            original_start=None if original is None else parse_time(original, zone),
        )
    return to_event(item, calendar_zone)


def to_event(item: Mapping[str, Any], calendar_zone: str | None) -> RemoteEvent:
    """The live event ``item`` describes (its ``status`` is not looked at).

    Raises:
        Unmappable: see :func:`to_change`.
    """
    remote_id = item.get("id")
    if not isinstance(remote_id, str) or not remote_id:
        raise Unmappable("the event has no id")
    start_value = item.get("start")
    end_value = item.get("end")
    if start_value is None:
        raise Unmappable("the event has no start")
    if end_value is None:
        raise Unmappable("the event has no end")
    zone = _zone_of(start_value) or calendar_zone
    start = parse_time(start_value, zone)
    end = parse_time(end_value, _zone_of(end_value) or zone)
    if isinstance(start, dt.datetime) != isinstance(end, dt.datetime):
        raise Unmappable("the start and the end mix a date and a date-time")
    if end < start:
        raise Unmappable("the event ends before it starts")
    recurrence = item.get("recurrence") or []
    if not isinstance(recurrence, list) or not all(isinstance(r, str) for r in recurrence):
        raise Unmappable("recurrence is not a list of lines")
    original = item.get("originalStartTime")
    series_id = item.get("recurringEventId")
    ident = item.get("iCalUID")
    return RemoteEvent(
        remote_id=remote_id,
        etag=_etag(item),
        start=start,
        end=end,
        blocks=blocking(item),
        time_zone=zone,
        recurrence=tuple(recurrence),
        series_id=series_id if isinstance(series_id, str) else None,
        original_start=(
            None if original is None else parse_time(original, _zone_of(original) or zone)
        ),
        ident=ident if isinstance(ident, str) else None,
        marker=marker_of(item),
    )


def blocking(item: Mapping[str, Any]) -> Blocking:
    """What a live event does to the provider's availability.

    Working locations and birthdays never block; neither do transparent ("free") events nor
    invitations the calendar's owner declined. An unanswered invitation is ``UNANSWERED``.
    Everything else, out-of-office, focus time and tentative events included, is busy.
    """
    if item.get("eventType") in _FREE_TYPES or item.get("transparency") == "transparent":
        return Blocking.FREE
    attendees = item.get("attendees")
    if isinstance(attendees, list):
        for attendee in attendees:
            if isinstance(attendee, Mapping) and attendee.get("self"):
                answer = attendee.get("responseStatus")
                if answer == "declined":
                    return Blocking.FREE
                if answer == "needsAction":
                    return Blocking.UNANSWERED
                break
    return Blocking.BUSY


def marker_of(item: Mapping[str, Any]) -> str | None:
    properties = item.get("extendedProperties")
    if not isinstance(properties, Mapping):
        return None
    private = properties.get("private")
    if not isinstance(private, Mapping):
        return None
    value = private.get(BOOKING_PROPERTY)
    return value if isinstance(value, str) else None


def parse_time(value: object, zone: str | None) -> EventTime:
    """A Google ``EventDateTime`` (``{"date"}`` or ``{"dateTime", "timeZone"}``).

    Args:
        value: the ``start``, ``end`` or ``originalStartTime`` object.
        zone: the zone for a ``dateTime`` without an offset, if the value names none.

    Returns:
        A date for ``date``; an aware datetime for ``dateTime``.

    Raises:
        Unmappable: anything else.
    """
    if not isinstance(value, Mapping):
        raise Unmappable("a time is not an object")
    date_text = value.get("date")
    time_text = value.get("dateTime")
    try:
        if isinstance(time_text, str):
            moment = dt.datetime.fromisoformat(time_text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=_zone(_zone_of(value) or zone))
            return moment
        if isinstance(date_text, str):
            return dt.date.fromisoformat(date_text)
    except ValueError as exc:
        raise Unmappable(f"unreadable time: {exc}") from None
    raise Unmappable("a time has neither date nor dateTime")


def _zone_of(value: object) -> str | None:
    if isinstance(value, Mapping):
        zone = value.get("timeZone")
        if isinstance(zone, str) and zone:
            return zone
    return None


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    if name is None:
        raise Unmappable("a local time without a time zone")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Unmappable(f"unknown time zone {name!r}") from None


def _write_time(moment: dt.datetime, zone_name: str) -> dict[str, str]:
    try:
        local = moment.astimezone(zoneinfo.ZoneInfo(zone_name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local = moment
    # Whole seconds: Google drops fractions, and a round trip must compare equal.
    return {"dateTime": local.replace(microsecond=0).isoformat(), "timeZone": zone_name}


def _etag(item: Mapping[str, Any]) -> str | None:
    etag = item.get("etag")
    return etag if isinstance(etag, str) else None
