"""The bookings calendar: bookings as events; moving one reschedules, deleting one cancels."""

from __future__ import annotations

import datetime as dt

import httpx
import icalendar
import pytest

from bridge.booking import bookings, tokens
from bridge.store.models import BOOKING_CANCELLED, Booking, Provider
from tests.dav.conftest import (
    DavUser,
    book,
    event,
    issue_app_password,
    local,
    new_dav_user,
    propfind,
    put_ics,
    report,
    utc_stamp,
    working_day,
)

ALARM = "BEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Soon\nTRIGGER:-PT15M\nEND:VALARM\n"
GETETAG = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>"""


def api_headers(store, user: DavUser) -> dict[str, str]:
    with store.write() as session:
        provider = session.get(Provider, user.ref.id)
        secret = tokens.create_token(session, provider=provider, label="test").secret
    return {"Authorization": f"Bearer {secret}"}


def booking_url(user: DavUser, booking_id: int) -> str:
    return user.url("bookings", f"booking-{booking_id}.ics")


def the_event(text: str) -> icalendar.Event:
    (found,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    return found


def moved(text: str, by: dt.timedelta, *, stretch: dt.timedelta = dt.timedelta(0)) -> str:
    """The booking's event as a client sends it back after dragging it by ``by``."""
    calendar = icalendar.Calendar.from_ical(text)
    for component in calendar.walk("VEVENT"):
        start, end = component["DTSTART"].dt, component["DTEND"].dt
        del component["DTSTART"], component["DTEND"]
        component.add("dtstart", start + by)
        component.add("dtend", end + by + stretch)
    return calendar.to_ical().decode()


def with_additions(text: str, additions: str) -> str:
    return text.replace("END:VEVENT", additions.replace("\n", "\r\n") + "END:VEVENT", 1)


def stored(store, booking_id: int) -> Booking:
    with store.read() as session:
        found = session.get(Booking, booking_id)
        assert found is not None
        return found


def history(store, booking_id: int) -> list[tuple[str, str]]:
    with store.read() as session:
        return [(c.action, c.actor) for c in bookings.history(session, booking_id)]


