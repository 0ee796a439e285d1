"""Both sides changed between two syncs: the booking system wins (bridge.sync.policy)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from bridge.store import Store
from bridge.store.models import BOOKING_CANCELLED, BOOKING_CONFIRMED
from bridge.store.sync_models import NOTICE_CONFLICT
from bridge.sync.engine import SyncEngine
from bridge.sync.policy import Decision, Local, Outcome, Remote, booking_wins
from tests.sync.conftest import Linked
from tests.sync.helpers import (
    TUESDAY,
    book,
    cancel,
    get_booking,
    held,
    local,
    mirror_of,
    notices,
    reschedule,
)

HALF_HOUR = dt.timedelta(minutes=30)


@pytest.mark.parametrize(
    ("local_side", "remote_side", "expected"),
    [
        (Local.UNCHANGED, Remote.UNCHANGED, Decision(Outcome.NOTHING, False)),
        (Local.UNCHANGED, Remote.EDITED, Decision(Outcome.NOTHING, False)),
        (Local.UNCHANGED, Remote.MOVED, Decision(Outcome.ACCEPT_REMOTE, False)),
        (Local.UNCHANGED, Remote.DELETED, Decision(Outcome.ACCEPT_REMOTE, False)),
        (Local.CHANGED, Remote.UNCHANGED, Decision(Outcome.KEEP_LOCAL, False)),
        (Local.CHANGED, Remote.EDITED, Decision(Outcome.KEEP_LOCAL, False)),
        (Local.CHANGED, Remote.MOVED, Decision(Outcome.KEEP_LOCAL, True)),
        (Local.CHANGED, Remote.DELETED, Decision(Outcome.KEEP_LOCAL, True)),
        (Local.CANCELLED, Remote.UNCHANGED, Decision(Outcome.KEEP_LOCAL, False)),
        (Local.CANCELLED, Remote.EDITED, Decision(Outcome.KEEP_LOCAL, False)),
        (Local.CANCELLED, Remote.MOVED, Decision(Outcome.KEEP_LOCAL, True)),
        (Local.CANCELLED, Remote.DELETED, Decision(Outcome.NOTHING, False)),
    ],
)
def test_the_booking_wins_rule(local_side: Local, remote_side: Remote, expected: Decision) -> None:
    assert booking_wins(local_side, remote_side) == expected


def test_the_rule_covers_every_combination() -> None:
    for local_side, remote_side in itertools.product(Local, Remote):
        assert isinstance(booking_wins(local_side, remote_side), Decision)


def _written(store: Store, engine: SyncEngine, linked: Linked):
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.drain_outbox()
    mirror = mirror_of(store, booking.id, linked.calendar_id)
    assert mirror is not None
    return booking, mirror


def test_local_move_and_remote_move_seen_by_a_pull_first(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    here = reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 14))
    there = local(linked.ref, TUESDAY, 16)
    linked.system.move_event("primary", mirror.remote_id, there, there + HALF_HOUR)

    engine.pull_calendar(linked.calendar_id)
    engine.drain_outbox()

    assert get_booking(store, booking.id).start_at == here.start_at
    event = linked.system.event("primary", mirror.remote_id)
    assert (event.start, event.end) == (here.start_at, here.end_at)
    [notice] = notices(store, linked.ref, NOTICE_CONFLICT)
    assert notice.booking_id == booking.id and "kept" in notice.message


def test_local_move_and_remote_move_met_by_a_precondition_failure(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    here = reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 14))
    there = local(linked.ref, TUESDAY, 16)
    linked.system.move_event("primary", mirror.remote_id, there, there + HALF_HOUR)

    result = engine.drain_outbox()  # the update's etag is stale: 412, fetch, decide, retry

    assert result.written == 1
    event = linked.system.event("primary", mirror.remote_id)
    assert (event.start, event.end) == (here.start_at, here.end_at)
    [notice] = notices(store, linked.ref, NOTICE_CONFLICT)
    assert notice.booking_id == booking.id
    engine.pull_calendar(linked.calendar_id)  # our write's echo: the booking stays
    assert get_booking(store, booking.id).start_at == here.start_at
    assert len(notices(store, linked.ref, NOTICE_CONFLICT)) == 1


def test_local_move_and_remote_title_edit_is_no_conflict(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    here = reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 14))
    linked.system.edit_event("primary", mirror.remote_id, summary="renamed")

    engine.drain_outbox()

    event = linked.system.event("primary", mirror.remote_id)
    assert event.start == here.start_at
    assert notices(store, linked.ref, NOTICE_CONFLICT) == []


def test_local_move_and_remote_delete_seen_by_a_pull_first_recreates_the_event(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    here = reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 14))
    linked.system.delete_event("primary", mirror.remote_id)

    result = engine.pull_calendar(linked.calendar_id)
    engine.drain_outbox()

    assert result is not None and (result.cancelled, result.held) == (0, 0)
    assert get_booking(store, booking.id).status == BOOKING_CONFIRMED
    [event] = linked.system.live_marked()[booking.uid]
    assert (event.remote_id, event.start) == (mirror.remote_id, here.start_at)
    assert len(notices(store, linked.ref, NOTICE_CONFLICT)) == 1


def test_local_move_and_remote_delete_met_by_the_update_recreates_the_event(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    here = reschedule(store, linked.ref, booking.id, local(linked.ref, TUESDAY, 14))
    linked.system.delete_event("primary", mirror.remote_id)

    engine.drain_outbox()

    [event] = linked.system.live_marked()[booking.uid]
    assert (event.remote_id, event.start) == (mirror.remote_id, here.start_at)
    assert len(notices(store, linked.ref, NOTICE_CONFLICT)) == 1
    engine.pull_calendar(linked.calendar_id)
    assert get_booking(store, booking.id).status == BOOKING_CONFIRMED


def test_local_cancel_and_remote_move_deletes_the_event(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    cancel(store, linked.ref, booking.id)
    there = local(linked.ref, TUESDAY, 16)
    linked.system.move_event("primary", mirror.remote_id, there, there + HALF_HOUR)

    engine.drain_outbox()  # delete with a stale etag: 412, fetch, decide, delete

    assert booking.uid not in linked.system.live_marked()
    assert len(notices(store, linked.ref, NOTICE_CONFLICT)) == 1
    engine.pull_calendar(linked.calendar_id)
    assert get_booking(store, booking.id).status == BOOKING_CANCELLED


def test_local_cancel_and_remote_move_seen_by_a_pull_first_deletes_the_event(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    cancel(store, linked.ref, booking.id)
    there = local(linked.ref, TUESDAY, 16)
    linked.system.move_event("primary", mirror.remote_id, there, there + HALF_HOUR)

    engine.pull_calendar(linked.calendar_id)
    engine.drain_outbox()

    assert get_booking(store, booking.id).status == BOOKING_CANCELLED
    assert booking.uid not in linked.system.live_marked()
    assert len(notices(store, linked.ref, NOTICE_CONFLICT)) == 1


def test_local_cancel_and_remote_delete_agree(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    cancel(store, linked.ref, booking.id)
    linked.system.delete_event("primary", mirror.remote_id)

    result = engine.pull_calendar(linked.calendar_id)
    engine.drain_outbox()

    assert result is not None and (result.cancelled, result.held) == (0, 0)
    assert held(store, linked) == []
    assert notices(store, linked.ref, NOTICE_CONFLICT) == []
    assert [c[0] for c in linked.system.writes()] == ["create"]
    assert booking.uid not in linked.system.live_marked()
