"""RFC 3339 parsing and the exact timestamp formats Google renders."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"
)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class TimeFormatError(ValueError):
    """A value that is not the RFC 3339 form Google accepts."""


def parse_datetime(value: object, *, offset_required: bool = True) -> dt.datetime:
    """Parse an RFC 3339 date-time; naive when it has no offset and one is not required.

    Raises:
        TimeFormatError: not a string of that form, or no offset where one is required.
    """
    if not isinstance(value, str):
        raise TimeFormatError(f"not a date-time: {value!r}")
    match = _DATETIME.match(value)
    if not match:
        raise TimeFormatError(f"not an RFC 3339 date-time: {value!r}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    offset = match.group(8)
    try:
        naive = dt.datetime(year, month, day, hour, minute, second, micro)
    except ValueError as exc:
        raise TimeFormatError(str(exc)) from exc
    if offset is None:
        if offset_required:
            raise TimeFormatError(f"date-time without an offset: {value!r}")
        return naive
    if offset in ("Z", "z"):
        return naive.replace(tzinfo=dt.UTC)
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    if hours > 23 or minutes > 59:
        raise TimeFormatError(f"bad offset in {value!r}")
    return naive.replace(tzinfo=dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes)))


def parse_date(value: object) -> dt.date:
    """Parse ``yyyy-mm-dd``.

    Raises:
        TimeFormatError: anything else.
    """
    if not isinstance(value, str) or not _DATE.match(value):
        raise TimeFormatError(f"not a date: {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise TimeFormatError(str(exc)) from exc


def zone(name: object) -> ZoneInfo:
    """The IANA zone ``name``.

    Raises:
        TimeFormatError: unknown zone.
    """
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name:
        raise TimeFormatError(f"not a time zone: {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeFormatError(f"unknown time zone {name!r}") from exc


def format_timestamp(moment: dt.datetime) -> str:
    """``created``/``updated`` form: UTC with milliseconds, ``2026-11-24T10:00:00.000Z``."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_datetime(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """An event ``dateTime`` rendered in ``tz``: ``2026-03-02T10:00:00+01:00`` (``Z`` at UTC)."""
    local = moment.astimezone(tz).replace(microsecond=0)
    text = local.isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def format_utc(moment: dt.datetime) -> str:
    """UTC without fractions, ``2026-03-02T09:00:00Z`` (freeBusy bounds, stored instants)."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_http_date(moment: dt.datetime) -> str:
    """RFC 1123 date, as in ``X-Goog-Channel-Expiration``."""
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def to_millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_millis(millis: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC)


def local_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The instant a calendar day starts in ``tz`` (how all-day events occupy time)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
