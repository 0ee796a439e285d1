"""The bookings and busy collections follow bookings and imported busy time, in one transaction."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from sqlalchemy import select

from bridge.availability import Interval
from bridge.booking import bookings, busy
from bridge.dav import items, projection
from bridge.store.models import DAV_BOOKINGS, DAV_BUSY, DavItem
from tests.booking.helpers import ADA, PROVIDER, TUESDAY, book, local


def collection(store, provider, kind):
    with store.read() as session:
        return projection.provider_collections(session, provider.id)[kind]


def item_texts(store, provider, kind) -> dict[str, str]:
    with store.read() as session:
        found = projection.provider_collections(session, provider.id)[kind]
        rows = session.scalars(select(DavItem).where(DavItem.collection_id == found.id))
        return {row.href: row.text for row in rows}


def test_a_new_provider_has_empty_bookings_and_busy_calendars(store, provider):
    assert item_texts(store, provider, DAV_BOOKINGS) == {}
    assert item_texts(store, provider, DAV_BUSY) == {}
    assert collection(store, provider, DAV_BOOKINGS).props["D:displayname"] == "Bookings"


@pytest.mark.usefixtures("frozen_now")
def test_a_booking_appears_moves_and_disappears_with_its_sequence(store, provider):
    start_revision = collection(store, provider, DAV_BOOKINGS).revision
    new = book(store, provider, local(provider, TUESDAY, 10))
    (text,) = item_texts(store, provider, DAV_BOOKINGS).values()
    (event,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert (str(event["uid"]), event["sequence"]) == (new.booking.uid, 0)
    assert ADA.name in str(event["summary"])

    bookings.reschedule(
        store, provider.slug, new.booking.id, local(provider, TUESDAY, 15), actor=PROVIDER
    )
    (moved,) = item_texts(store, provider, DAV_BOOKINGS).values()
    (event,) = icalendar.Calendar.from_ical(moved).walk("VEVENT")
    assert (str(event["uid"]), event["sequence"]) == (new.booking.uid, 1)
    assert event["dtstart"].dt == local(provider, TUESDAY, 15)

    bookings.cancel(store, provider.slug, new.booking.id, actor=PROVIDER)
    assert item_texts(store, provider, DAV_BOOKINGS) == {}
    with store.read() as session:
        found = projection.provider_collections(session, provider.id)[DAV_BOOKINGS]
        assert found.revision == start_revision + 3
        assert items.changed_since(session, found, start_revision) == [
            projection.booking_href(new.booking)
        ]


@pytest.mark.usefixtures("frozen_now")
def test_a_clients_overlay_survives_a_reschedule(store, provider):
    new = book(store, provider, local(provider, TUESDAY, 10))
    overlay = "BEGIN:VEVENT\r\nCATEGORIES:Work\r\nEND:VEVENT\r\n"
    with store.write() as session:
        projection.project_booking(session, new.booking, overlay=overlay, keep_overlay=False)
    bookings.reschedule(
        store, provider.slug, new.booking.id, local(provider, TUESDAY, 11), actor=PROVIDER
    )
    (text,) = item_texts(store, provider, DAV_BOOKINGS).values()
    assert "CATEGORIES:Work" in text


def test_imported_busy_time_shows_as_anonymous_busy_events(store, provider):
    start = dt.datetime(2026, 6, 2, 8, tzinfo=dt.UTC)
    with store.write() as session:
        busy.replace_remote_busy(
            session,
            provider.id,
            "google:x",
            "ev1",
            [Interval(start, start + dt.timedelta(hours=1))],
        )
    (text,) = item_texts(store, provider, DAV_BUSY).values()
    (event,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["summary"]) == "Busy"
    assert "DESCRIPTION" not in event
    with store.write() as session:
        busy.replace_remote_busy(session, provider.id, "google:x", "ev1", [])
    assert item_texts(store, provider, DAV_BUSY) == {}
