"""The event resource: validation of what clients send, and how Google renders it.

Stored events keep every ``dateTime`` as a UTC instant (``2026-03-02T09:00:00Z``) next to the
``timeZone`` the client gave; responses render it in the request's ``timeZone`` parameter or the
calendar's zone, as Google does. Validation follows the Event schema of the discovery document
and https://developers.google.com/workspace/calendar/api/v3/reference/events.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from . import recurrence
from .errors import ApiError, invalid, required, time_range_empty
from .timeutil import (
    TimeFormatError,
    format_datetime,
    format_utc,
    local_midnight,
    parse_date,
    parse_datetime,
    zone,
)

Event = dict[str, Any]

EVENT_FIELDS = frozenset(
    "anyoneCanAddSelf attachments attendees attendeesOmitted birthdayProperties colorId"
    " conferenceData created creator description end endTimeUnspecified etag eventLabelId"
    " eventType extendedProperties focusTimeProperties gadget guestsCanInviteOthers"
    " guestsCanModify guestsCanSeeOtherGuests hangoutLink htmlLink iCalUID id kind location"
    " locked organizer originalStartTime outOfOfficeProperties privateCopy recurrence"
    " recurringEventId reminders sequence source start status summary transparency updated"
    " visibility workingLocationProperties".split()
)
# Set by the server; whatever a client sends for these is ignored.
SERVER_FIELDS = frozenset(
    "kind etag htmlLink created updated creator organizer attendeesOmitted hangoutLink"
    " privateCopy locked id iCalUID recurringEventId originalStartTime eventType".split()
)
# The order Google's JSON uses.
FIELD_ORDER = (
    "kind etag id status htmlLink created updated summary description location colorId creator"
    " organizer start end endTimeUnspecified recurrence recurringEventId originalStartTime"
    " transparency visibility iCalUID sequence attendees attendeesOmitted extendedProperties"
    " hangoutLink conferenceData gadget anyoneCanAddSelf guestsCanInviteOthers guestsCanModify"
    " guestsCanSeeOtherGuests privateCopy locked reminders source workingLocationProperties"
    " outOfOfficeProperties focusTimeProperties attachments birthdayProperties eventLabelId"
    " eventType"
).split()

EVENT_TYPES = ("birthday", "default", "focusTime", "fromGmail", "outOfOffice", "workingLocation")
_ENUMS = {
    "status": ("confirmed", "tentative", "cancelled"),
    "transparency": ("opaque", "transparent"),
    "visibility": ("default", "public", "private", "confidential"),
    "eventType": EVENT_TYPES,
}
_DEFAULTS_OMITTED = {"transparency": "opaque", "visibility": "default"}
_STRINGS = ("summary", "description", "location", "colorId")
_RESPONSE_STATUSES = ("needsAction", "declined", "tentative", "accepted")
_ATTENDEE_FIELDS = frozenset(
    "additionalGuests comment displayName email id optional organizer resource responseStatus"
    " self".split()
)
_BUSY_ONLY_FIELDS = tuple(
    "kind etag id status updated start end recurringEventId originalStartTime transparency"
    " eventType".split()
)
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
MAX_PROPERTY_KEY = 44
MAX_PROPERTY_VALUE = 1024


@dataclasses.dataclass(frozen=True)
class When:
    """A parsed ``EventDateTime``: an instant (timed) or a day (all-day), and its zone."""

    instant: dt.datetime | None
    day: dt.date | None
    tz_name: str | None

    @property
    def all_day(self) -> bool:
        return self.day is not None

    def utc(self, calendar_tz: dt.tzinfo) -> dt.datetime:
        """The instant this starts; all-day values start at midnight in the calendar's zone."""
        if self.day is not None:
            return local_midnight(self.day, calendar_tz)
        return self.instant or dt.datetime.min.replace(tzinfo=dt.UTC)

    def stored(self) -> dict[str, str]:
        value: dict[str, str] = {}
        if self.day is not None:
            value["date"] = self.day.isoformat()
        elif self.instant is not None:
            value["dateTime"] = format_utc(self.instant)
        if self.tz_name is not None:
            value["timeZone"] = self.tz_name
        return value


