"""VTIMEZONE components from the zone's current rules, the same text for every event.

A VTIMEZONE with yearly RRULEs (as Google, Apple and Microsoft publish them) holds for every year
the zone's current rules hold, so one text serves every event of a zone. That matters beyond size:
vobject (which Radicale parses with) registers the first VTIMEZONE it reads for a TZID for the whole
process, so a VTIMEZONE that only covers some years would skew every later event of that zone.

The rules come from the POSIX TZ string at the end of the zone's TZif file (RFC 8536 §3.3), e.g.
``CET-1CEST,M3.5.0,M10.5.0/3``. Zones whose rule uses forms RRULE cannot say (Julian days,
negative transition times, a "last weekday" plus a day) or whose listed transitions reach into
the future fall back to icalendar's per-transition VTIMEZONE over a fixed span, written as one
observance per transition (vobject misreads RDATE lists).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import functools
import importlib.resources
import re
import zoneinfo
from pathlib import Path
from typing import Any

import icalendar

FALLBACK_SPAN = (dt.date(2000, 1, 1), dt.date(2040, 1, 1))
_FIRST_YEAR = 1970
_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
_NAME = r"(?:[A-Za-z]{3,}|<[^>]+>)"
_OFFSET = r"[+-]?\d{1,2}(?::\d{2}){0,2}"
_POSIX = re.compile(
    rf"^(?P<std>{_NAME})(?P<std_offset>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dst_offset>{_OFFSET})?"
    r",M(?P<start>\d+\.\d\.\d)(?:/(?P<start_time>[+-]?\d+(?::\d+){0,2}))?"
    r",M(?P<end>\d+\.\d\.\d)(?:/(?P<end_time>[+-]?\d+(?::\d+){0,2}))?)?$"
)


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


@dataclasses.dataclass(frozen=True)
class _Transition:
    month: int
    week: int  # 1-4, or 5 for "last"
    weekday: int  # 0 = Sunday
    seconds: int  # local time of day, before the change

    @classmethod
    def parse(cls, rule: str, time: str | None) -> _Transition:
        month, week, weekday = (int(p) for p in rule.split("."))
        return cls(month, week, weekday, _seconds(time) if time else 7200)

    def _rule_day(self, year: int) -> dt.date:
        python_weekday = (self.weekday - 1) % 7  # Monday = 0
        days = calendar.monthrange(year, self.month)[1]
        if self.week == 5:
            last = dt.date(year, self.month, days)
            return last - dt.timedelta(days=(last.weekday() - python_weekday) % 7)
        first = dt.date(year, self.month, 1)
        offset = (python_weekday - first.weekday()) % 7
        return first + dt.timedelta(days=offset + 7 * (self.week - 1))

    @property
    def extra_days(self) -> int:
        """Whole days the transition time reaches past the rule's day (``/26`` = 1 day 02:00)."""
        return self.seconds // 86400

    def expressible(self) -> bool:
        if self.seconds < 0:
            return False
        shortest_month = calendar.monthrange(2001, self.month)[1]  # a common year
        last_monthday = 7 * (self.week - 1) + 7 + self.extra_days
        return self.extra_days == 0 or (self.week <= 4 and last_monthday <= shortest_month)

    def date_in(self, year: int) -> dt.date:
        return self._rule_day(year) + dt.timedelta(days=self.extra_days)

    def rrule(self) -> dict[str, object]:
        if self.extra_days == 0:
            ordinal = -1 if self.week == 5 else self.week
            day = f"{ordinal}{_DAYS[self.weekday]}"
            return {"freq": "YEARLY", "bymonth": self.month, "byday": day}
        # "1 day after the first Saturday" is "the Sunday among the 2nd to the 8th".
        first = 7 * (self.week - 1) + 1 + self.extra_days
        return {
            "freq": "YEARLY",
            "bymonth": self.month,
            "byday": _DAYS[(self.weekday + self.extra_days) % 7],
            "bymonthday": list(range(first, first + 7)),
        }


def _footer(key: str) -> str:
    for root in zoneinfo.TZPATH:
        path = Path(root) / key
        if path.is_file():
            data = path.read_bytes()
            break
    else:
        data = importlib.resources.files("tzdata.zoneinfo").joinpath(*key.split("/")).read_bytes()
    if not data.startswith(b"TZif") or data[4:5] in (b"\0", b""):
        return ""
    return data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii")


