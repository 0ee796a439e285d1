"""The mass-deletion breaker: many remote deletions at once wait for the provider."""

from __future__ import annotations

from sqlalchemy import select

from bridge.store import Store
from bridge.store.models import BOOKING_CANCELLED, BOOKING_CONFIRMED
from bridge.store.sync_models import NOTICE_MASS_DELETION, SyncNotice
from bridge.sync.engine import SyncEngine
from tests.sync.conftest import Linked
from tests.sync.helpers import (
    TUESDAY,
    book,
    calendar_row,
    get_booking,
    held,
    history_actors,
    local,
    mirror_of,
    notices,
)


def _written(store: Store, engine: SyncEngine, linked: Linked, count: int) -> list:
    booked = [book(store, linked.ref, local(linked.ref, TUESDAY, 9 + h)) for h in range(count)]
    engine.drain_outbox()
    return booked


def _delete_remotely(store: Store, linked: Linked, bookings: list) -> None:
    for booking in bookings:
        mirror = mirror_of(store, booking.id, linked.calendar_id)
        assert mirror is not None
        linked.system.delete_event("primary", mirror.remote_id)


def test_more_deletions_than_allowed_trip_the_breaker(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booked = _written(store, engine, linked, 8)
    _delete_remotely(store, linked, booked[:6])  # 6 > breaker_max_cancellations (5)

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and (result.cancelled, result.held) == (0, 6)
    assert all(get_booking(store, b.id).status == BOOKING_CONFIRMED for b in booked)
    assert calendar_row(store, linked.calendar_id).breaker_tripped_at is not None
    [notice] = notices(store, linked.ref, NOTICE_MASS_DELETION)
    assert "6 appointments" in notice.message
    assert len(held(store, linked)) == 6


def test_three_deletions_of_four_bookings_trip_the_share_rule(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booked = _written(store, engine, linked, 4)
    _delete_remotely(store, linked, booked[:3])  # 3 > 0.5 * 4 upcoming

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and (result.cancelled, result.held) == (0, 3)


def test_two_deletions_are_cancelled_at_once(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booked = _written(store, engine, linked, 3)
    _delete_remotely(store, linked, booked[:2])  # fewer than 3: never the share rule

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and (result.cancelled, result.held) == (2, 0)
    assert calendar_row(store, linked.calendar_id).breaker_tripped_at is None
    assert held(store, linked) == []


def test_deletions_while_tripped_join_the_held_ones(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booked = _written(store, engine, linked, 8)
    _delete_remotely(store, linked, booked[:6])
    engine.pull_calendar(linked.calendar_id)

    _delete_remotely(store, linked, booked[6:7])
    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and (result.cancelled, result.held) == (0, 7)
    assert get_booking(store, booked[6].id).status == BOOKING_CONFIRMED


def test_confirming_cancels_the_held_bookings(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booked = _written(store, engine, linked, 8)
    _delete_remotely(store, linked, booked[:6])
    engine.pull_calendar(linked.calendar_id)

    assert engine.resolve_breaker(linked.calendar_id, confirm=True) == 6

    assert [get_booking(store, b.id).status for b in booked] == [BOOKING_CANCELLED] * 6 + [
        BOOKING_CONFIRMED
    ] * 2
    assert history_actors(store, booked[0].id)[-1].startswith("breaker:Work: ")
    assert calendar_row(store, linked.calendar_id).breaker_tripped_at is None
    assert held(store, linked) == []
    with store.read() as session:
        notice = session.scalar(
            select(SyncNotice).where(
                SyncNotice.provider_id == linked.ref.id, SyncNotice.kind == NOTICE_MASS_DELETION
            )
        )
        assert notice is not None and notice.resolved_at is not None
    engine.drain_outbox()
    assert len(linked.system.writes("create")) == 8  # nothing written back


def test_rejecting_writes_the_events_again(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booked = _written(store, engine, linked, 8)
    _delete_remotely(store, linked, booked[:6])
    engine.pull_calendar(linked.calendar_id)

    assert engine.resolve_breaker(linked.calendar_id, confirm=False) == 6
    engine.drain_outbox()

    assert all(get_booking(store, b.id).status == BOOKING_CONFIRMED for b in booked)
    live = linked.system.live_marked()
    assert all(len(live[b.uid]) == 1 for b in booked)
    engine.pull_calendar(linked.calendar_id)  # the re-created events are our own echoes
    assert all(get_booking(store, b.id).version == 1 for b in booked)
    assert calendar_row(store, linked.calendar_id).breaker_tripped_at is None


def test_a_held_booking_changed_locally_is_no_longer_held(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    from tests.sync.helpers import reschedule

    booked = _written(store, engine, linked, 8)
    _delete_remotely(store, linked, booked[:6])
    engine.pull_calendar(linked.calendar_id)
    reschedule(store, linked.ref, booked[0].id, local(linked.ref, TUESDAY, 17))
    engine.drain_outbox()  # the booking system wins: its event is created again

    assert engine.resolve_breaker(linked.calendar_id, confirm=True) == 5
    assert get_booking(store, booked[0].id).status == BOOKING_CONFIRMED
    assert len(linked.system.live_marked()[booked[0].uid]) == 1
