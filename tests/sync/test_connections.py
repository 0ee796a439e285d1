"""Connecting, choosing calendars, disconnecting: each transition of a connection."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bridge.connectors.errors import NeedsReauth
from bridge.errors import NotFound, ValidationFailed
from bridge.keys import Keyring
from bridge.store import Store
from bridge.store.sync_models import (
    CALENDAR_ERROR,
    CONNECTION_NEEDS_REAUTH,
    CONNECTION_OK,
    Connection,
    ExternalCalendar,
)
from bridge.sync import connections
from bridge.sync.engine import SyncEngine
from tests.conftest import new_provider
from tests.fakes.memory_calendar import MemoryCalendarSystem
from tests.sync.conftest import Linked, Linker
from tests.sync.helpers import (
    TUESDAY,
    book,
    busy,
    calendar_row,
    local,
    outbox_rows,
    reschedule,
)


def _calendars(store: Store, connection_id: int) -> dict[str, ExternalCalendar]:
    with store.read() as session:
        rows = session.scalars(
            select(ExternalCalendar).where(ExternalCalendar.connection_id == connection_id)
        )
        return {c.remote_id: c for c in rows}


@pytest.fixture
def two_calendars(system: MemoryCalendarSystem) -> MemoryCalendarSystem:
    system.add_calendar("private", "Private", primary=False)
    system.add_calendar("team", "Team", primary=False, writable=False)
    return system


def test_connecting_makes_the_primary_calendar_destination_and_conflict_calendar(
    store: Store, linker: Linker, two_calendars: MemoryCalendarSystem, moving_clock
) -> None:
    linked = linker.link(two_calendars)

    calendars = _calendars(store, linked.connection_id)
    assert {k: (c.is_destination, c.check_conflicts) for k, c in calendars.items()} == {
        "primary": (True, True),
        "private": (False, False),
        "team": (False, False),
    }
    assert not calendars["team"].writable


def test_connecting_queues_the_future_bookings(
    store: Store, engine: SyncEngine, linker: Linker, system: MemoryCalendarSystem, moving_clock
) -> None:
    ref = new_provider(store)
    booking = book(store, ref, local(ref, TUESDAY, 10))

    linked = linker.link(system, ref)
    engine.drain_outbox()

    assert len(linked.system.live_marked()[booking.uid]) == 1


def test_a_second_account_does_not_take_over_the_destination(
    store: Store, linker: Linker, linked: Linked
) -> None:
    personal = MemoryCalendarSystem("personal@example.org")
    personal.add_calendar("primary", "Personal")

    second = linker.link(personal, linked.ref)

    assert second.connection_id != linked.connection_id
    assert not calendar_row(store, second.calendar_id).is_destination
    assert calendar_row(store, linked.calendar_id).is_destination


def test_reconnecting_the_same_account_reuses_the_connection(
    store: Store, keyring: Keyring, linker: Linker, linked: Linked
) -> None:
    with store.write() as session:
        connections.mark_needs_reauth(session, linked.connection_id, "token revoked")

    again = linker.link(linked.system, linked.ref)

    assert again.connection_id == linked.connection_id
    with store.read() as session:
        connection = session.get(Connection, linked.connection_id)
        assert connection is not None
        assert (connection.status, connection.status_reason) == (CONNECTION_OK, None)
        assert connections.decrypt_credentials(keyring, connection) == "memory-credentials"


def test_a_calendar_the_account_no_longer_lists_is_marked_gone(
    store: Store, linker: Linker, two_calendars: MemoryCalendarSystem, moving_clock
) -> None:
    linked = linker.link(two_calendars)
    two_calendars.delete_calendar("private")

    linker.link(two_calendars, linked.ref)

    private = _calendars(store, linked.connection_id)["private"]
    assert (private.status, private.last_error) == (CALENDAR_ERROR, connections.CALENDAR_GONE)


def test_unticking_check_conflicts_purges_busy_time_at_once(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    linked.system.add_event(
        "primary", local(linked.ref, TUESDAY, 13), local(linked.ref, TUESDAY, 14)
    )
    engine.pull_calendar(linked.calendar_id)
    assert busy(store, linked.ref)

    with store.write() as session:
        connections.set_calendar_options(
            session, linked.ref.id, linked.calendar_id, check_conflicts=False
        )

    assert busy(store, linked.ref) == []
    with store.write() as session:
        connections.set_calendar_options(
            session, linked.ref.id, linked.calendar_id, check_conflicts=True
        )
    calendar = calendar_row(store, linked.calendar_id)
    assert calendar.cursor is None and calendar.pull_requested_at is not None
    engine.pull_calendar(linked.calendar_id)
    assert busy(store, linked.ref)


def test_changing_the_destination_moves_future_bookings(
    store: Store,
    engine: SyncEngine,
    linker: Linker,
    two_calendars: MemoryCalendarSystem,
    moving_clock,
) -> None:
    linked = linker.link(two_calendars)
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.drain_outbox()
    private = _calendars(store, linked.connection_id)["private"]

    with store.write() as session:
        connections.set_calendar_options(session, linked.ref.id, private.id, is_destination=True)
    engine.drain_outbox()

    assert booking.uid not in two_calendars.live_marked("primary")
    assert len(two_calendars.live_marked("private")[booking.uid]) == 1
    assert not calendar_row(store, linked.calendar_id).is_destination
    moved = reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 15))
    engine.drain_outbox()
    assert two_calendars.live_marked("private")[booking.uid][0].start == moved.start_at
    assert booking.uid not in two_calendars.live_marked("primary")


def test_a_read_only_calendar_cannot_be_the_destination(
    store: Store, linker: Linker, two_calendars: MemoryCalendarSystem, moving_clock
) -> None:
    linked = linker.link(two_calendars)
    team = _calendars(store, linked.connection_id)["team"]

    with pytest.raises(ValidationFailed), store.write() as session:
        connections.set_calendar_options(session, linked.ref.id, team.id, is_destination=True)


def test_another_providers_calendar_is_not_found(store: Store, linked: Linked) -> None:
    stranger = new_provider(store)

    with pytest.raises(NotFound), store.write() as session:
        connections.set_calendar_options(
            session, stranger.id, linked.calendar_id, is_destination=True
        )


def test_disconnecting_forgets_busy_time_and_rows_but_keeps_the_events(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.drain_outbox()
    linked.system.add_event(
        "primary", local(linked.ref, TUESDAY, 13), local(linked.ref, TUESDAY, 14)
    )
    engine.pull_calendar(linked.calendar_id)

    assert engine.disconnect(linked.ref.id, linked.connection_id, remove_events=False) == 0

    assert busy(store, linked.ref) == []
    with store.read() as session:
        assert session.get(Connection, linked.connection_id) is None
    assert len(linked.system.live_marked()[booking.uid]) == 1
    assert outbox_rows(store, linked) == []


def test_disconnecting_with_remove_events_deletes_our_future_events(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.drain_outbox()
    foreign = linked.system.add_event(
        "primary", local(linked.ref, TUESDAY, 13), local(linked.ref, TUESDAY, 14)
    )

    assert engine.disconnect(linked.ref.id, linked.connection_id, remove_events=True) == 1

    assert booking.uid not in linked.system.live_marked()
    assert [e.remote_id for e in linked.system.live()] == [foreign]


def test_the_session_function_refuses_to_remove_events(store: Store, linked: Linked) -> None:
    with pytest.raises(ValueError, match="SyncEngine.disconnect"), store.write() as session:
        connections.disconnect(session, linked.ref.id, linked.connection_id, remove_events=True)


def test_credentials_under_a_replaced_key_need_reauthorisation(
    store: Store, linked: Linked
) -> None:
    other = Keyring(["a-completely-different-secret-key-0123456789"], source="test")
    with store.read() as session:
        connection = session.get(Connection, linked.connection_id)
        assert connection is not None
        with pytest.raises(NeedsReauth, match="secret key"):
            connections.decrypt_credentials(other, connection)


def test_an_undecryptable_connection_pauses_instead_of_crashing(
    store: Store, linker: Linker, linked: Linked
) -> None:
    from tests.sync.conftest import SETTINGS

    wrong = Keyring(["a-completely-different-secret-key-0123456789"], source="test")
    engine = SyncEngine(store, SETTINGS, wrong)  # the default factory decrypts

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and "secret key" in (result.error or "")
    with store.read() as session:
        connection = session.get(Connection, linked.connection_id)
        assert connection is not None and connection.status == CONNECTION_NEEDS_REAUTH


def test_sync_status_reports_every_calendar(
    store: Store,
    engine: SyncEngine,
    linker: Linker,
    two_calendars: MemoryCalendarSystem,
    moving_clock,
) -> None:
    linked = linker.link(two_calendars)
    book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.pull_calendar(linked.calendar_id)

    with store.read() as session:
        statuses = {s.calendar_name: s for s in connections.sync_status(session, linked.ref.id)}

    work = statuses["Work"]
    assert (work.state, work.kind, work.account) == ("ok", "memory", "owner@example.org")
    assert (work.is_destination, work.check_conflicts) == (True, True)
    assert (work.pending_writes, work.failed_writes, work.held_cancellations) == (1, 0, 0)
    assert work.last_synced_at is not None
    assert set(statuses) == {"Work", "Private", "Team"}


def test_a_former_destination_hears_about_a_cancellation_of_a_past_booking(
    store: Store,
    engine: SyncEngine,
    linker: Linker,
    two_calendars: MemoryCalendarSystem,
    moving_clock,
) -> None:
    from tests.sync.helpers import cancel

    linked = linker.link(two_calendars)
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.drain_outbox()
    moving_clock.advance(days=2)  # the appointment is over: its event stays where it is
    private = _calendars(store, linked.connection_id)["private"]
    with store.write() as session:
        connections.set_calendar_options(session, linked.ref.id, private.id, is_destination=True)
    engine.drain_outbox()
    assert len(two_calendars.live_marked("primary")[booking.uid]) == 1

    cancel(store, linked.ref, booking.id)
    engine.drain_outbox()

    assert booking.uid not in two_calendars.live_marked("primary")
    assert booking.uid not in two_calendars.live_marked("private")


def test_disconnecting_stops_the_push_channels(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    assert engine.renew_channels("https://bridge.example/hooks/memory") == 1

    engine.disconnect(linked.ref.id, linked.connection_id, remove_events=False)

    assert linked.system.channels == {}


def test_a_pull_of_a_paused_connection_says_why(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    with store.write() as session:
        connections.mark_needs_reauth(session, linked.connection_id, "revoked")

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.error == "the connection needs re-authorisation"
    assert linked.system.writes() == []
