"""Helpers of the sync engine's tests: booking, syncing and looking at both sides."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bridge.booking import bookings
from bridge.booking.providers import get_provider
from bridge.store import Store
from bridge.store.models import Booking, BookingChange, BusyInterval
from bridge.store.sync_models import (
    ExternalCalendar,
    HeldCancellation,
    Mirror,
    OutboxItem,
    RemoteEvent,
    SyncNotice,
)
from bridge.sync.engine import SyncEngine
from tests.booking.helpers import ADA, PROVIDER, TUESDAY, local
from tests.conftest import ProviderRef
from tests.sync.conftest import Linked

__all__ = ["ADA", "PROVIDER", "TUESDAY", "local"]


def book(store: Store, ref: ProviderRef, start: dt.datetime) -> Booking:
    return bookings.book(store, ref.slug, ref.service_id, start, ADA, source="test").booking


def reschedule(store: Store, ref: ProviderRef, booking_id: int, start: dt.datetime) -> Booking:
    return bookings.reschedule(store, ref.slug, booking_id, start, actor=PROVIDER)


def cancel(store: Store, ref: ProviderRef, booking_id: int) -> Booking:
    return bookings.cancel(store, ref.slug, booking_id, actor=PROVIDER)


def get_booking(store: Store, booking_id: int) -> Booking:
    with store.read() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        return booking


def sync(engine: SyncEngine, linked: Linked, *, rounds: int = 3) -> None:
    """Drain and pull until both sides settle (bounded)."""
    for _ in range(rounds):
        engine.drain_outbox()
        engine.pull_calendar(linked.calendar_id)
    engine.drain_outbox()


def outbox_rows(store: Store, linked: Linked) -> list[OutboxItem]:
    with store.read() as session:
        return list(
            session.scalars(
                select(OutboxItem)
                .where(OutboxItem.calendar_id == linked.calendar_id)
                .order_by(OutboxItem.id)
            )
        )


def mirror_of(store: Store, booking_id: int, calendar_id: int) -> Mirror | None:
    with store.read() as session:
        return session.scalar(
            select(Mirror).where(Mirror.booking_id == booking_id, Mirror.calendar_id == calendar_id)
        )


def busy(store: Store, ref: ProviderRef) -> list[tuple[dt.datetime, dt.datetime, str]]:
    with store.read() as session:
        rows = session.execute(
            select(BusyInterval.start_at, BusyInterval.end_at, BusyInterval.remote_id)
            .where(BusyInterval.provider_id == ref.id)
            .order_by(BusyInterval.start_at, BusyInterval.id)
        ).all()
    return [(start, end, remote_id) for start, end, remote_id in rows]


def busy_of(
    store: Store, ref: ProviderRef, remote_id: str
) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(s, e) for s, e, r in busy(store, ref) if r == remote_id]


def merged_busy(
    store: Store, ref: ProviderRef, remote_id: str
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Busy time of one remote event with its day-long pieces joined again."""
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in busy_of(store, ref, remote_id):
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def remote_events(store: Store, linked: Linked) -> list[RemoteEvent]:
    with store.read() as session:
        return list(
            session.scalars(
                select(RemoteEvent)
                .where(RemoteEvent.calendar_id == linked.calendar_id)
                .order_by(RemoteEvent.id)
            )
        )


def notices(store: Store, ref: ProviderRef, kind: str | None = None) -> list[SyncNotice]:
    with store.read() as session:
        query = select(SyncNotice).where(SyncNotice.provider_id == ref.id)
        if kind is not None:
            query = query.where(SyncNotice.kind == kind)
        return list(session.scalars(query.order_by(SyncNotice.id)))


def calendar_row(store: Store, calendar_id: int) -> ExternalCalendar:
    with store.read() as session:
        calendar = session.get(ExternalCalendar, calendar_id)
        assert calendar is not None
        return calendar


def held(store: Store, linked: Linked) -> list[HeldCancellation]:
    with store.read() as session:
        return list(
            session.scalars(
                select(HeldCancellation).where(HeldCancellation.calendar_id == linked.calendar_id)
            )
        )


def history_actors(store: Store, booking_id: int) -> list[str]:
    with store.read() as session:
        return list(
            session.scalars(
                select(BookingChange.actor)
                .where(BookingChange.booking_id == booking_id)
                .order_by(BookingChange.id)
            )
        )


def provider_row(store: Store, ref: ProviderRef):  # noqa: ANN201 - a Provider row
    with store.read() as session:
        return get_provider(session, ref.slug)
