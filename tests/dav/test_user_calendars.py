"""Calendars a provider makes with their client behave as in stock Radicale."""

from __future__ import annotations

import datetime as dt
import uuid

import caldav
import icalendar
import pytest
from caldav.elements import dav, ical

from tests.dav.conftest import DavUser, event, propfind, put_ics, report

GETCTAG = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">
  <D:prop><CS:getctag/><D:sync-token/></D:prop></D:propfind>"""

PROPS = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"
    xmlns:I="http://apple.com/ns/ical/">
  <D:prop><D:displayname/><C:calendar-description/><I:calendar-color/></D:prop></D:propfind>"""

FREEBUSY = """<?xml version="1.0" encoding="utf-8"?>
<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">
  <C:time-range start="20300601T000000Z" end="20300602T000000Z"/></C:free-busy-query>"""


def ctag(http, url: str) -> str:
    response = propfind(http, url, GETCTAG)
    assert response.status_code == 207, response.text
    return response.text.split("getctag>")[1].split("<")[0]


def new_calendar(user: DavUser, http, name: str = "work") -> str:
    body = """<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set></C:mkcalendar>"""
    response = http.request("MKCALENDAR", user.url(f"{name}/"), content=body)
    assert response.status_code == 201, response.text
    return user.url(f"{name}/")


def lunch(uid: str, day: str = "20300601", summary: str = "Lunch") -> str:
    return event(uid, f":{day}T120000Z", f":{day}T130000Z", summary)


def test_a_client_makes_renames_and_deletes_a_calendar(user: DavUser):
    with user.caldav() as client:
        principal = client.principal()
        calendar = principal.make_calendar(name="Private", cal_id="private")
        assert calendar.url.path == user.url("private/")
        calendar.set_properties(
            [
                dav.DisplayName("Family"),
                ical.CalendarColor("#FF0000FF"),
                caldav.elements.cdav.CalendarDescription("Kids and school"),
            ]
        )
        assert client.calendar(url=calendar.url).get_display_name() == "Family"
        with user.http() as http:
            props = propfind(http, user.url("private/"), PROPS).text
        assert "Kids and school" in props and "#FF0000FF" in props
        assert user.url("private/") in {str(c.url.path) for c in principal.calendars()}
        calendar.delete()
        assert user.url("private/") not in {str(c.url.path) for c in principal.calendars()}


def test_an_extended_mkcol_makes_a_calendar(user: DavUser, http):
    body = """<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Side</D:displayname>
</D:prop></D:set></D:mkcol>"""
    assert http.request("MKCOL", user.url("side/"), content=body).status_code == 201
    assert put_ics(http, user.url("side", "a.ics"), lunch("a")).status_code == 201
    assert "Side" in propfind(http, user.url("side/"), PROPS).text


def test_events_are_created_found_by_date_modified_and_deleted(user: DavUser):
    with user.caldav() as client:
        calendar = client.principal().make_calendar(name="Work", cal_id="work")
        calendar.save_event(lunch("june-1", "20300601"))
        calendar.save_event(lunch("june-9", "20300609", "Dentist"))
        found = calendar.search(
            start=dt.datetime(2030, 6, 1, tzinfo=dt.UTC),
            end=dt.datetime(2030, 6, 2, tzinfo=dt.UTC),
            event=True,
        )
        assert [str(e.icalendar_component["uid"]) for e in found] == ["june-1"]

        dentist = calendar.event_by_uid("june-9")
        dentist.icalendar_component["summary"] = "Dentist (moved)"
        dentist.save()
        again = calendar.event_by_uid("june-9")
        assert str(again.icalendar_component["summary"]) == "Dentist (moved)"

        again.delete()
        assert [str(e.icalendar_component["uid"]) for e in calendar.events()] == ["june-1"]


def test_a_recurring_event_is_found_by_a_range_covering_a_later_occurrence(user: DavUser):
    with user.caldav() as client:
        calendar = client.principal().make_calendar(name="Gym", cal_id="gym")
        calendar.save_event(
            event("weekly", ":20300603T070000Z", ":20300603T080000Z", "Gym", "RRULE:FREQ=WEEKLY\n")
        )
        found = calendar.search(
            start=dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
            end=dt.datetime(2031, 1, 8, tzinfo=dt.UTC),
            event=True,
        )
        assert [str(e.icalendar_component["uid"]) for e in found] == ["weekly"]


def test_calendar_multiget_returns_the_asked_items_and_404_for_missing(user: DavUser, http):
    url = new_calendar(user, http)
    for uid in ("a", "b", "c"):
        assert put_ics(http, f"{url}{uid}.ics", lunch(uid)).status_code == 201
    body = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <D:href>{url}a.ics</D:href><D:href>{url}c.ics</D:href><D:href>{url}zzz.ics</D:href>
