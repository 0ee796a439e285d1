"""Expanding a remote series (RFC 5545 ``RRULE``/``RDATE``/``EXDATE``) into occurrences.

A series is expanded in its own time zone, so a weekly 09:00 meeting stays at 09:00 local
time across DST changes, and only within a window: from the later of its start and one day
before now, up to ``recurrence_horizon_days`` ahead, at most :data:`MAX_OCCURRENCES`. As time
passes the window is rolled forward (:func:`bridge.sync.busytime.extend`), because an
unchanged series never shows up in an incremental pull again.

Occurrences are keyed by their original start, normalised with :func:`occurrence_key` (UTC
``YYYYMMDDTHHMMSSZ`` for timed events, ``YYYYMMDD`` for all-day ones), which is how an
exception (a moved or cancelled occurrence) finds the occurrence it replaces.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule  # type: ignore[import-untyped]
from icalendar.parser import Contentline

from bridge.connectors.base import EventTime

MAX_OCCURRENCES = 1000
LOOKBACK = dt.timedelta(days=1)
_VALUE = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")


class RecurrenceError(ValueError):
    """A series whose recurrence cannot be expanded (a malformed or unsupported line)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a series, keyed by its normalised original start."""

    key: str
    start: EventTime
    end: EventTime


def occurrence_key(value: EventTime) -> str:
    """The normalised original start of an occurrence (see the module docstring)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC when it is missing or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def _parse_value(
    text: str, tzid: str | None, zone: ZoneInfo, first: dt.datetime, all_day: bool
) -> dt.datetime:
    """One RDATE/EXDATE/UNTIL value as a naive wall-clock time in the series' zone."""
    match = _VALUE.match(text.strip())
    if match is None:
        raise RecurrenceError(f"unsupported date value {text[:40]!r}")
    day = dt.datetime.strptime(match.group(1), "%Y%m%d")
    if match.group(2) is None:
        return day if all_day else dt.datetime.combine(day.date(), first.time())
    value = dt.datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
    if match.group(3):
        value = value.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)
    elif tzid:
        value = value.replace(tzinfo=zone_or_utc(tzid)).astimezone(zone).replace(tzinfo=None)
    if all_day:
        return dt.datetime.combine(value.date(), dt.time(0))
    return value


def _rule_set(recurrence: Sequence[str], zone: ZoneInfo, first: dt.datetime, all_day: bool) -> Any:
    rules = rrule.rruleset()
    rules.rdate(first)  # DTSTART is always an occurrence (RFC 5545 section 3.8.5.3)
    for raw in recurrence:
        try:
            name, params, value = Contentline(raw.strip()).parts()  # type: ignore[no-untyped-call]
        except (ValueError, IndexError) as exc:
            raise RecurrenceError(f"cannot read recurrence line {raw[:80]!r}") from exc
        name = name.upper()
        if name == "RRULE":
            parts = []
            for part in str(value).split(";"):
                key, _, item = part.partition("=")
                if key.upper() == "UNTIL":
                    until = _parse_value(item, None, zone, first, all_day)
                    item = until.strftime("%Y%m%dT%H%M%S")
                parts.append(f"{key}={item}")
            try:
                rules.rrule(rrule.rrulestr("RRULE:" + ";".join(parts), dtstart=first))
            except (ValueError, TypeError, KeyError) as exc:
                raise RecurrenceError(f"cannot read the rule {raw[:80]!r}: {exc}") from exc
        elif name in ("RDATE", "EXDATE"):
            tzid = params.get("TZID")
            add = rules.rdate if name == "RDATE" else rules.exdate
            for item in str(value).split(","):
                add(_parse_value(item, str(tzid) if tzid else None, zone, first, all_day))
        else:
            raise RecurrenceError(f"unsupported recurrence line {raw[:80]!r}")
    return rules


def expand(
    start: EventTime,
    end: EventTime,
    recurrence: Sequence[str],
    time_zone: str | None,
    window_start: dt.datetime,
    window_end: dt.datetime,
    *,
    limit: int = MAX_OCCURRENCES,
) -> list[Occurrence]:
    """The occurrences of a series that overlap ``[window_start, window_end)``.

    The rule runs on wall-clock times in the series' zone (so 09:00 stays 09:00 across DST);
    each occurrence lasts as long as the first.

    Args:
        start: the series' first start (a date for an all-day series).
        end: the first occurrence's end.
        recurrence: ``RRULE``/``RDATE``/``EXDATE`` lines.
        time_zone: the zone the rule is expanded in (UTC when missing or unknown).
        window_start: aware; occurrences ending at or before it are left out.
        window_end: aware; occurrences starting at or after it are left out.
        limit: at most this many occurrences.

    Returns:
        Occurrences in start order; timed ones with aware starts, all-day ones with dates
        (those are filtered by date with a day to spare; the caller clips them).

    Raises:
        RecurrenceError: the recurrence cannot be expanded.
    """
    zone = zone_or_utc(time_zone)
    if isinstance(start, dt.datetime):
        aware = start if start.tzinfo is not None else start.replace(tzinfo=dt.UTC)
        end_aware = end if isinstance(end, dt.datetime) else aware
        if end_aware.tzinfo is None:
            end_aware = end_aware.replace(tzinfo=dt.UTC)
        first = aware.astimezone(zone).replace(tzinfo=None)
        length = max(end_aware - aware, dt.timedelta(0))
        rules = _rule_set(recurrence, zone, first, all_day=False)
        since = window_start.astimezone(zone).replace(tzinfo=None) - length - dt.timedelta(days=1)
        found: list[Occurrence] = []
        try:
            for local in rules.xafter(since, inc=True):
                begin = local.replace(tzinfo=zone)
                if begin >= window_end:
                    break
                if begin + length <= window_start:
                    continue
                found.append(Occurrence(occurrence_key(begin), begin, begin + length))
                if len(found) >= limit:
                    break
        except (ValueError, TypeError, OverflowError) as exc:
            raise RecurrenceError(f"cannot expand the recurrence: {exc}") from exc
        return found
    days = max((end - start).days if not isinstance(end, dt.datetime) else 1, 1)
    first = dt.datetime.combine(start, dt.time(0))
    rules = _rule_set(recurrence, zone, first, all_day=True)
    lowest = window_start.date() - dt.timedelta(days=days + 1)
    highest = window_end.date() + dt.timedelta(days=1)
    found = []
    try:
        for local in rules.xafter(dt.datetime.combine(lowest, dt.time(0)), inc=True):
            day = local.date()
            if day > highest:
                break
            found.append(Occurrence(occurrence_key(day), day, day + dt.timedelta(days=days)))
            if len(found) >= limit:
                break
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecurrenceError(f"cannot expand the recurrence: {exc}") from exc
    return found
