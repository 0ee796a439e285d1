"""A new event in the bookings calendar is a blocked time: it removes slots and round-trips."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bridge import ical
from bridge.store.models import BlockedTime, DavItem
from tests.dav.conftest import DavUser, book, free_slots, local, put_ics, working_day


def stamp(day: dt.date, hour: int, minute: int = 0) -> str:
    return f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"


def blocked_event(
    user: DavUser, uid: str, day: dt.date, start_hour: int, end_hour: int, extra: str = ""
) -> str:
    """An event in the provider's zone, with its VTIMEZONE, as Apple Calendar sends one."""
    zone = user.ref.time_zone
    vtimezone = ical.to_text(ical.vtimezone(zone)).replace("\r\n", "\n")
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Apple Inc.//macOS 15//EN\nCALSCALE:GREGORIAN\n"
        f"{vtimezone}BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20260101T000000Z\n"
        f"DTSTART;TZID={zone}:{stamp(day, start_hour)}\nDTEND;TZID={zone}:{stamp(day, end_hour)}\n"
        f"SUMMARY:Private\n{extra}END:VEVENT\nEND:VCALENDAR\n"
    )


def all_day_event(uid: str, day: dt.date) -> str:
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//tests//EN\nBEGIN:VEVENT\n"
        f"UID:{uid}\nDTSTAMP:20260101T000000Z\nDTSTART;VALUE=DATE:{day:%Y%m%d}\n"
        f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}\nSUMMARY:Holiday\n"
        "END:VEVENT\nEND:VCALENDAR\n"
    )


def hours(user: DavUser, starts: list[dt.datetime]) -> list[str]:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(user.ref.time_zone)
    return [start.astimezone(zone).strftime("%H:%M") for start in starts]


def blocks(store, user: DavUser) -> list[tuple[dt.datetime, dt.datetime, str]]:
    with store.read() as session:
        rows = session.execute(
            select(BlockedTime.start_at, BlockedTime.end_at, BlockedTime.source)
            .join(DavItem, DavItem.id == BlockedTime.dav_item_id)
            .where(BlockedTime.provider_id == user.ref.id)
            .order_by(BlockedTime.start_at)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_new_event_blocks_its_time_and_removes_those_slots(store, user, http):
    day = working_day()
    assert "10:00" in hours(user, free_slots(store, user, day))
    text = blocked_event(user, "dentist", day, 10, 12)
    assert put_ics(http, user.url("bookings", "dentist.ics"), text).status_code == 201
    offered = hours(user, free_slots(store, user, day))
    assert not {"10:00", "10:30", "11:00", "11:30"} & set(offered)
    assert {"09:30", "12:00"} <= set(offered)
    assert blocks(store, user) == [(local(user, day, 10), local(user, day, 12), "caldav")]


def test_a_blocked_time_round_trips_unchanged(user, http):
    text = blocked_event(user, "round-trip", working_day(), 10, 11, "X-APPLE-TRAVEL:1\n")
    url = user.url("bookings", "round-trip.ics")
    created = put_ics(http, url, text)
    served = http.get(url)
    # Stored as Radicale stores it: every line kept (vobject may reorder VCALENDAR's properties).
    assert sorted(served.text.split("\r\n")) == sorted(text.replace("\n", "\r\n").split("\r\n"))
    assert served.headers["etag"] == created.headers["etag"]


def test_a_weekly_series_blocks_every_week_except_its_exdate(store, user, http):
    first = working_day(weeks_ahead=1, weekday=2)
    skipped = first + dt.timedelta(weeks=1)
    series = blocked_event(
        user,
        "team-day",
        first,
        9,
        17,
        f"RRULE:FREQ=WEEKLY;COUNT=3\nEXDATE;TZID={user.ref.time_zone}:{stamp(skipped, 9)}\n",
    )
    assert put_ics(http, user.url("bookings", "team-day.ics"), series).status_code == 201
    assert free_slots(store, user, first) == []
    assert free_slots(store, user, skipped) != []
    assert free_slots(store, user, first + dt.timedelta(weeks=2)) == []
    assert len(blocks(store, user)) == 2


def test_an_open_ended_series_blocks_up_to_the_horizon(store, user, http):
    first = working_day(weeks_ahead=1, weekday=3)
    series = blocked_event(user, "forever", first, 9, 10, "RRULE:FREQ=WEEKLY\n")
    assert put_ics(http, user.url("bookings", "forever.ics"), series).status_code == 201
    found = blocks(store, user)
    assert 100 <= len(found) <= 106  # two years of weeks
    assert found[0][0] == local(user, first, 9)


def test_an_all_day_event_blocks_the_whole_local_day(store, user, http):
    day = working_day(weekday=3)
    assert put_ics(http, user.url("bookings", "off.ics"), all_day_event("off", day)).status_code
    assert free_slots(store, user, day) == []
    assert free_slots(store, user, day + dt.timedelta(days=1)) != []
    assert blocks(store, user) == [
        (local(user, day, 0), local(user, day + dt.timedelta(days=1), 0), "caldav")
    ]


def test_a_transparent_event_blocks_nothing(store, user, http):
    day = working_day()
    before = free_slots(store, user, day)
    text = blocked_event(user, "free", day, 10, 12, "TRANSP:TRANSPARENT\n")
    assert put_ics(http, user.url("bookings", "free.ics"), text).status_code == 201
    assert free_slots(store, user, day) == before
    assert blocks(store, user) == []


def test_changing_a_blocked_time_replaces_what_it_blocks(store, user, http):
    day = working_day()
    url = user.url("bookings", "moving.ics")
    put_ics(http, url, blocked_event(user, "moving", day, 10, 11))
    assert put_ics(http, url, blocked_event(user, "moving", day, 14, 15)).status_code == 204
    assert blocks(store, user) == [(local(user, day, 14), local(user, day, 15), "caldav")]
    assert "10:00" in hours(user, free_slots(store, user, day))


def test_deleting_a_blocked_time_frees_its_slots(store, user, http):
    day = working_day()
    before = free_slots(store, user, day)
    url = user.url("bookings", "gone.ics")
    put_ics(http, url, blocked_event(user, "gone", day, 10, 12))
    assert http.delete(url).status_code == 200
    assert blocks(store, user) == []
    assert free_slots(store, user, day) == before


def test_a_blocked_time_may_overlap_a_booking(store, user, http):
    day = working_day()
    new = book(store, user, local(user, day, 10))
    url = user.url("bookings", "over.ics")
    assert put_ics(http, url, blocked_event(user, "over", day, 9, 12)).status_code == 201
    assert http.get(user.url("bookings", f"booking-{new.booking.id}.ics")).status_code == 200


def test_a_blocked_time_with_the_uid_of_a_booking_is_a_uid_conflict(store, user, http):
    new = book(store, user, local(user, working_day(), 10))
    text = blocked_event(user, new.booking.uid, working_day(), 14, 15)
    response = put_ics(http, user.url("bookings", "copy.ics"), text)
    assert response.status_code == 409 and "no-uid-conflict" in response.text
    assert blocks(store, user) == []