def parse_when(value: object, field: str) -> When:
    """Parse the ``start``/``end``/``originalStartTime`` of a request body.

    Raises:
        ApiError: 400 as Google words it.
    """
    if not isinstance(value, dict) or not set(value) <= {"date", "dateTime", "timeZone"}:
        raise invalid(f"Invalid {field} time.")
    tz_name = value.get("timeZone")
    tz: ZoneInfo | None = None
    if tz_name is not None:
        try:
            tz = zone(tz_name)
        except TimeFormatError as exc:
            raise invalid(f"Invalid time zone definition for {field} time.") from exc
    has_date, has_time = value.get("date") is not None, value.get("dateTime") is not None
    if not has_date and not has_time:
        raise required(f"Missing {field} time.")
    if has_date and has_time:
        raise invalid(f"Invalid {field} time.")
    try:
        if has_date:
            return When(None, parse_date(value["date"]), tz_name)
        moment = parse_datetime(value["dateTime"], offset_required=False)
    except TimeFormatError as exc:
        raise invalid(f"Invalid {field} time.") from exc
    if moment.tzinfo is None:
        if tz is None:
            raise required(f"Missing time zone definition for {field} time.")
        moment = moment.replace(tzinfo=tz)
    return When(moment.astimezone(dt.UTC).replace(microsecond=0), None, tz_name)


def stored_when(value: dict[str, str]) -> When:
    """Read back a stored ``EventDateTime`` (always valid)."""
    if "date" in value:
        return When(None, dt.date.fromisoformat(value["date"]), value.get("timeZone"))
    return When(parse_datetime(value["dateTime"]), None, value.get("timeZone"))


