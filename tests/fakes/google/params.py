"""Query parameters per method, checked as strictly as Google checks them.

The specs follow the discovery document (``calendar.v3.json``). Unknown parameters, values of
the wrong type and repeats of a non-repeatable parameter answer 400.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from .errors import ApiError, invalid_parameter
from .events import EVENT_TYPES
from .timeutil import TimeFormatError, parse_datetime

# Standard parameters every method takes (discovery "parameters" plus the usual transport ones).
GLOBAL = frozenset(
    "alt fields key oauth_token prettyPrint quotaUser userIp access_token $.xgafv callback"
    " upload_protocol uploadType".split()
)


@dataclasses.dataclass(frozen=True)
class Param:
    kind: str  # "bool", "int", "str", "datetime" or "enum"
    repeated: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None


_BOOL = Param("bool")
_STR = Param("str")
_TIME = Param("datetime")
_SEND_UPDATES = Param("enum", choices=("all", "externalOnly", "none"))
_MAX_ATTENDEES = Param("int", minimum=1)

_LIST = {
    "alwaysIncludeEmail": _BOOL,
    "eventTypes": Param("enum", repeated=True, choices=EVENT_TYPES),
    "iCalUID": _STR,
    "maxAttendees": _MAX_ATTENDEES,
    "maxResults": Param("int", minimum=1),
    "orderBy": Param("enum", choices=("startTime", "updated")),
    "pageToken": _STR,
    "privateExtendedProperty": Param("str", repeated=True),
    "q": _STR,
    "sharedExtendedProperty": Param("str", repeated=True),
    "showDeleted": _BOOL,
    "showHiddenInvitations": _BOOL,
    "singleEvents": _BOOL,
    "syncToken": _STR,
    "timeMax": _TIME,
    "timeMin": _TIME,
    "timeZone": _STR,
    "updatedMin": _TIME,
}
_WRITE = {
    "conferenceDataVersion": Param("int", minimum=0),
    "eventLabelVersion": Param("int", minimum=0),
    "maxAttendees": _MAX_ATTENDEES,
    "sendNotifications": _BOOL,
    "sendUpdates": _SEND_UPDATES,
    "supportsAttachments": _BOOL,
}

METHODS: dict[str, dict[str, Param]] = {
    "events.list": _LIST,
    "events.watch": _LIST,
    "events.get": {"alwaysIncludeEmail": _BOOL, "maxAttendees": _MAX_ATTENDEES, "timeZone": _STR},
    "events.insert": _WRITE,
    "events.patch": {**_WRITE, "alwaysIncludeEmail": _BOOL},
    "events.update": {**_WRITE, "alwaysIncludeEmail": _BOOL},
    "events.delete": {"sendNotifications": _BOOL, "sendUpdates": _SEND_UPDATES},
    "events.instances": {
        "alwaysIncludeEmail": _BOOL,
        "maxAttendees": _MAX_ATTENDEES,
        "maxResults": Param("int", minimum=1),
        "originalStart": _STR,
        "pageToken": _STR,
        "showDeleted": _BOOL,
        "timeMax": _TIME,
        "timeMin": _TIME,
        "timeZone": _STR,
    },
    "calendarList.list": {
        "maxResults": Param("int", minimum=1),
        "minAccessRole": Param("enum", choices=("freeBusyReader", "owner", "reader", "writer")),
        "pageToken": _STR,
        "showDeleted": _BOOL,
        "showHidden": _BOOL,
        "showOwnOrganizationOnly": _BOOL,
        "syncToken": _STR,
    },
    "calendarList.get": {},
    "calendars.get": {},
    "freebusy.query": {},
    "channels.stop": {},
}


def parse(method: str, query: dict[str, list[str]]) -> dict[str, Any]:
    """The typed parameters of a request to ``method`` (global ones dropped, ``fields`` kept).

    Raises:
        ApiError: 400 for an unknown, repeated or malformed parameter.
    """
    spec = METHODS[method]
    result: dict[str, Any] = {}
    for name, values in query.items():
        if name in GLOBAL:
            if len(values) > 1:
                raise invalid_parameter(name, f"Parameter {name} must not be repeated.")
            if name == "alt" and values[0] != "json":
                raise invalid_parameter(name, f"Invalid value for alt: {values[0]}")
            if name == "fields":
                result["fields"] = values[0]
            continue
        param = spec.get(name)
        if param is None:
            raise ApiError(
                400,
                "invalidParameter",
                f"Unknown parameter: {name}",
                location_type="parameter",
                location=name,
            )
        if not param.repeated and len(values) > 1:
            raise invalid_parameter(name, f"Parameter {name} must not be repeated.")
        typed = [_convert(name, param, v) for v in values]
        result[name] = typed if param.repeated else typed[0]
    return result


def _convert(name: str, param: Param, value: str) -> Any:
    if param.kind == "bool":
        if value.lower() not in ("true", "false"):
            raise invalid_parameter(name, f"Invalid boolean value for {name}: {value!r}")
        return value.lower() == "true"
    if param.kind == "int":
        try:
            number = int(value)
        except ValueError:
            raise invalid_parameter(name, f"Invalid integer value for {name}: {value!r}") from None
        if param.minimum is not None and number < param.minimum:
            raise invalid_parameter(name, f"Value for {name} must be at least {param.minimum}.")
        return number
    if param.kind == "datetime":
        try:
            moment: dt.datetime = parse_datetime(value)
        except TimeFormatError:
            raise invalid_parameter(name, f"Invalid RFC 3339 value for {name}: {value!r}") from None
        return moment
    if param.kind == "enum" and value not in param.choices:
        raise invalid_parameter(name, f"Invalid value for {name}: {value!r}")
    return value