def test_a_booking_made_through_the_api_shows_up_in_the_bookings_calendar(store, user, http):
    day = working_day()
    response = httpx.post(
        f"{user.base_url}/api/v1/providers/{user.slug}/bookings",
        json={
            "service": user.ref.service_id,
            "start": local(user, day, 10).isoformat(),
            "client": {"name": "Grace Hopper", "email": "grace@example.org"},
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    with user.caldav() as client:
        calendar = client.calendar(url=f"{user.base_url}{user.url('bookings/')}")
        (found,) = calendar.search(
            start=local(user, day, 0), end=local(user, day + dt.timedelta(days=1), 0), event=True
        )
        component = found.icalendar_component
    assert str(component["uid"]) == created["uid"]
    assert "Grace Hopper" in str(component["summary"])
    assert "grace@example.org" in str(component["description"])
    assert component["sequence"] == 0
    assert component["dtstart"].dt == local(user, day, 10)
    assert str(component["dtstart"].params["TZID"]) == user.ref.time_zone
    assert "ORGANIZER" not in component and "ATTENDEE" not in component
    vtimezones = icalendar.Calendar.from_ical(found.data).walk("VTIMEZONE")
    assert [str(tz["tzid"]) for tz in vtimezones] == [user.ref.time_zone]


def test_deleting_a_bookings_event_cancels_the_booking(store, user, http):
    new = book(store, user, local(user, working_day(), 10))
    url = booking_url(user, new.booking.id)
    assert http.get(url).status_code == 200
    assert http.delete(url).status_code == 200
    assert http.get(url).status_code == 404
    api = httpx.get(
        f"{user.base_url}/api/v1/providers/{user.slug}/bookings/{new.booking.id}",
        headers=api_headers(store, user),
    )
    assert api.json()["status"] == BOOKING_CANCELLED
    assert history(store, new.booking.id)[-1] == ("cancelled", "caldav:password")


def test_putting_back_a_cancelled_bookings_event_is_refused(store, user, http):
    new = book(store, user, local(user, working_day(), 10))
    url = booking_url(user, new.booking.id)
    text = http.get(url).text
    assert http.delete(url).status_code == 200
    response = put_ics(http, url, text)
    assert response.status_code == 409 and "booking-cancelled" in response.text
    assert http.get(url).status_code == 404
    assert stored(store, new.booking.id).status == BOOKING_CANCELLED


def test_a_cancellation_through_an_app_password_names_the_device(store, user):
    new = book(store, user, local(user, working_day(), 10))
    _, secret = issue_app_password(store, user, "iPhone")
    with user.http(password=secret) as client:
        assert client.delete(booking_url(user, new.booking.id)).status_code == 200
    assert history(store, new.booking.id)[-1] == ("cancelled", "caldav:iPhone")


def test_moving_a_bookings_event_reschedules_the_booking(store, user, http):
    day = working_day()
    new = book(store, user, local(user, day, 10))
    url = booking_url(user, new.booking.id)
    response = put_ics(http, url, moved(http.get(url).text, dt.timedelta(hours=8)))
    assert response.status_code == 204, response.text
    assert "etag" not in response.headers  # rewritten: the client must fetch it again
    booking = stored(store, new.booking.id)
    assert (booking.start_at, booking.version) == (local(user, day, 18), 2)
    assert history(store, new.booking.id)[-1] == ("rescheduled", "caldav:password")
    served = the_event(http.get(url).text)
    assert served["dtstart"].dt == local(user, day, 18)
    assert served["sequence"] == 1


def test_a_move_onto_another_booking_is_refused_and_changes_nothing(store, user, http):
    day = working_day()
    first = book(store, user, local(user, day, 10))
    book(store, user, local(user, day, 11))
    url = booking_url(user, first.booking.id)
    before = http.get(url)
    response = put_ics(http, url, moved(before.text, dt.timedelta(hours=1)))
    assert response.status_code == 409
    assert "booking-time-unavailable" in response.text
    assert "overlaps another booking" in response.text
    assert stored(store, first.booking.id).start_at == local(user, day, 10)
    after = http.get(url)
    assert (after.text, after.headers["etag"]) == (before.text, before.headers["etag"])
    assert history(store, first.booking.id) == [("created", "client")]


def test_resizing_a_booking_is_refused_with_a_reason(store, user, http):
    new = book(store, user, local(user, working_day(), 10))
    url = booking_url(user, new.booking.id)
    longer = moved(http.get(url).text, dt.timedelta(0), stretch=dt.timedelta(minutes=30))
    response = put_ics(http, url, longer)
    assert response.status_code == 403
    assert "booking-keeps-its-length" in response.text and "30 minutes" in response.text
    assert stored(store, new.booking.id).version == 1


def test_an_alarm_added_by_the_client_is_kept_and_is_not_a_reschedule(store, user, http):
    day = working_day()
    new = book(store, user, local(user, day, 10))
    url = booking_url(user, new.booking.id)
    original = http.get(url)
    edited = with_additions(original.text, ALARM + "CATEGORIES:Work\n")
    edited = edited.replace("SUMMARY:", "SUMMARY:Mine ", 1)
    response = put_ics(http, url, edited)
    assert response.status_code == 204, response.text
    assert stored(store, new.booking.id).version == 1
    served = http.get(url)
    assert served.headers["etag"] != original.headers["etag"]
    event_ = the_event(served.text)
    assert [str(a["trigger"].to_ical().decode()) for a in event_.walk("VALARM")] == ["-PT15M"]
    assert str(event_["summary"]) == "Appointment – Ada Lovelace"  # the bridge owns it

    bookings.reschedule(
        store, user.slug, new.booking.id, local(user, day, 12), actor=bookings.Actor("provider")
    )
    after_move = the_event(http.get(url).text)
    assert after_move["dtstart"].dt == local(user, day, 12)
    assert len(after_move.walk("VALARM")) == 1
    assert "Work" in after_move["categories"].to_ical().decode()


def test_putting_back_the_served_event_changes_nothing(store, user, http):
    new = book(store, user, local(user, working_day(), 10))
    url = booking_url(user, new.booking.id)
    before = http.get(url)
    assert put_ics(http, url, before.text).status_code == 204
    after = http.get(url)
    assert after.headers["etag"] == before.headers["etag"]
    assert stored(store, new.booking.id).version == 1


def test_an_api_change_is_visible_to_caldav_at_once_with_a_new_etag(store, user, http):
    day = working_day()
    new = book(store, user, local(user, day, 10))
    url = booking_url(user, new.booking.id)
    etag = http.get(url).headers["etag"]
    bookings.reschedule(
        store, user.slug, new.booking.id, local(user, day, 14), actor=bookings.Actor("provider")
    )
    assert http.get(url).headers["etag"] != etag
    stale = put_ics(http, url, moved(http.get(url).text, dt.timedelta(hours=1)), {"If-Match": etag})
    assert stale.status_code == 412
    assert stored(store, new.booking.id).start_at == local(user, day, 14)


def test_a_task_in_the_bookings_calendar_is_refused_with_a_reason(user, http):
    todo = event("todo-1", ":20300601T100000Z", ":20300601T110000Z", component="VTODO")
    response = put_ics(http, user.url("bookings", "todo.ics"), todo)
    assert response.status_code == 403
    assert "supported-calendar-component" in response.text
    assert "events (VEVENT) only" in response.text
    assert http.get(user.url("bookings", "todo.ics")).status_code == 404


def test_the_bookings_calendar_cannot_be_deleted_or_overwritten(store, user, http):
    new = book(store, user, local(user, working_day(), 10))
    assert http.delete(user.url("bookings/")).status_code == 403
    whole = event("x", ":20300601T100000Z", ":20300601T110000Z")
    assert put_ics(http, user.url("bookings/"), whole).status_code == 403
    assert stored(store, new.booking.id).status == "confirmed"
    assert http.get(booking_url(user, new.booking.id)).status_code == 200


def test_the_bookings_calendar_can_be_renamed_but_stays_an_event_calendar(user, http):
    body = """<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:set><D:prop><D:displayname>Clinic</D:displayname>
<C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set>
</D:prop></D:set></D:propertyupdate>"""
    assert http.request("PROPPATCH", user.url("bookings/"), content=body).status_code == 207
    props = propfind(
        http,
        user.url("bookings/"),
        """<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"
        xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:displayname/>
        <C:supported-calendar-component-set/></D:prop></D:propfind>""",
    ).text
    assert "Clinic" in props and 'name="VEVENT"' in props and "VTODO" not in props


def test_moving_an_event_out_of_the_bookings_calendar_is_refused(store, user, http):
    new = book(store, user, local(user, working_day(), 10))
    http.request("MKCALENDAR", user.url("other/"))
    response = http.request(
        "MOVE",
        booking_url(user, new.booking.id),
        headers={"Destination": f"{user.base_url}{user.url('other', 'x.ics')}"},
    )
    assert response.status_code == 403
    assert "bookings-items-stay" in response.text
    assert stored(store, new.booking.id).status == "confirmed"
    assert http.get(user.url("other", "x.ics")).status_code == 404


def test_a_time_range_query_finds_bookings_by_their_time(store, user, http):
    day = working_day()
    new = book(store, user, local(user, day, 10))
    book(store, user, local(user, day + dt.timedelta(days=1), 10))
    start, end = utc_stamp(local(user, day, 0))[1:], utc_stamp(local(user, day, 23))[1:]
    body = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR">
<C:comp-filter name="VEVENT"><C:time-range start="{start}" end="{end}"/>
</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"""
    response = report(http, user.url("bookings/"), body)
    assert response.status_code == 207
    assert response.text.count("<href>") == 1
    assert booking_url(user, new.booking.id) in response.text


@pytest.mark.parametrize("method", ["DELETE", "PUT"])
def test_a_booking_event_of_another_provider_cannot_be_touched(store, user, method, base_url):
    owner = new_dav_user(store, base_url)
    new = book(store, owner, local(owner, working_day(), 10))
    with user.http() as client:
        response = client.request(
            method, booking_url(owner, new.booking.id), content=event("x", ":1", ":2")
        )
    assert response.status_code == 403
    assert stored(store, new.booking.id).status == "confirmed"


def test_propfind_lists_a_booking_with_the_etag_get_answers(store, user, http):
    new = book(store, user, local(user, working_day(), 10))
    etag = http.get(booking_url(user, new.booking.id)).headers["etag"]
    listing = propfind(http, user.url("bookings/"), GETETAG, depth="1").text
    assert f"<getetag>{etag}</getetag>" in listing