def _observance(
    kind: type[icalendar.TimezoneStandard] | type[icalendar.TimezoneDaylight],
    name: str,
    start: dt.datetime,
    offset_from: int,
    offset_to: int,
    rrule: dict[str, object] | None,
) -> icalendar.cal.Component:
    observance = kind()
    observance.add("tzname", name.strip("<>"))
    observance.add("dtstart", start)
    observance.add("tzoffsetfrom", dt.timedelta(seconds=offset_from))
    observance.add("tzoffsetto", dt.timedelta(seconds=offset_to))
    if rrule:
        observance.add("rrule", rrule)
    return observance


def _from_rules(key: str, footer: str) -> icalendar.Timezone | None:
    match = _POSIX.match(footer)
    if not match:
        return None
    standard = -_seconds(match["std_offset"])  # POSIX offsets count west of Greenwich
    timezone = icalendar.Timezone()
    timezone.add("tzid", key)
    if not match["dst"]:
        start = dt.datetime(_FIRST_YEAR, 1, 1)
        timezone.add_component(
            _observance(icalendar.TimezoneStandard, match["std"], start, standard, standard, None)
        )
        return timezone
    daylight = -_seconds(match["dst_offset"]) if match["dst_offset"] else standard + 3600
    begins = _Transition.parse(match["start"], match["start_time"])
    ends = _Transition.parse(match["end"], match["end_time"])
    if not (begins.expressible() and ends.expressible()):
        return None
    if daylight < standard:
        # Ireland's "negative DST" (standard time in summer): clients expect the summer
        # observance to be DAYLIGHT, and the offsets are all that matters.
        match_std, match_dst = match["dst"], match["std"]
        standard, daylight = daylight, standard
        begins, ends = ends, begins
    else:
        match_std, match_dst = match["std"], match["dst"]
    for kind, name, rule, offset_from, offset_to in (
        (icalendar.TimezoneDaylight, match_dst, begins, standard, daylight),
        (icalendar.TimezoneStandard, match_std, ends, daylight, standard),
    ):
        day = rule.date_in(_FIRST_YEAR)
        start = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rule.seconds % 86400)
        timezone.add_component(_observance(kind, name, start, offset_from, offset_to, rule.rrule()))
    return timezone


def _from_transitions(key: str) -> icalendar.Timezone:
    """One observance per transition (no RDATE lists, which vobject misreads)."""
    source = icalendar.Timezone.from_tzinfo(
        zoneinfo.ZoneInfo(key), tzid=key, first_date=FALLBACK_SPAN[0], last_date=FALLBACK_SPAN[1]
    )
    timezone = icalendar.Timezone()
    timezone.add("tzid", key)
    for observance in source.subcomponents:
        found: Any = observance.get("RDATE")
        lists = [] if found is None else found if isinstance(found, list) else [found]
        starts = [observance.decoded("DTSTART")] + [m.dt for rdates in lists for m in rdates.dts]
        for start in starts:
            copy = type(observance)()
            copy.add("tzname", observance.get("TZNAME"))
            copy.add("dtstart", start)
            copy.add("tzoffsetfrom", observance.decoded("TZOFFSETFROM"))
            copy.add("tzoffsetto", observance.decoded("TZOFFSETTO"))
            timezone.add_component(copy)
    return timezone


def _agrees(timezone: icalendar.Timezone, zone: zoneinfo.ZoneInfo) -> bool:
    """Whether ``timezone`` gives the zone's offsets hour by hour from last year to +10 years.

    The TZ string describes the rules after the zone's last listed transition; a zone with
    listed transitions still ahead (Morocco's Ramadan changes) fails this and falls back.
    """
    tzinfo = timezone.to_tz()
    this_year = dt.datetime.now(dt.UTC).year
    instant = dt.datetime(this_year - 1, 1, 1, tzinfo=dt.UTC)
    stop = dt.datetime(this_year + 10, 1, 1, tzinfo=dt.UTC)
    hour = dt.timedelta(hours=1)
    while instant < stop:
        if instant.astimezone(tzinfo).utcoffset() != instant.astimezone(zone).utcoffset():
            return False
        instant += hour
    return True


@functools.lru_cache(maxsize=512)
def _text(key: str) -> bytes:
    zone = zoneinfo.ZoneInfo(key)  # raises for an unknown zone
    timezone = _from_rules(key, _footer(key))
    if timezone is None or not _agrees(timezone, zone):
        timezone = _from_transitions(key)
    return bytes(timezone.to_ical())


def vtimezone(key: str) -> icalendar.Timezone:
    """The VTIMEZONE of IANA zone ``key`` (cached; the same text on every call)."""
    timezone = icalendar.Timezone.from_ical(_text(key))
    assert isinstance(timezone, icalendar.Timezone)
    return timezone
