"""Plain-text formatting for command output: tables, weekly hours, times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bridge.availability import WeeklyHours
from bridge.booking.validation import format_clock

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, under an upper-case header line."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [[h.upper() for h in headers], *rows]
    ]
    return "\n".join(lines)


def weekly_hours(hours: Sequence[WeeklyHours]) -> str:
    """``Mon-Fri 09:00-17:00``: consecutive days with the same periods share one entry."""
    by_day: dict[int, list[str]] = {}
    for period in hours:
        text = f"{format_clock(period.start_minute)}-{format_clock(period.end_minute)}"
        by_day.setdefault(period.weekday, []).append(text)
    runs: list[tuple[int, int, str]] = []
    for day in sorted(by_day):
        periods = ", ".join(by_day[day])
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == periods:
            runs[-1] = (runs[-1][0], day, periods)
        else:
            runs.append((day, day, periods))
    if not runs:
        return "none"
    parts = []
    for first, last, periods in runs:
        days = WEEKDAY_NAMES[first]
        if last != first:
            days += ("-" if last > first + 1 else ",") + WEEKDAY_NAMES[last]
        parts.append(f"{days} {periods}")
    return "; ".join(parts)


def timestamp(moment: dt.datetime | None) -> str:
    """A UTC time to the minute, or ``never``."""
    if moment is None:
        return "never"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
