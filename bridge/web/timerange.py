"""Time ranges and zones in query strings (``start``, ``end``, ``tz``).

A bound is either a local date, ``YYYY-MM-DD``, read in the provider's zone (a start date is
that day's first instant, an end date includes the whole day, i.e. runs to the next midnight),
or an RFC 3339 date-time with an offset. A ``+`` in an offset that arrived unencoded in a query
string reads as a space; that form is accepted too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from zoneinfo import ZoneInfo

from bridge.availability import Interval, local_day_span
from bridge.booking.validation import check_time_zone
from bridge.errors import ValidationFailed

MAX_RANGE = dt.timedelta(days=92)
DEFAULT_SLOT_RANGE = dt.timedelta(days=7)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPACED_OFFSET = re.compile(r"(.*[Tt ][\d:.]+) (\d{2}(?::?\d{2})?)")

BOUND_HELP = (
    "A date (YYYY-MM-DD, in the provider's time zone; an end date includes the whole day) "
    "or an RFC 3339 date-time with offset, e.g. 2026-06-01T09:00:00+02:00."
)


def parse_bound(value: str, field: str, zone: ZoneInfo, *, is_end: bool) -> dt.datetime:
    """Turn a ``start``/``end`` query value into an aware instant.

    Raises:
        ValidationFailed: not a date or an offset date-time; the message is keyed ``field``.
    """
    text = value.strip()
    if _DATE.fullmatch(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ValidationFailed({field: f"{text!r} is not a valid date"}) from None
        span = local_day_span(day, zone)
        return span.end if is_end else span.start
    spaced = _SPACED_OFFSET.fullmatch(text)
    if spaced:
        text = f"{spaced[1]}+{spaced[2]}"
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            {field: f"expected YYYY-MM-DD or an RFC 3339 date-time with offset, got {value!r}"}
        ) from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValidationFailed(
            {field: "needs a UTC offset, e.g. 2026-06-01T09:00:00+02:00 (or give a date)"}
        )
    return instant


def _wall_clock_span(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> dt.timedelta:
    # Measured on the wall clock so that 92 whole local days stay within the cap across DST.
    return end.astimezone(zone).replace(tzinfo=None) - start.astimezone(zone).replace(tzinfo=None)


@dataclasses.dataclass(frozen=True)
class OpenRange:
    """A range whose bounds may be missing (lists of bookings or blocked times)."""

    start: dt.datetime | None
    end: dt.datetime | None

    def as_interval(self) -> Interval | None:
        if self.start is None and self.end is None:
            return None
        return Interval(
            self.start or dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
            self.end or dt.datetime(9999, 1, 1, tzinfo=dt.UTC),
        )


def open_range(start: str | None, end: str | None, zone: ZoneInfo) -> OpenRange:
    """Parse optional bounds; both given must be in order.

    Raises:
        ValidationFailed: a malformed bound, or ``end`` not after ``start``.
    """
    result = OpenRange(
        parse_bound(start, "start", zone, is_end=False) if start else None,
        parse_bound(end, "end", zone, is_end=True) if end else None,
    )
    if result.start is not None and result.end is not None and result.end <= result.start:
        raise ValidationFailed({"end": "must be after start"})
    return result


def slot_window(start: str | None, end: str | None, zone: ZoneInfo, now: dt.datetime) -> Interval:
    """The window to search for slots: from ``start`` (default now) to ``end`` (default a week on).

    Raises:
        ValidationFailed: a malformed bound, ``end`` not after ``start``, or a range longer than
            :data:`MAX_RANGE`.
    """
    bounds = open_range(start, end, zone)
    first = bounds.start or now
    last = bounds.end or first + DEFAULT_SLOT_RANGE
    if last <= first:
        raise ValidationFailed({"end": "must be after start"})
    if _wall_clock_span(first, last, zone) > MAX_RANGE:
        raise ValidationFailed({"end": f"the range may span at most {MAX_RANGE.days} days"})
    return Interval(first, last)


def display_zone(tz: str | None, default: str) -> ZoneInfo:
    """The zone to render times in: ``tz`` when given (validated), else ``default``.

    Raises:
        ValidationFailed: ``tz`` is not an IANA zone name.
    """
    return ZoneInfo(check_time_zone(tz, "tz") if tz else default)
