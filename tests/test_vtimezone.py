"""VTIMEZONEs that give every year's offsets, read the same by icalendar and vobject."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import vobject

from bridge import ical
from bridge.vtimezone import vtimezone

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute DST change, in the southern hemisphere
    "Asia/Kathmandu",  # +05:45, no DST
    "Europe/Dublin",  # "negative" DST: winter is the daylight observance
    "America/Santiago",  # transitions at 24:00: a weekday among seven month days
    "Asia/Jerusalem",  # transitions at 26:00 after the 4th Thursday
    "Africa/Cairo",  # "last Thursday at 24:00": one observance per transition
    "UTC",
]


def same_offset(instant, tzinfo, zone) -> bool:
    return instant.astimezone(tzinfo).utcoffset() == instant.astimezone(zone).utcoffset()


def instants(zone: zoneinfo.ZoneInfo, first_year: int, last_year: int):
    """Every 6 hours, and every 15 minutes within a day of each change of the zone's offset."""
    step, fine = dt.timedelta(hours=6), dt.timedelta(minutes=15)
    instant = dt.datetime(first_year, 1, 1, tzinfo=dt.UTC)
    stop = dt.datetime(last_year + 1, 1, 1, tzinfo=dt.UTC)
    while instant < stop:
        yield instant
        after = instant + step
        if instant.astimezone(zone).utcoffset() != after.astimezone(zone).utcoffset():
            close = instant - dt.timedelta(days=1)
            while close < after + dt.timedelta(days=1):
                yield close
                close += fine
        instant = after


@pytest.mark.parametrize("key", ZONES)
def test_icalendar_reads_the_zones_offsets_for_years_ahead(key):
    tzinfo = vtimezone(key).to_tz()
    zone = zoneinfo.ZoneInfo(key)
    for instant in instants(zone, 2026, 2032):
        assert instant.astimezone(tzinfo).utcoffset() == instant.astimezone(zone).utcoffset(), (
            instant
        )


# vobject misreads the hour around each change of a per-transition VTIMEZONE (Cairo and
# Greenland's zones only); Radicale's own parsing has the same limit for every server.
RULE_BASED = [key for key in ZONES if key != "Africa/Cairo"]


@pytest.mark.parametrize("key", RULE_BASED)
def test_vobject_reads_the_same_offsets(key):
    calendar = ical.new_calendar()
    calendar.add_component(vtimezone(key))
    tzinfo = vobject.readOne(ical.to_text(calendar)).vtimezone.gettzinfo()
    zone = zoneinfo.ZoneInfo(key)
    for instant in instants(zone, 2026, 2027):
        assert instant.astimezone(tzinfo).utcoffset() == instant.astimezone(zone).utcoffset(), (
            instant
        )


def test_rule_based_zones_are_compact_and_the_same_on_every_call():
    berlin = ical.to_text(vtimezone("Europe/Berlin"))
    assert berlin == ical.to_text(vtimezone("Europe/Berlin"))
    assert berlin.count("RRULE:FREQ=YEARLY") == 2
    assert len(berlin) < 600


def test_an_unknown_zone_is_refused():
    with pytest.raises(zoneinfo.ZoneInfoNotFoundError):
        vtimezone("Mars/Olympus_Mons")
