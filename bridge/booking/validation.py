"""Rules for values that reach the booking system from the API, the CLI or CalDAV."""

from __future__ import annotations

import re
import zoneinfo

from email_validator import EmailNotValidError, validate_email

from bridge.errors import ValidationFailed

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_BUFFER_MINUTES = 1440
RESERVED_SLUGS = frozenset({"api", "dav", "feeds", "hooks", "oauth", "book", "static", "admin"})


def check_slug(slug: str, field: str = "slug") -> str:
    if not SLUG_PATTERN.match(slug):
        raise ValidationFailed(
            {field: "use 1-64 lowercase letters, digits and inner hyphens, e.g. 'dr-smith'"}
        )
    if slug in RESERVED_SLUGS:
        raise ValidationFailed({field: f"{slug!r} is reserved"})
    return slug


def check_time_zone(name: str, field: str = "time_zone") -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            {field: f"unknown IANA time zone {name!r} (e.g. 'Europe/Berlin')"}
        ) from None
    return name


def check_email(address: str, field: str = "email") -> str:
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationFailed({field: str(exc)}) from None


def check_text(value: str, field: str, *, max_length: int, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationFailed({field: "must not be empty"})
    if len(value) > max_length:
        raise ValidationFailed({field: f"at most {max_length} characters"})
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ValidationFailed({field: "contains control characters"})
    return value


def check_minutes_range(start: int, end: int, field: str) -> None:
    if not (0 <= start < end <= 1440):
        raise ValidationFailed({field: "needs 00:00 <= start < end <= 24:00"})


def parse_clock(value: str, field: str) -> int:
    """'HH:MM' (00:00-24:00) to minutes after midnight."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if (hours < 24 and minutes < 60) or (hours == 24 and minutes == 0):
            return hours * 60 + minutes
    raise ValidationFailed({field: f"expected a time HH:MM between 00:00 and 24:00, got {value!r}"})


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
