"""The ``recurrence`` field: validation and DST-correct expansion.

Google takes RRULE, EXRULE, RDATE and EXDATE lines (RFC 5545 section 3.8.5) and never DTSTART:
the first occurrence is the event's ``start``, expanded in ``start.timeZone``
(https://developers.google.com/workspace/calendar/api/guides/recurringevents). As Google does,
``start`` itself is always an occurrence, even when the rule skips it and on top of COUNT
(googleapis/google-api-nodejs-client#2214). Occurrences keep their wall-clock time across DST
changes, and each lasts exactly as long as the first one (RFC 5545 section 3.8.5.3).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from dateutil import rrule

from .timeutil import TimeFormatError, zone

# How far an unbounded series is expanded when no timeMax says otherwise.
MAX_INSTANCES = 730
# A hard stop even when a timeMax is given, so a daily rule over decades stays cheap.
HARD_LIMIT = 5000

_NAMES = ("RRULE", "EXRULE", "RDATE", "EXDATE")


class RecurrenceError(ValueError):
    """A ``recurrence`` line Google would reject."""


Occurrence = dt.datetime | dt.date


@dataclasses.dataclass(frozen=True)
class _Line:
    name: str
    params: dict[str, str]
    value: str


def _split(line: object) -> _Line:
    if not isinstance(line, str) or ":" not in line:
        raise RecurrenceError(f"not a recurrence line: {line!r}")
    head, value = line.split(":", 1)
    name, *raw_params = head.split(";")
    name = name.upper()
    if name == "DTSTART" or name == "DTEND":
        raise RecurrenceError("DTSTART and DTEND are not allowed in recurrence")
    if name not in _NAMES:
        raise RecurrenceError(f"unknown recurrence line {name!r}")
    params: dict[str, str] = {}
    for raw in raw_params:
        key, sep, val = raw.partition("=")
        if not sep or not key:
            raise RecurrenceError(f"bad parameter {raw!r} in {line!r}")
        params[key.upper()] = val
    if not value:
        raise RecurrenceError(f"empty value in {line!r}")
    return _Line(name, params, value)


def _rule_text(value: str, *, all_day: bool, tz: ZoneInfo) -> str:
    """The rule with UNTIL in the form dateutil needs next to our DTSTART."""
    parts = []
    for part in value.split(";"):
        key, sep, val = part.partition("=")
        if not sep:
            raise RecurrenceError(f"bad rule part {part!r}")
        if key.upper() == "UNTIL":
            val = _until(val, all_day=all_day, tz=tz)
        parts.append(f"{key.upper()}={val}")
    if not any(p.startswith("FREQ=") for p in parts):
        raise RecurrenceError("RRULE without FREQ")
    return ";".join(parts)


def _until(value: str, *, all_day: bool, tz: ZoneInfo) -> str:
    try:
        if len(value) == 8:
            day = dt.datetime.strptime(value, "%Y%m%d")
            if all_day:
                return value
            end = day.replace(hour=23, minute=59, second=59, tzinfo=tz).astimezone(dt.UTC)
            return end.strftime("%Y%m%dT%H%M%SZ")
        if value.endswith("Z"):
            moment = dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        else:
            moment = dt.datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
    except ValueError as exc:
        raise RecurrenceError(f"bad UNTIL {value!r}") from exc
    if all_day:
        return moment.astimezone(tz).strftime("%Y%m%d")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _dates(line: _Line, *, all_day: bool, tz: ZoneInfo, dtstart: dt.datetime) -> list[dt.datetime]:
    """RDATE/EXDATE values as datetimes comparable with the rule's occurrences."""
    value_type = line.params.get("VALUE", "").upper()
    if value_type == "PERIOD":
        raise RecurrenceError("RDATE periods are not supported")
    line_tz: dt.tzinfo = tz
    if "TZID" in line.params:
        try:
            line_tz = zone(line.params["TZID"])
        except TimeFormatError as exc:
            raise RecurrenceError(str(exc)) from exc
    result = []
    for raw in line.value.split(","):
        try:
            if len(raw) == 8:
                day = dt.datetime.strptime(raw, "%Y%m%d")
                moment = day if all_day else dt.datetime.combine(day.date(), dtstart.timetz())
            elif raw.endswith("Z"):
                moment = dt.datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            else:
                moment = dt.datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(tzinfo=line_tz)
        except ValueError as exc:
            raise RecurrenceError(f"bad date {raw!r} in {line.name}") from exc
        if all_day:
            if moment.tzinfo is not None:
                moment = moment.astimezone(tz).replace(tzinfo=None)
            moment = moment.replace(hour=0, minute=0, second=0)
        elif value_type == "DATE" and moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        result.append(moment)
    return result


def _ruleset(
    lines: list[str], dtstart: dt.datetime, *, all_day: bool, tz: ZoneInfo
) -> rrule.rruleset:
    rules = rrule.rruleset()
    rules.rdate(dtstart)
    for text in lines:
        line = _split(text)
        try:
            if line.name in ("RRULE", "EXRULE"):
                if line.params:
                    raise RecurrenceError(f"{line.name} takes no parameters")
                rule = rrule.rrulestr(
                    _rule_text(line.value, all_day=all_day, tz=tz), dtstart=dtstart
                )
                if not isinstance(rule, rrule.rrule):
                    raise RecurrenceError(f"bad rule {text!r}")
                (rules.rrule if line.name == "RRULE" else rules.exrule)(rule)
            else:
                for moment in _dates(line, all_day=all_day, tz=tz, dtstart=dtstart):
                    (rules.rdate if line.name == "RDATE" else rules.exdate)(moment)
        except (ValueError, TypeError) as exc:
            if isinstance(exc, RecurrenceError):
                raise
            raise RecurrenceError(f"bad recurrence line {text!r}: {exc}") from exc
    return rules


def validate(lines: object, start: Occurrence, tz: ZoneInfo) -> None:
    """Check ``recurrence`` the way events.insert does.

    Raises:
        RecurrenceError: not a list of valid RRULE/EXRULE/RDATE/EXDATE lines.
    """
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise RecurrenceError("recurrence must be a list of strings")
    for _ in occurrences(lines, start, tz, cap=2):
        pass


def occurrences(
    lines: list[str],
    start: Occurrence,
    tz: ZoneInfo,
    *,
    until: dt.datetime | None = None,
    cap: int = MAX_INSTANCES,
) -> Iterator[Occurrence]:
    """Occurrence starts in order: aware datetimes in ``tz``, or dates for all-day series.

    Args:
        lines: the ``recurrence`` lines.
        start: the series' first start (aware datetime, or a date for all-day).
        tz: the series' zone (``start.timeZone``).
        until: stop before the first occurrence starting at or after this instant.
        cap: the most occurrences to produce when ``until`` is not given.

    Raises:
        RecurrenceError: an invalid line.
    """
    if isinstance(start, dt.datetime):
        all_day, dtstart = False, start.astimezone(tz)
    else:
        all_day, dtstart = True, dt.datetime.combine(start, dt.time())
    rules = _ruleset(lines, dtstart, all_day=all_day, tz=tz)
    limit = HARD_LIMIT if until is not None else cap
    for moment in itertools.islice(iter(rules), limit):
        if all_day:
            if until is not None and dt.datetime.combine(moment.date(), dt.time(), tz) >= until:
                return
            yield moment.date()
        else:
            if until is not None and moment >= until:
                return
            yield moment