def span(event: Event, calendar_tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The event's [start, end) as UTC instants."""
    return (
        stored_when(event["start"]).utc(calendar_tz),
        stored_when(event["end"]).utc(calendar_tz),
    )


def series_zone(event: Event, calendar_tz: ZoneInfo) -> ZoneInfo:
    tz_name = event["start"].get("timeZone")
    return zone(tz_name) if tz_name else calendar_tz


def check_event(body: object, *, instance: bool, calendar_tz: ZoneInfo) -> Event:
    """Validate an insert/update body (or a patch merged onto the stored event).

    Args:
        body: the decoded JSON body.
        instance: the target is an instance of a recurring event (no ``recurrence`` allowed).
        calendar_tz: the calendar's zone (for ordering all-day bounds).

    Returns:
        The client-settable fields, with ``start``/``end`` normalised to stored form and nulls
        dropped. Server fields are not included.

    Raises:
        ApiError: 400 with Google's reason and message.
    """
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    unknown = sorted(set(body) - EVENT_FIELDS)
    if unknown:
        raise invalid(f"Invalid field: {unknown[0]}")
    fields = {
        k: copy.deepcopy(v) for k, v in body.items() if v is not None and k not in SERVER_FIELDS
    }
    if "start" not in fields:
        raise required("Missing start time.")
    if "end" not in fields:
        raise required("Missing end time.")
    start, end = parse_when(fields["start"], "start"), parse_when(fields["end"], "end")
    if start.all_day != end.all_day:
        raise invalid("Start and end times must either both be date or both be dateTime.")
    if end.utc(calendar_tz) < start.utc(calendar_tz) or (
        start.all_day and end.utc(calendar_tz) == start.utc(calendar_tz)
    ):
        raise time_range_empty()
    fields["start"], fields["end"] = start.stored(), end.stored()
    for name in _STRINGS:
        if name in fields and not isinstance(fields[name], str):
            raise invalid(f"Invalid value for {name}.")
    for name, allowed in _ENUMS.items():
        if name in body and body[name] is not None and body[name] not in allowed:
            raise invalid(f"Invalid value for {name}: {body[name]!r}")
    for name, default in _DEFAULTS_OMITTED.items():
        if fields.get(name) == default:
            del fields[name]
    if "sequence" in fields and (
        not isinstance(fields["sequence"], int)
        or isinstance(fields["sequence"], bool)
        or fields["sequence"] < 0
    ):
        raise invalid("Invalid sequence value.")
    if "recurrence" in fields:
        _check_recurrence(fields, start, instance=instance, calendar_tz=calendar_tz)
    if "attendees" in fields:
        fields["attendees"] = _check_attendees(fields["attendees"])
    if "extendedProperties" in fields:
        _check_extended_properties(fields["extendedProperties"])
    if "reminders" in fields:
        _check_reminders(fields["reminders"])
    return fields


def _check_recurrence(fields: Event, start: When, *, instance: bool, calendar_tz: ZoneInfo) -> None:
    lines = fields["recurrence"]
    if instance:
        raise invalid("Recurrence cannot be set on an instance of a recurring event.")
    if lines == []:
        del fields["recurrence"]
        return
    if not start.all_day and start.tz_name is None:
        raise required("Missing time zone definition for start time.")
    tz = zone(start.tz_name) if start.tz_name else calendar_tz
    first: recurrence.Occurrence = start.day or start.utc(tz).astimezone(tz)
    try:
        recurrence.validate(lines, first, tz)
    except recurrence.RecurrenceError as exc:
        raise invalid("Invalid recurrence rule.") from exc


def _check_attendees(attendees: object) -> list[dict[str, Any]]:
    if not isinstance(attendees, list):
        raise invalid("Invalid attendees.")
    result = []
    for attendee in attendees:
        if not isinstance(attendee, dict) or not set(attendee) <= _ATTENDEE_FIELDS:
            raise invalid("Invalid attendee.")
        if not isinstance(attendee.get("email"), str) or "@" not in attendee["email"]:
            raise required("Missing attendee email.")
        status = attendee.get("responseStatus", "needsAction")
        if status not in _RESPONSE_STATUSES:
            raise invalid(f"Invalid attendee response status: {status!r}")
        cleaned = {k: v for k, v in attendee.items() if k not in ("self", "organizer")}
        cleaned["responseStatus"] = status
        result.append(cleaned)
    return result


def _check_extended_properties(value: object) -> None:
    if not isinstance(value, dict) or not set(value) <= {"private", "shared"}:
        raise invalid("Invalid extended properties.")
    for scope in value.values():
        if not isinstance(scope, dict):
            raise invalid("Invalid extended properties.")
        for key, item in scope.items():
            if not isinstance(item, str) or not key or len(key) > MAX_PROPERTY_KEY:
                raise invalid("Invalid extended property key or value.")
            if len(item) > MAX_PROPERTY_VALUE:
                raise invalid("Extended property value too long.")


def _check_reminders(value: object) -> None:
    if not isinstance(value, dict) or not set(value) <= {"useDefault", "overrides"}:
        raise invalid("Invalid reminders.")
    overrides = value.get("overrides") or []
    if not isinstance(overrides, list):
        raise invalid("Invalid reminders.")
    if value.get("useDefault") and overrides:
        raise ApiError(
            400,
            "cannotUseDefaultRemindersAndSpecifyOverride",
            "Cannot specify both default reminders and overrides at the same time.",
        )
    if len(overrides) > 5:
        raise ApiError(400, "tooManyReminders", "Too many reminders.")
    for item in overrides:
        if (
            not isinstance(item, dict)
            or item.get("method") not in ("email", "popup")
            or not isinstance(item.get("minutes"), int)
            or not 0 <= item["minutes"] <= 40320
        ):
            raise invalid("Invalid reminder.")


def merge_patch(target: Any, patch: Any) -> Any:
    """Google's patch semantics: objects merge by key, arrays and scalars replace, null unsets."""
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _render_when(value: dict[str, str], tz: dt.tzinfo) -> dict[str, str]:
    if "dateTime" not in value:
        return dict(value)
    rendered = {"dateTime": format_datetime(parse_datetime(value["dateTime"]), tz)}
    if "timeZone" in value:
        rendered["timeZone"] = value["timeZone"]
    return rendered


def render(
    event: Event,
    *,
    tz: dt.tzinfo,
    calendar_id: str,
    max_attendees: int | None = None,
    minimal: bool = False,
    busy_only: bool = False,
) -> Event:
    """The event as a response carries it.

    Args:
        event: the stored (or computed instance) event.
        tz: the zone to render ``dateTime`` values in.
        calendar_id: the calendar it is read from (decides ``attendees[].self``).
        max_attendees: the ``maxAttendees`` parameter.
        minimal: render a cancelled event as a minimal tombstone (list results).
        busy_only: the reader only has freeBusyReader access.
    """
    if minimal:
        keys: tuple[str, ...] = ("kind", "etag", "id", "status", "updated", "recurringEventId")
        out = {k: event[k] for k in keys if k in event}
        if "originalStartTime" in event:
            out["originalStartTime"] = _render_when(event["originalStartTime"], tz)
        return out
    if busy_only:
        keys = _BUSY_ONLY_FIELDS
        event = {k: event[k] for k in keys if k in event}
    out = {k: copy.deepcopy(event[k]) for k in FIELD_ORDER if k in event}
    for key in ("start", "end", "originalStartTime"):
        if key in out:
            out[key] = _render_when(out[key], tz)
    attendees = out.get("attendees")
    if attendees:
        organizer = (out.get("organizer") or {}).get("email", "").lower()
        for attendee in attendees:
            email = attendee["email"].lower()
            if email == calendar_id.lower():
                attendee["self"] = True
            if email == organizer:
                attendee["organizer"] = True
        if max_attendees is not None and len(attendees) > max_attendees:
            out["attendees"] = [a for a in attendees if a.get("self")]
            out["attendeesOmitted"] = True
    return out


def declined_by_self(event: Event, calendar_id: str) -> bool:
    """The calendar's own attendee entry declined (such events do not block time)."""
    return any(
        a.get("email", "").lower() == calendar_id.lower() and a.get("responseStatus") == "declined"
        for a in event.get("attendees") or ()
    )
