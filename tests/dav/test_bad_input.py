"""Bad input gets a clear 4xx with the reason, stores nothing, and never a 500."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from bridge.web.dav_mount import MAX_CONTENT_LENGTH, MAX_RESOURCE_SIZE
from tests.dav.conftest import DavUser, book, event, local, put_ics, working_day
from tests.dav.test_user_calendars import new_calendar

BROKEN = "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nDTSTART:not-a-date\nEND:VCALENDAR\n"


def listing(http, url: str) -> str:
    body = '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
    response = http.request("PROPFIND", url, content=body, headers={"Depth": "1"})
    assert response.status_code == 207
    return response.text


@pytest.mark.parametrize("calendar", ["work", "bookings"])
def test_malformed_icalendar_is_a_400_with_the_parsers_reason(user: DavUser, http, calendar):
    url = new_calendar(user, http) if calendar == "work" else user.url("bookings/")
    before = listing(http, url)
    response = put_ics(http, f"{url}broken.ics", BROKEN)
    assert response.status_code == 400
    assert "valid-calendar-data" in response.text
    assert "not valid iCalendar" in response.text and "VEVENT" in response.text
    assert http.get(f"{url}broken.ics").status_code == 404
    assert listing(http, url) == before


def test_a_body_that_is_not_icalendar_at_all_is_a_400(user: DavUser, http):
    url = new_calendar(user, http)
    response = http.put(f"{url}x.ics", content=b"hello", headers={"Content-Type": "text/calendar"})
    assert response.status_code == 400
    assert "<CB:message>" in response.text


def test_an_empty_body_is_a_400_that_says_so(user: DavUser, http):
    url = new_calendar(user, http)
    response = http.put(f"{url}x.ics", content=b"", headers={"Content-Type": "text/calendar"})
    assert response.status_code == 400
    assert "empty" in response.text


def test_a_body_over_the_request_limit_is_a_413(user: DavUser, http):
    url = new_calendar(user, http)
    response = http.put(
        f"{url}huge.ics",
        content=b"X" * (MAX_CONTENT_LENGTH + 1),
        headers={"Content-Type": "text/calendar"},
    )
    assert response.status_code == 413
    assert http.get(f"{url}huge.ics").status_code == 404


def test_a_chunked_body_over_the_request_limit_is_a_413(user: DavUser, http):
    url = new_calendar(user, http)
    chunk = b"X" * (1024 * 1024)

    def body():
        for _ in range(MAX_CONTENT_LENGTH // len(chunk) + 1):
            yield chunk

    response = http.put(f"{url}huge.ics", content=body(), headers={"Content-Type": "text/calendar"})
    assert response.status_code == 413


def test_an_item_over_the_resource_limit_is_a_413(user: DavUser, http):
    url = new_calendar(user, http)
    description = "DESCRIPTION:" + "x" * (MAX_RESOURCE_SIZE + 10) + "\n"
    text = event("big", ":20300601T100000Z", ":20300601T110000Z", extra=description)
    response = put_ics(http, f"{url}big.ics", text)
    assert response.status_code == 413
    assert http.get(f"{url}big.ics").status_code == 404


def test_a_booking_cannot_become_all_day_or_recurring(store, user: DavUser, http):
    new = book(store, user, local(user, working_day(), 10))
    url = user.url("bookings", f"booking-{new.booking.id}.ics")
    text = http.get(url).text
    day = working_day()
    head, vevent = text.split("BEGIN:VEVENT", 1)
    lines = []
    for line in vevent.split("\r\n"):
        if line.startswith("DTSTART"):
            line = f"DTSTART;VALUE=DATE:{day:%Y%m%d}"
        elif line.startswith("DTEND"):
            line = f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}"
        lines.append(line)
    all_day = head + "BEGIN:VEVENT" + "\r\n".join(lines)
    response = put_ics(http, url, all_day)
    assert response.status_code == 403 and "booking-has-a-time" in response.text
    recurring = text.replace("END:VEVENT", "RRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT", 1)
    response = put_ics(http, url, recurring)
    assert response.status_code == 403 and "booking-is-one-event" in response.text
    assert http.get(url).text == text


def test_a_vcard_in_a_calendar_is_a_400(user: DavUser, http):
    url = new_calendar(user, http)
    vcard = "BEGIN:VCARD\nVERSION:3.0\nUID:c1\nFN:Ada\nN:Lovelace;Ada;;;\nEND:VCARD\n"
    response = http.put(
        f"{url}c.vcf", content=vcard.replace("\n", "\r\n"), headers={"Content-Type": "text/vcard"}
    )
    assert response.status_code in (400, 403)
    assert http.get(f"{url}c.vcf").status_code == 404


def test_malformed_xml_is_a_400(user: DavUser, http):
    response = http.request(
        "PROPFIND", user.url("bookings/"), content="<not xml", headers={"Depth": "0"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", ""),
        ("PUT", "bookings/a/b.ics"),
        ("DELETE", ""),
        ("MKCALENDAR", ""),
        ("PROPPATCH", ""),
        ("GET", "missing/x.ics"),
    ],
)
def test_odd_requests_get_a_4xx_not_a_server_error(user: DavUser, http, method, path):
    response = http.request(method, user.url(path), content=b"<x/>")
    assert 400 <= response.status_code < 500, response.text


def test_no_response_carries_a_traceback(user: DavUser, base_url):
    with httpx.Client(base_url=base_url, auth=(user.slug, user.password)) as client:
        for method in ("PUT", "DELETE", "MOVE", "REPORT", "PROPPATCH", "MKCOL"):
            response = client.request(method, user.url("bookings", "x.ics"), content=b"\x00\xff")
            assert "Traceback" not in response.text
            assert response.status_code < 500
