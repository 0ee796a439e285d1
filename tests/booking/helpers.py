"""Small helpers shared by the booking tests (times in a provider's zone, slot listings)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bridge import clock
from bridge.availability import Interval
from bridge.booking import bookings, services, slots
from bridge.booking.providers import get_provider
from bridge.store import Store
from bridge.store.models import BOOKING_CONFIRMED, Booking
from tests.conftest import ProviderRef

TUESDAY = dt.date(2026, 6, 2)  # the day after conftest.MONDAY: clear of the default notice
ADA = bookings.ClientDetails(name="Ada Lovelace", email="ada@example.org")
PROVIDER = bookings.Actor("provider", "owner")


def local(ref: ProviderRef, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """The UTC instant of a wall-clock time in the provider's zone."""
    zone = ZoneInfo(ref.time_zone)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).astimezone(dt.UTC)


def offered(store: Store, ref: ProviderRef, day: dt.date, service_id: int | None = None) -> list:
    """Local start times ("HH:MM") of the slots the booking page offers on ``day``."""
    zone = ZoneInfo(ref.time_zone)
    with store.read() as session:
        provider = get_provider(session, ref.slug)
        service = services.get_service(session, ref.id, service_id or ref.service_id)
        window = Interval(local(ref, day, 0), local(ref, day + dt.timedelta(days=1), 0))
        found = slots.find_slots(session, provider, service, window, clock.now())
    return [slot.start.astimezone(zone).strftime("%H:%M") for slot in found]


def book(store: Store, ref: ProviderRef, start: dt.datetime, **kwargs) -> bookings.NewBooking:
    kwargs.setdefault("source", "test")
    return bookings.book(store, ref.slug, ref.service_id, start, ADA, **kwargs)


def update_service(store: Store, ref: ProviderRef, **fields: int) -> None:
    with store.write() as session:
        services.update_service(session, ref.id, ref.service_id, services.ServiceSpec(**fields))


def confirmed_at(store: Store, ref: ProviderRef, start: dt.datetime) -> list[Booking]:
    with store.read() as session:
        return bookings.list_bookings(
            session,
            ref.id,
            start=start,
            end=start + dt.timedelta(microseconds=1),
            status=BOOKING_CONFIRMED,
        )
