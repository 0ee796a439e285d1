"""Rendering feeds: valid RFC 5545 for icalendar and vobject, what each kind shows, the window,
and the validators (ETag, Last-Modified)."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
import vobject

from bridge import clock, feeds
from bridge.booking import bookings, providers, services
from bridge.store import Store
from bridge.store.models import Provider
from tests.booking.helpers import PROVIDER, TUESDAY, local
from tests.conftest import MONDAY, ProviderRef, new_provider
from tests.feeds.conftest import PRIVATE_WORDS, book


def load(store: Store, ref: ProviderRef, kind: feeds.FeedKind = "full") -> feeds.Feed:
    with store.read() as session:
        provider = session.get_one(Provider, ref.id)
        return feeds.load(session, provider, kind, clock.now())


def render(store: Store, ref: ProviderRef, kind: feeds.FeedKind = "full") -> str:
    return load(store, ref, kind).render().decode("utf-8")


def in_feed_zone(calendar, moment: dt.datetime) -> dt.datetime:
    """``moment``'s wall-clock time read with the feed's own VTIMEZONE, in UTC.

    vobject keeps the first zone it ever parsed for a TZID (process-wide), so the tzinfo it puts
    on values may come from another test's feed; this reads the VTIMEZONE of this one.
    """
    zone = calendar.vtimezone.gettzinfo()
    return moment.replace(tzinfo=zone).astimezone(dt.UTC)


def test_the_full_feed_parses_with_icalendar(store, provider, booked):
    calendar = icalendar.Calendar.from_ical(render(store, provider))

    assert calendar["VERSION"] == "2.0" and "Calendar Bridge" in calendar["PRODID"]
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["X-WR-CALNAME"] == "Dr. Test (appointments)"
    assert calendar["X-WR-TIMEZONE"] == "Europe/Berlin"
    assert calendar["REFRESH-INTERVAL"].dt == feeds.REFRESH
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert "X-PUBLISHED-TTL" in calendar
    assert calendar.to_ical().decode().count("X-PUBLISHED-TTL:PT15M") == 1
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    [event] = calendar.walk("VEVENT")
    assert event["UID"] == booked.uid
    assert event["SUMMARY"] == "Appointment – Ada"
    assert event.decoded("DTSTART") == booked.start_at
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTEND") == booked.end_at


def test_both_kinds_parse_with_vobject_using_the_feeds_own_vtimezone(store, provider, booked):
    for kind in ("full", "busy"):
        calendar = vobject.readOne(render(store, provider, kind))

        [event] = calendar.vevent_list
        assert in_feed_zone(calendar, event.dtstart.value) == booked.start_at
        assert in_feed_zone(calendar, event.dtend.value) == booked.end_at
        assert event.uid.value == booked.uid
        assert len(calendar.vtimezone_list) == 1


def test_the_full_feed_shows_service_and_first_name_but_no_contact_details(store, provider, booked):
    text = render(store, provider)

    assert "Appointment – Ada" in text
    for private in ("Lovelace", "ada@example.org", "1234567", "penicillin", "DESCRIPTION"):
        assert private not in text
    assert "ORGANIZER" not in text and "ATTENDEE" not in text


def test_the_busy_feed_shows_nothing_but_times(store, provider, booked):
    text = render(store, provider, "busy")

    for private in PRIVATE_WORDS:
        assert private not in text
    calendar = icalendar.Calendar.from_ical(text)
    assert calendar["X-WR-CALNAME"] == "Dr. Test (busy)"
    [event] = calendar.walk("VEVENT")
    assert event["SUMMARY"] == "Busy"
    assert event.decoded("DTSTART") == booked.start_at
    assert "DESCRIPTION" not in event and "LOCATION" not in event


def test_cancelled_bookings_and_other_providers_are_left_out(store, provider, frozen_now):
    kept = book(store, provider, local(provider, TUESDAY, 9))
    cancelled = book(store, provider, local(provider, TUESDAY, 10))
    bookings.cancel(store, provider.slug, cancelled.id, actor=PROVIDER)
    other = new_provider(store)
    book(store, other, local(other, TUESDAY, 9))

    events = icalendar.Calendar.from_ical(render(store, provider)).walk("VEVENT")

    assert [event["UID"] for event in events] == [kept.uid]


def test_events_come_in_time_order(store, provider, frozen_now):
    later = book(store, provider, local(provider, TUESDAY, 11))
    earlier = book(store, provider, local(provider, TUESDAY, 9))

    events = icalendar.Calendar.from_ical(render(store, provider)).walk("VEVENT")

    assert [event["UID"] for event in events] == [earlier.uid, later.uid]


def test_a_feed_without_bookings_is_a_valid_empty_calendar(store, provider, frozen_now):
    text = render(store, provider)

    calendar = icalendar.Calendar.from_ical(text)
    assert calendar.walk("VEVENT") == [] and calendar.walk("VTIMEZONE") == []
    assert vobject.readOne(text).name == "VCALENDAR"


def test_the_window_keeps_bookings_until_30_days_after_they_end(store, provider, booked):
    with clock.frozen(booked.end_at + feeds.PAST_WINDOW - dt.timedelta(seconds=1)):
        assert booked.uid in render(store, provider)
    with clock.frozen(booked.end_at + feeds.PAST_WINDOW):
        assert booked.uid not in render(store, provider)


def test_far_future_bookings_are_in_the_feed_with_a_zone_covering_their_year(
    store, provider, frozen_now
):
    far = local(provider, TUESDAY, 9) + dt.timedelta(days=7 * 100)  # a Tuesday in 2028
    booking = book(store, provider, local(provider, TUESDAY, 9))
    bookings.reschedule(store, provider.slug, booking.id, far, actor=PROVIDER)

    calendar = vobject.readOne(render(store, provider))

    assert in_feed_zone(calendar, calendar.vevent.dtstart.value) == far


def test_the_etag_is_stable_and_changes_with_the_booking(store, provider, booked):
    first = load(store, provider)
    assert load(store, provider).etag == first.etag
    assert first.etag.startswith('"') and not first.etag.startswith("W/")

    moved_at = MONDAY + dt.timedelta(hours=1)
    with clock.frozen(moved_at):
        bookings.reschedule(
            store, provider.slug, booked.id, local(provider, TUESDAY, 11), actor=PROVIDER
        )
    second = load(store, provider)

    assert second.etag != first.etag
    assert second.last_modified == moved_at > first.last_modified


def test_a_cancellation_changes_etag_and_last_modified(store, provider, booked):
    before = load(store, provider)

    cancelled_at = MONDAY + dt.timedelta(hours=2)
    with clock.frozen(cancelled_at):
        bookings.cancel(store, provider.slug, booked.id, actor=PROVIDER)
    after = load(store, provider)

    assert after.etag != before.etag
    assert after.last_modified == cancelled_at


def test_renaming_the_service_changes_the_full_feed_but_not_the_busy_one(store, provider, booked):
    full, busy = load(store, provider, "full"), load(store, provider, "busy")

    with clock.frozen(MONDAY + dt.timedelta(hours=3)), store.write() as session:
        services.update_service(
            session, provider.id, provider.service_id, services.ServiceSpec(name="Check-up")
        )

    assert load(store, provider, "full").etag != full.etag
    assert load(store, provider, "busy").etag == busy.etag
    assert "Check-up – Ada" in render(store, provider)


def test_renaming_the_provider_changes_the_feed(store, provider, booked):
    before = load(store, provider)

    with clock.frozen(MONDAY + dt.timedelta(hours=4)), store.write() as session:
        providers.update_provider(session, session.get_one(Provider, provider.id), name="Dr. New")

    after = load(store, provider)
    assert after.etag != before.etag and after.last_modified > before.last_modified
    assert "Dr. New (appointments)" in render(store, provider)


def test_last_modified_moves_when_a_booking_leaves_the_window(store, provider, booked):
    left_at = booked.end_at + feeds.PAST_WINDOW

    with clock.frozen(left_at + dt.timedelta(days=1)):
        feed = load(store, provider)

    assert feed.last_modified == left_at
    assert feed.events == []


@pytest.mark.parametrize("kind", ["full", "busy"])
def test_kinds_have_different_etags(store, provider, booked, kind):
    other = "busy" if kind == "full" else "full"

    assert load(store, provider, kind).etag != load(store, provider, other).etag


def test_feed_urls_keep_the_scheme_and_give_a_webcal_form():
    assert feeds.feed_urls("https://book.example.org/", "abc") == (
        "https://book.example.org/feeds/abc.ics",
        "webcal://book.example.org/feeds/abc.ics",
    )
    assert feeds.feed_urls("http://127.0.0.1:8000", "abc") == (
        "http://127.0.0.1:8000/feeds/abc.ics",
        "webcal://127.0.0.1:8000/feeds/abc.ics",
    )
