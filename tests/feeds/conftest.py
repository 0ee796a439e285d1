"""Fixtures for the feed tests: a keyring, and a booking with every client detail filled in."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge import keys
from bridge.booking import bookings
from bridge.store import Store
from bridge.store.models import Booking
from tests.booking.helpers import TUESDAY, local
from tests.conftest import ProviderRef, new_provider

SECRET = "feed-test-key-" + "k" * 32
CLIENT = bookings.ClientDetails(
    name="Ada Lovelace",
    email="ada@example.org",
    phone="+49 30 1234567",
    notes="allergic to penicillin",
)
# Words of CLIENT and of the default service that a busy-only feed must never contain.
PRIVATE_WORDS = ("Ada", "Lovelace", "ada@example.org", "1234567", "penicillin", "Appointment")


@pytest.fixture
def keyring() -> keys.Keyring:
    return keys.Keyring([SECRET], source="test")


def book(store: Store, ref: ProviderRef, start: dt.datetime) -> Booking:
    """Book ``start`` for :data:`CLIENT` (the clock must allow it)."""
    return bookings.book(store, ref.slug, ref.service_id, start, CLIENT, source="test").booking


@pytest.fixture
def provider(store: Store, frozen_now: dt.datetime) -> ProviderRef:
    """A fresh provider created at the pinned "now", so its timestamps precede every change."""
    return new_provider(store)


@pytest.fixture
def booked(store: Store, provider: ProviderRef, frozen_now: dt.datetime) -> Booking:
    """Tuesday 09:00 in the provider's zone (Europe/Berlin)."""
    return book(store, provider, local(provider, TUESDAY, 9))
