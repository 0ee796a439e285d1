"""The busy calendar: imported busy time as anonymous "Busy" events, and read-only."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge.availability import Interval
from bridge.booking import busy
from tests.dav.conftest import DavUser, event, put_ics, report

FREEBUSY = """<?xml version="1.0" encoding="utf-8"?>
<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">
  <C:time-range start="20300601T000000Z" end="20300602T000000Z"/></C:free-busy-query>"""
START = dt.datetime(2030, 6, 1, 8, tzinfo=dt.UTC)


def import_busy(store, user: DavUser, *intervals: Interval, remote_id: str = "ev1") -> None:
    with store.write() as session:
        busy.replace_remote_busy(session, user.ref.id, "google:primary", remote_id, intervals)


def busy_hrefs(http, user: DavUser) -> list[str]:
    body = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>"""
    response = http.request("PROPFIND", user.url("busy/"), content=body, headers={"Depth": "1"})
    assert response.status_code == 207
    return sorted(
        part.split("</href>")[0]
        for part in response.text.split("<href>")[1:]
        if part.split("</href>")[0] != user.url("busy/")
    )


def test_imported_busy_time_shows_as_busy_events_without_details(store, user):
    import_busy(store, user, Interval(START, START + dt.timedelta(hours=1)))
    with user.caldav() as client:
        calendar = client.calendar(url=f"{user.base_url}{user.url('busy/')}")
        (found,) = calendar.search(start=START, end=START + dt.timedelta(days=1), event=True)
        component = found.icalendar_component
    assert str(component["summary"]) == "Busy"
    assert str(component["class"]) == "PRIVATE"
    assert (component["dtstart"].dt, component["dtend"].dt) == (
        START,
        START + dt.timedelta(hours=1),
    )
    assert not {"DESCRIPTION", "LOCATION", "ATTENDEE", "ORGANIZER"} & set(component)


def test_busy_time_removed_at_the_source_disappears(store, user, http):
    import_busy(store, user, Interval(START, START + dt.timedelta(hours=1)))
    assert len(busy_hrefs(http, user)) == 1
    import_busy(store, user)
    assert busy_hrefs(http, user) == []


def test_free_busy_query_on_the_busy_calendar_reports_the_busy_time(store, user, http):
    import_busy(store, user, Interval(START, START + dt.timedelta(hours=2)))
    response = report(http, user.url("busy/"), FREEBUSY)
    assert response.status_code == 200
    assert "FREEBUSY" in response.text and "20300601T080000Z" in response.text


def test_a_new_event_in_busy_is_forbidden(user, http):
    text = event("mine", ":20300601T100000Z", ":20300601T110000Z")
    assert put_ics(http, user.url("busy", "mine.ics"), text).status_code == 403
    assert busy_hrefs(http, user) == []


def test_busy_events_cannot_be_changed_or_deleted(store, user, http):
    import_busy(store, user, Interval(START, START + dt.timedelta(hours=1)))
    (href,) = busy_hrefs(http, user)
    original = http.get(href).text
    assert put_ics(http, href, original.replace("Busy", "Free")).status_code == 403
    assert http.delete(href).status_code == 403
    assert http.get(href).text == original


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("DELETE", None),
        (
            "PROPPATCH",
            '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>'
            "<D:displayname>X</D:displayname></D:prop></D:set></D:propertyupdate>",
        ),
        ("PUT", event("whole", ":20300601T100000Z", ":20300601T110000Z")),
    ],
)
def test_the_busy_calendar_itself_cannot_be_written(user, http, method, body):
    response = http.request(method, user.url("busy/"), content=body)
    assert response.status_code == 403


def test_an_event_cannot_be_moved_into_busy(user, http):
    http.request("MKCALENDAR", user.url("mine/"))
    put_ics(http, user.url("mine", "a.ics"), event("a", ":20300601T100000Z", ":20300601T110000Z"))
    response = http.request(
        "MOVE",
        user.url("mine", "a.ics"),
        headers={"Destination": f"{user.base_url}{user.url('busy', 'a.ics')}"},
    )
    assert response.status_code == 403
    assert http.get(user.url("mine", "a.ics")).status_code == 200
