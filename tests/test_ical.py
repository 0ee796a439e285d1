"""Bookings as iCalendar: valid for two parsers, stable text, no invitations, overlays kept."""

from __future__ import annotations

import datetime as dt

import icalendar
import vobject

from bridge import ical
from bridge.store.models import Booking

UTC = dt.UTC


def a_booking(**changes) -> Booking:
    fields = {
        "id": 7,
        "uid": "5f0c@calendar-bridge",
        "start_at": dt.datetime(2026, 10, 25, 8, tzinfo=UTC),  # Berlin's fall-back day
        "end_at": dt.datetime(2026, 10, 25, 9, tzinfo=UTC),
        "version": 3,
        "client_name": "Ada King Lovelace",
        "client_email": "ada@example.org",
        "client_phone": "+44 20 7946 0000",
        "client_notes": "Second floor; ring twice",
        "created_at": dt.datetime(2026, 9, 1, tzinfo=UTC),
        "updated_at": dt.datetime(2026, 9, 2, 12, tzinfo=UTC),
    }
    fields.update(changes)
    return Booking(**fields)


def the_event(text: str) -> icalendar.Event:
    (event,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    return event


def test_a_booking_renders_with_its_zone_sequence_and_contact_details():
    text = ical.booking_calendar(a_booking(), "Consultation", "Europe/Berlin")
    event = the_event(text)
    assert str(event["uid"]) == "5f0c@calendar-bridge"
    assert event["sequence"] == 2
    assert event["dtstart"].dt == dt.datetime(2026, 10, 25, 8, tzinfo=UTC)
    assert event["dtstart"].params["TZID"] == "Europe/Berlin"
    assert str(event["summary"]) == "Consultation – Ada King Lovelace"
    description = str(event["description"])
    assert "ada@example.org" in description and "+44 20 7946 0000" in description
    assert "Second floor; ring twice" in description
    (timezone,) = icalendar.Calendar.from_ical(text).walk("VTIMEZONE")
    assert str(timezone["tzid"]) == "Europe/Berlin"
    assert "ORGANIZER" not in event and "ATTENDEE" not in event


def test_vobject_reads_the_same_event():
    text = ical.booking_calendar(a_booking(), "Consultation", "Europe/Berlin")
    parsed = vobject.readOne(text)
    assert parsed.vevent.uid.value == "5f0c@calendar-bridge"
    assert parsed.vevent.dtstart.value.astimezone(UTC) == dt.datetime(2026, 10, 25, 8, tzinfo=UTC)


def test_the_text_is_a_function_of_the_booking_and_changes_with_it():
    booking = a_booking()
    first = ical.booking_calendar(booking, "Consultation", "Europe/Berlin")
    assert ical.booking_calendar(booking, "Consultation", "Europe/Berlin") == first
    moved = a_booking(
        start_at=dt.datetime(2026, 10, 26, 8, tzinfo=UTC),
        end_at=dt.datetime(2026, 10, 26, 9, tzinfo=UTC),
        version=4,
        updated_at=dt.datetime(2026, 9, 3, tzinfo=UTC),
    )
    assert ical.booking_calendar(moved, "Consultation", "Europe/Berlin") != first


def test_shared_detail_levels_hide_contact_details():
    booking = a_booking()
    first_name = ical.to_text(ical.booking_event(booking, "Consultation", "UTC", "first_name"))
    assert "Consultation – Ada" in first_name
    busy = ical.to_text(ical.booking_event(booking, "Consultation", "UTC", "busy"))
    for secret in ("Ada", "Lovelace", "ada@example.org", "7946", "Second floor", "Consultation"):
        assert secret not in busy
        if secret != "Ada" and secret != "Consultation":
            assert secret not in first_name


def test_a_clients_alarm_and_categories_survive_as_an_overlay_but_times_do_not():
    booking = a_booking()
    event = the_event(ical.booking_calendar(booking, "Consultation", "Europe/Berlin"))
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Reminder")
    alarm.add("trigger", dt.timedelta(minutes=-15))
    event.add_component(alarm)
    event.add("categories", "Work")
    event["summary"] = "Renamed by the client"
    overlay = ical.overlay_of(event)
    assert overlay is not None
    assert "DTSTART" not in overlay and "Renamed" not in overlay
    merged = the_event(ical.booking_calendar(booking, "Consultation", "Europe/Berlin", overlay))
    assert [a["trigger"].dt for a in merged.walk("VALARM")] == [dt.timedelta(minutes=-15)]
    assert "Work" in merged.to_ical().decode()
    assert str(merged["summary"]) == "Consultation – Ada King Lovelace"


def test_an_event_with_nothing_of_the_clients_has_no_overlay():
    event = the_event(ical.booking_calendar(a_booking(), "Consultation", "Europe/Berlin"))
    assert ical.overlay_of(event) is None