</C:calendar-multiget>"""
    response = report(http, url, body)
    assert response.status_code == 207
    assert "UID:a" in response.text and "UID:c" in response.text and "UID:b" not in response.text
    assert f"{url}zzz.ics</href><status>HTTP/1.1 404" in response.text.replace("\n", "")


def test_the_caldav_library_multigets_objects(user: DavUser, http):
    url = new_calendar(user, http)
    put_ics(http, f"{url}a.ics", lunch("a"))
    with user.caldav() as client:
        calendar = client.calendar(url=f"{user.base_url}{url}")
        (loaded,) = calendar.multiget([caldav.lib.url.URL.objectify(f"{user.base_url}{url}a.ics")])
        assert str(loaded.icalendar_component["uid"]) == "a"


def test_free_busy_query_reports_busy_periods_of_the_range(user: DavUser, http):
    url = new_calendar(user, http)
    put_ics(http, f"{url}a.ics", lunch("a", "20300601"))
    put_ics(http, f"{url}b.ics", lunch("b", "20300605"))
    response = report(http, url, FREEBUSY)
    assert response.status_code == 200
    (freebusy,) = icalendar.Calendar.from_ical(response.text).walk("VFREEBUSY")
    found = freebusy.get("FREEBUSY", [])
    periods = [prop.dt for prop in (found if isinstance(found, list) else [found])]
    assert periods == [
        (dt.datetime(2030, 6, 1, 12, tzinfo=dt.UTC), dt.datetime(2030, 6, 1, 13, tzinfo=dt.UTC))
    ]


def test_getctag_changes_exactly_when_the_calendar_changes(user: DavUser, http):
    url = new_calendar(user, http)
    first = ctag(http, url)
    assert ctag(http, url) == first
    put_ics(http, f"{url}a.ics", lunch("a"))
    second = ctag(http, url)
    assert second != first
    assert put_ics(http, f"{url}a.ics", lunch("a")).status_code == 204  # identical content
    assert ctag(http, url) == second
    put_ics(http, f"{url}a.ics", lunch("a", summary="Brunch"))
    third = ctag(http, url)
    assert third != second
    http.delete(f"{url}a.ics")
    assert ctag(http, url) not in {first, second, third}


def test_an_item_etag_changes_exactly_when_its_content_changes(user: DavUser, http):
    url = new_calendar(user, http)
    created = put_ics(http, f"{url}a.ics", lunch("a"))
    etag = created.headers["etag"]
    assert http.get(f"{url}a.ics").headers["etag"] == etag
    assert put_ics(http, f"{url}a.ics", lunch("a")).headers["etag"] == etag
    changed = put_ics(http, f"{url}a.ics", lunch("a", summary="Brunch")).headers["etag"]
    assert changed != etag
    assert http.get(f"{url}a.ics").headers["etag"] == changed


def test_if_match_with_a_stale_etag_is_a_failed_precondition(user: DavUser, http):
    url = new_calendar(user, http)
    etag = put_ics(http, f"{url}a.ics", lunch("a")).headers["etag"]
    put_ics(http, f"{url}a.ics", lunch("a", summary="Changed elsewhere"))
    stale = put_ics(http, f"{url}a.ics", lunch("a", summary="Mine"), {"If-Match": etag})
    assert stale.status_code == 412
    assert "Changed elsewhere" in http.get(f"{url}a.ics").text
    assert http.delete(f"{url}a.ics", headers={"If-Match": etag}).status_code == 412
    current = http.get(f"{url}a.ics").headers["etag"]
    assert put_ics(http, f"{url}a.ics", lunch("a"), {"If-Match": current}).status_code == 204


def test_if_none_match_star_on_an_existing_item_is_a_failed_precondition(user: DavUser, http):
    url = new_calendar(user, http)
    assert put_ics(http, f"{url}a.ics", lunch("a"), {"If-None-Match": "*"}).status_code == 201
    again = put_ics(http, f"{url}a.ics", lunch("a", summary="Again"), {"If-None-Match": "*"})
    assert again.status_code == 412
    assert "Again" not in http.get(f"{url}a.ics").text


def test_a_uid_already_stored_at_another_href_is_a_uid_conflict(user: DavUser, http):
    url = new_calendar(user, http)
    put_ics(http, f"{url}a.ics", lunch("same-uid"))
    response = put_ics(http, f"{url}b.ics", lunch("same-uid"))
    assert response.status_code == 409
    assert "no-uid-conflict" in response.text
    assert http.get(f"{url}b.ics").status_code == 404


def test_an_item_moves_between_the_users_calendars(user: DavUser, http):
    work = new_calendar(user, http, "work")
    home = new_calendar(user, http, "home")
    put_ics(http, f"{work}a.ics", lunch("a"))
    moved = http.request(
        "MOVE", f"{work}a.ics", headers={"Destination": f"{user.base_url}{home}a.ics"}
    )
    assert moved.status_code == 201
    assert http.get(f"{work}a.ics").status_code == 404
    assert "UID:a" in http.get(f"{home}a.ics").text


def test_a_whole_calendar_is_replaced_by_a_put_on_its_url(user: DavUser, http):
    url = new_calendar(user, http)
    put_ics(http, f"{url}old.ics", lunch("old"))
    whole = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nX-WR-CALNAME:Imported\n"
        + "".join(
            f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20300101T000000Z\n"
            f"DTSTART:20300601T120000Z\nDTEND:20300601T130000Z\nEND:VEVENT\n"
            for uid in ("x", "y")
        )
        + "END:VCALENDAR\n"
    )
    assert put_ics(http, url, whole).status_code == 201
    listing = propfind(http, url, GETCTAG, depth="1").text
    assert "x.ics" in listing and "y.ics" in listing and "old.ics" not in listing
    assert "Imported" in propfind(http, url, PROPS).text


def test_collections_cannot_be_nested_or_plain(user: DavUser, http):
    url = new_calendar(user, http)
    assert http.request("MKCALENDAR", f"{url}inner/").status_code == 403
    assert http.request("MKCOL", user.url("folder/")).status_code == 403


@pytest.mark.parametrize(("name", "status"), [("bookings", 409), ("busy", 403)])
def test_the_bridge_calendar_names_are_taken(user: DavUser, http, name, status):
    assert http.request("MKCALENDAR", user.url(f"{name}/")).status_code == status


def test_unicode_names_are_stored_and_served(user: DavUser, http):
    url = new_calendar(user, http, "kalender-ü")
    name = f"termin-{uuid.uuid4().hex[:4]}-é.ics"
    assert put_ics(http, f"{url}{name}", lunch("unicode")).status_code == 201
    assert http.get(f"{url}{name}").status_code == 200
