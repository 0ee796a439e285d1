"""freebusy.query (https://developers.google.com/workspace/calendar/api/v3/reference/freebusy/query)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .accounts import FakeAccount
from .calendar import FakeCalendar
from .errors import ApiError, invalid, required, time_range_empty
from .events import Event, declined_by_self, span
from .timeutil import TimeFormatError, format_datetime, format_timestamp, parse_datetime, zone

MAX_CALENDARS = 50


def busy_event(event: Event, calendar_id: str) -> bool:
    """The event blocks time: not cancelled, opaque, and not declined by the calendar's owner."""
    return (
        event["status"] != "cancelled"
        and event.get("transparency", "opaque") == "opaque"
        and not declined_by_self(event, calendar_id)
    )


def query(account: FakeAccount, body: object) -> dict[str, Any]:
    """Answer a freeBusy request body for ``account``.

    Raises:
        ApiError: 400 for a malformed request.
    """
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    bounds = []
    for name in ("timeMin", "timeMax"):
        if body.get(name) is None:
            raise required(f"Missing {name}.", location=name)
        try:
            bounds.append(parse_datetime(body[name]))
        except TimeFormatError:
            raise invalid(f"Invalid value for {name}.", location=name) from None
    low, high = bounds
    if low >= high:
        raise time_range_empty("timeMax")
    try:
        tz = zone(body.get("timeZone") or "UTC")
    except TimeFormatError:
        raise invalid("Invalid time zone.", location="timeZone") from None
    items = body.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise invalid("Invalid items.", location="items")
    calendars: dict[str, Any] = {}
    for item in items:
        requested = item.get("id")
        if not isinstance(requested, str):
            raise required("Missing calendar id.", location="items.id")
        if len(items) > MAX_CALENDARS:
            calendars[requested] = _error("tooManyCalendarsRequested")
            continue
        reachable = account.access_role(account.email if requested == "primary" else requested)
        if reachable is None:
            calendars[requested] = _error("notFound")
            continue
        intervals = _busy(reachable[0], low, high)
        calendars[requested] = {
            "busy": [
                {"start": format_datetime(s, tz), "end": format_datetime(e, tz)}
                for s, e in intervals
            ]
        }
    return {
        "kind": "calendar#freeBusy",
        "timeMin": format_timestamp(low),
        "timeMax": format_timestamp(high),
        "calendars": calendars,
    }


def _error(reason: str) -> dict[str, Any]:
    return {"errors": [{"domain": "global", "reason": reason}], "busy": []}


def _busy(
    calendar: FakeCalendar, low: dt.datetime, high: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    store = calendar.store
    events: list[Event] = []
    for stored in store.stored():
        if stored.is_exception:
            continue  # reached through its series
        if stored.is_master:
            if not stored.cancelled:
                events.extend(i.data for i in store.instances(stored, until=high))
        else:
            events.append(stored.data)
    intervals = []
    for event in events:
        if not busy_event(event, calendar.id):
            continue
        start, end = span(event, store.tz)
        start, end = max(start, low), min(end, high)
        if start < end:
            intervals.append((start, end))
    intervals.sort()
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
