"""The outbox: rows written with booking changes, drained with leases, retried with backoff."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select

from bridge.connectors.errors import NeedsReauth, RateLimited, RemoteRejected, Transient
from bridge.errors import SlotUnavailable
from bridge.store import Store
from bridge.store.sync_models import (
    CALENDAR_ERROR,
    CONNECTION_NEEDS_REAUTH,
    NOTICE_WRITE_FAILED,
    Connection,
    OutboxItem,
)
from bridge.sync import leases, signals
from bridge.sync.connections import CALENDAR_GONE
from bridge.sync.engine import SyncEngine
from tests.fakes.memory_calendar import booking_event_id
from tests.sync.conftest import SETTINGS, Clock, Linked, Linker
from tests.sync.helpers import (
    TUESDAY,
    book,
    calendar_row,
    cancel,
    get_booking,
    local,
    mirror_of,
    notices,
    outbox_rows,
    reschedule,
)


def test_a_booking_change_commits_one_row_per_destination(store: Store, linked: Linked) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))

    rows = outbox_rows(store, linked)

    assert [(r.booking_id, r.booking_version) for r in rows] == [(booking.id, 1)]


def test_providers_without_calendars_get_no_rows(store: Store, provider, frozen_now) -> None:
    booking = book(store, provider, local(provider, TUESDAY, 10))

    with store.read() as session:
        assert (
            session.scalars(select(OutboxItem).where(OutboxItem.booking_id == booking.id)).all()
            == []
        )


def test_a_booking_is_written_once(store: Store, engine: SyncEngine, linked: Linked) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))

    result = engine.drain_outbox()

    assert (result.written, result.failed, result.deferred, result.attempted) == (1, 0, 0, 1)
    [event] = linked.system.live_marked()[booking.uid]
    assert (event.start, event.end) == (booking.start_at, booking.end_at)
    mirror = mirror_of(store, booking.id, linked.calendar_id)
    assert mirror is not None
    assert (mirror.remote_id, mirror.remote_etag, mirror.booking_version) == (
        event.remote_id,
        event.etag,
        1,
    )
    assert (mirror.remote_start, mirror.remote_end) == (booking.start_at, booking.end_at)
    assert outbox_rows(store, linked) == []
    assert engine.drain_outbox().attempted == 0


def test_the_event_names_service_and_client_and_never_invites(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))

    engine.drain_outbox()

    [event] = linked.system.live_marked()[booking.uid]
    assert event.summary == "Appointment: Ada Lovelace"
    assert "ada@example.org" in event.description
    manage = f"https://bridge.example/api/v1/providers/{linked.ref.slug}/bookings/{booking.id}"
    assert manage in event.description
    assert event.time_zone == "Europe/Berlin"
    assert event.marker == booking.uid


def test_a_reschedule_updates_the_event(store: Store, engine: SyncEngine, linked: Linked) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.drain_outbox()

    moved = reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 14))
    engine.drain_outbox()

    [event] = linked.system.live_marked()[booking.uid]
    assert (event.start, event.end) == (moved.start_at, moved.end_at)
    assert [c[0] for c in linked.system.writes()] == ["create", "update"]
    mirror = mirror_of(store, booking.id, linked.calendar_id)
    assert mirror is not None and mirror.booking_version == 2


def test_a_cancellation_deletes_the_event(store: Store, engine: SyncEngine, linked: Linked) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.drain_outbox()

    cancel(store, linked.ref, booking.id)
    engine.drain_outbox()

    assert booking.uid not in linked.system.live_marked()
    mirror = mirror_of(store, booking.id, linked.calendar_id)
    assert mirror is not None and mirror.remote_deleted
    assert outbox_rows(store, linked) == []


def test_changes_before_a_drain_coalesce_into_one_write(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 11))
    final = reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 12))

    [row] = outbox_rows(store, linked)
    assert row.booking_version == 3
    engine.drain_outbox()

    assert [c[0] for c in linked.system.writes()] == ["create"]
    [event] = linked.system.live_marked()[booking.uid]
    assert event.start == final.start_at


def test_a_cancelled_booking_never_written_needs_no_write(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    cancel(store, linked.ref, booking.id)

    assert engine.drain_outbox().written == 1
    assert linked.system.writes() == []
    assert outbox_rows(store, linked) == []


def test_a_change_during_the_write_keeps_the_row(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))

    def move_meanwhile(operation: str) -> None:
        if operation == "create":
            linked.system.on_call = None
            reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 15))

    linked.system.on_call = move_meanwhile
    engine.drain_outbox()

    [row] = outbox_rows(store, linked)
    assert row.booking_version == 2 and row.lease_owner is None
    mirror = mirror_of(store, booking.id, linked.calendar_id)
    assert mirror is not None and mirror.booking_version == 1
    engine.drain_outbox()
    [event] = linked.system.live_marked()[booking.uid]
    assert event.start == local(linked.ref, TUESDAY, 15)
    assert outbox_rows(store, linked) == []


def test_a_lost_answer_is_retried_and_leaves_exactly_one_event(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock: Clock
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    linked.system.fail("create", Transient("connection reset"), after=True)

    result = engine.drain_outbox()

    assert (result.written, result.deferred) == (0, 1)
    [row] = outbox_rows(store, linked)
    assert row.attempts == 1 and row.last_error == "connection reset"
    assert moving_clock.now <= row.next_attempt_at <= moving_clock.now + dt.timedelta(seconds=20)
    moving_clock.advance(seconds=21)
    assert engine.drain_outbox().written == 1
    assert len(linked.system.live_marked()[booking.uid]) == 1
    assert len(linked.system.live()) == 1
    assert [c[0] for c in linked.system.writes()] == ["create", "create"]


def test_rate_limits_wait_for_the_servers_retry_after(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock: Clock
) -> None:
    book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    linked.system.fail("create", RateLimited("slow down", retry_after=120))

    engine.drain_outbox()

    [row] = outbox_rows(store, linked)
    assert row.next_attempt_at == moving_clock.now + dt.timedelta(seconds=120)
    moving_clock.advance(seconds=119)
    assert engine.drain_outbox().attempted == 0
    moving_clock.advance(seconds=1)
    assert engine.drain_outbox().written == 1


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    rng = random.Random(7)
    for attempts in range(1, 12):
        ceiling = min(SETTINGS.sync_max_backoff, SETTINGS.sync_retry_interval * 2**attempts)
        delays = [leases.retry_delay(attempts, SETTINGS, rng=rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # jitter spreads over the whole range
    assert leases.retry_delay(1, SETTINGS, retry_after=999, rng=rng) == 999
    assert leases.retry_delay(30, SETTINGS, rng=rng) <= SETTINGS.sync_max_backoff


def test_needs_reauth_pauses_the_connections_rows(
    store: Store, engine: SyncEngine, linked: Linked, linker: Linker
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    linked.system.fail("create", NeedsReauth("token revoked"))

    engine.drain_outbox()

    with store.read() as session:
        connection = session.get(Connection, linked.connection_id)
        assert connection is not None
        assert (connection.status, connection.status_reason) == (
            CONNECTION_NEEDS_REAUTH,
            "token revoked",
        )
    [row] = outbox_rows(store, linked)
    assert row.attempts == 0 and row.failed_at is None
    assert engine.drain_outbox().attempted == 0
    assert linked.calendar_id not in engine.due_calendars()

    linker.link(linked.system, linked.ref)  # the provider connects the account again
    assert engine.drain_outbox().written == 1
    assert len(linked.system.live_marked()[booking.uid]) == 1


def test_a_refused_write_fails_the_row_with_a_notice(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    linked.system.fail("create", RemoteRejected("quota exceeded"))

    result = engine.drain_outbox()

    assert (result.written, result.failed) == (0, 1)
    [row] = outbox_rows(store, linked)
    assert row.failed_at is not None and row.last_error == "quota exceeded"
    [notice] = notices(store, linked.ref, NOTICE_WRITE_FAILED)
    assert notice.booking_id == booking.id and "quota exceeded" in notice.message
    assert engine.drain_outbox().attempted == 0
    reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 11))  # a new change
    assert engine.drain_outbox().written == 1


def test_a_deleted_calendar_stops_the_writes_with_a_clear_error(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    linked.system.delete_calendar("primary")

    engine.drain_outbox()

    calendar = calendar_row(store, linked.calendar_id)
    assert (calendar.status, calendar.last_error) == (CALENDAR_ERROR, CALENDAR_GONE)
    assert len(outbox_rows(store, linked)) == 1
    assert engine.drain_outbox().attempted == 0


def test_a_row_leased_by_a_dead_worker_is_written_after_the_lease_ends(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock: Clock
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    [row] = outbox_rows(store, linked)
    with store.write() as session:
        assert leases.claim(
            session, OutboxItem, row.id, "dead-worker", moving_clock.now, dt.timedelta(minutes=5)
        )

    assert engine.drain_outbox().attempted == 0
    moving_clock.advance(minutes=5, seconds=1)
    assert engine.drain_outbox().written == 1

    assert len(linked.system.live_marked()[booking.uid]) == 1
    assert outbox_rows(store, linked) == []


def test_two_workers_never_write_one_row_twice(
    store: Store, engine: SyncEngine, linked: Linked, linker: Linker, keyring
) -> None:
    book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    other = SyncEngine(store, SETTINGS, keyring, connector_factory=linker.factory, owner="worker-b")

    def other_drains(operation: str) -> None:
        if operation == "create":
            linked.system.on_call = None
            assert other.drain_outbox().attempted == 0  # the row is leased by worker-a

    linked.system.on_call = other_drains
    assert engine.drain_outbox().written == 1
    assert len(linked.system.writes("create")) == 1


def test_a_commit_with_rows_wakes_the_dispatcher(store: Store, linked: Linked) -> None:
    woken = signals.outbox_written()
    calls: list[int] = []
    unsubscribe = signals.subscribe(lambda: calls.append(1))
    try:
        woken.clear()
        book(store, linked.ref, local(linked.ref, TUESDAY, 10))
        assert woken.is_set() and calls == [1]

        woken.clear()
        with pytest.raises(SlotUnavailable):
            book(store, linked.ref, local(linked.ref, TUESDAY, 10))
        assert not woken.is_set() and calls == [1]
    finally:
        unsubscribe()
    book(store, linked.ref, local(linked.ref, TUESDAY, 11))
    assert calls == [1]


def test_a_rolled_back_transaction_does_not_wake_the_dispatcher(
    store: Store, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    woken = signals.outbox_written()
    woken.clear()
    with pytest.raises(RuntimeError), store.write() as session:
        from bridge.sync import outbox

        outbox.enqueue(session, booking.id, linked.calendar_id, 1)
        raise RuntimeError("abort")
    assert not woken.is_set()
    assert get_booking(store, booking.id).version == 1
    assert booking_event_id(booking.uid).startswith("bk")
