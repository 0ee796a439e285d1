"""Conflict calendars the booking page cannot trust: broken, never synced or stale."""

from __future__ import annotations

import datetime as dt

from bridge import clock
from bridge.store import Store
from bridge.sync import connections
from bridge.sync.engine import SyncEngine
from bridge.sync.health import conflict_calendar_problems
from tests.sync.conftest import SETTINGS, Clock, Linked


def _problems(store: Store, linked: Linked) -> list[tuple[str, dt.datetime | None]]:
    with store.read() as session:
        found = conflict_calendar_problems(session, linked.ref.id, clock.now(), SETTINGS)
    assert all(p.account == "owner@example.org" and p.name == "Work" for p in found)
    return [(p.reason, p.since) for p in found]


def test_a_calendar_never_synced_is_a_problem(store: Store, linked: Linked) -> None:
    assert [reason for reason, _ in _problems(store, linked)] == ["never_synced"]


def test_a_fresh_calendar_is_fine_and_turns_stale(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock: Clock
) -> None:
    engine.pull_calendar(linked.calendar_id)
    synced = moving_clock.now
    assert _problems(store, linked) == []

    moving_clock.advance(seconds=SETTINGS.sync_stale_after + 1)

    assert _problems(store, linked) == [("stale", synced)]


def test_broken_connections_and_calendars_are_problems(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock: Clock
) -> None:
    engine.pull_calendar(linked.calendar_id)
    linked.system.delete_calendar("primary")
    engine.pull_calendar(linked.calendar_id)
    assert _problems(store, linked) == [("error", moving_clock.now)]

    with store.write() as session:
        connections.mark_needs_reauth(session, linked.connection_id, "revoked")
    assert _problems(store, linked) == [("needs_reauth", moving_clock.now)]


def test_calendars_not_checking_conflicts_are_never_a_problem(store: Store, linked: Linked) -> None:
    with store.write() as session:
        connections.set_calendar_options(
            session, linked.ref.id, linked.calendar_id, check_conflicts=False
        )
    assert _problems(store, linked) == []
