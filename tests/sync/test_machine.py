"""A state-machine test of the whole engine (style.md item 12).

Random local changes (book, move, cancel), random remote changes (move or resize our events,
delete a few, retitle them, copy them as other tools do, add foreign events) and flaky
writes (failures, lost answers) interleave with syncs. After every sync:

- every confirmed future booking has exactly one live event in the destination, at its time;
- a cancelled booking has none;
- our own events (and copies of them) never count as busy time, foreign ones always do;
- nothing is left in the outbox.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from bridge import clock
from bridge.booking import bookings
from bridge.connectors.errors import RateLimited, Transient
from bridge.errors import InvalidStateChange, SlotUnavailable
from bridge.keys import Keyring
from bridge.store import Store
from bridge.store.models import BOOKING_CONFIRMED, Booking
from bridge.sync.engine import SyncEngine
from tests.conftest import MONDAY
from tests.fakes.memory_calendar import MemoryCalendarSystem
from tests.sync.conftest import SETTINGS, Clock, Linker
from tests.sync.helpers import ADA, PROVIDER, busy, local, outbox_rows

MACHINE_SETTINGS = dataclasses.replace(SETTINGS, sync_retry_interval=5.0, sync_max_backoff=30.0)
THURSDAY = dt.date(2026, 6, 4)
SLOTS = [(THURSDAY + dt.timedelta(days=day), hour) for day in (0, 1) for hour in range(9, 17)]
slot = st.integers(0, len(SLOTS) - 1)
pick = st.integers(0, 1000)


def test_random_edits_on_both_sides_always_converge(store: Store, keyring: Keyring) -> None:
    class SyncMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = Clock(MONDAY)
            self.previous_source = clock._source
            clock._source = lambda: self.clock.now
            self.linker = Linker(store, keyring)
            self.system = MemoryCalendarSystem()
            self.system.add_calendar("primary", "Work")
            self.linked = self.linker.link(self.system)
            self.ref = self.linked.ref
            self.engine = SyncEngine(
                store, MACHINE_SETTINGS, keyring, connector_factory=self.linker.factory
            )
            self.synced = False
            self.deletions = 0
            self.foreign: set[str] = set()

        def teardown(self) -> None:
            clock._source = self.previous_source
            self.linker.cleanup()

        def _start(self, index: int, minutes: int = 0) -> dt.datetime:
            day, hour = SLOTS[index]
            return local(self.ref, day, hour) + dt.timedelta(minutes=minutes)

        def _bookings(self) -> list[Booking]:
            with store.read() as session:
                return list(
                    session.scalars(
                        select(Booking)
                        .where(Booking.provider_id == self.ref.id)
                        .order_by(Booking.id)
                    )
                )

        def _ours(self) -> list[str]:
            """Live events we wrote, in booking order (remote ids derive from random UIDs)."""
            order = {b.uid: b.id for b in self._bookings()}
            marked = [e for e in self.system.live() if e.marker]
            return [e.remote_id for e in sorted(marked, key=lambda e: order[e.marker or ""])]

        # -- the booking side ----------------------------------------------------------------

        @rule(index=slot)
        def book(self, index: int) -> None:
            self.synced = False
            try:
                bookings.book(
                    store,
                    self.ref.slug,
                    self.ref.service_id,
                    self._start(index),
                    ADA,
                    source="test",
                )
            except SlotUnavailable:
                pass

        @precondition(lambda self: self._bookings())
        @rule(which=pick, index=slot)
        def move_locally(self, which: int, index: int) -> None:
            self.synced = False
            found = self._bookings()
            try:
                bookings.reschedule(
                    store,
                    self.ref.slug,
                    found[which % len(found)].id,
                    self._start(index, 30),
                    actor=PROVIDER,
                )
            except (SlotUnavailable, InvalidStateChange):
                pass

        @precondition(lambda self: self._bookings())
        @rule(which=pick)
        def cancel_locally(self, which: int) -> None:
            self.synced = False
            found = self._bookings()
            bookings.cancel(store, self.ref.slug, found[which % len(found)].id, actor=PROVIDER)

        # -- the remote side -----------------------------------------------------------------

        @precondition(lambda self: self._ours())
        @rule(which=pick, index=slot, longer=st.booleans())
        def move_remotely(self, which: int, index: int, longer: bool) -> None:
            self.synced = False
            ours = self._ours()
            start = self._start(index)
            length = dt.timedelta(minutes=60 if longer else 30)
            self.system.move_event("primary", ours[which % len(ours)], start, start + length)

        @precondition(lambda self: self._ours() and self.deletions < 2)
        @rule(which=pick)
        def delete_remotely(self, which: int) -> None:
            self.synced = False
            self.deletions += 1
            ours = self._ours()
            self.system.delete_event("primary", ours[which % len(ours)])

        @precondition(lambda self: self._ours())
        @rule(which=pick)
        def retitle_remotely(self, which: int) -> None:
            self.synced = False
            ours = self._ours()
            self.system.edit_event("primary", ours[which % len(ours)], summary="renamed")

        @precondition(lambda self: self._ours())
        @rule(which=pick)
        def copy_remotely(self, which: int) -> None:
            self.synced = False
            event = self.system.event("primary", self._ours()[which % len(self._ours())])
            self.system.add_event("primary", event.start, event.end, ident=event.marker)

        @rule(index=slot)
        def add_foreign_event(self, index: int) -> None:
            self.synced = False
            start = self._start(index, 15)
            self.foreign.add(
                self.system.add_event("primary", start, start + dt.timedelta(minutes=20))
            )

        @rule(
            operation=st.sampled_from(["create", "update", "delete", "pull"]),
            lost=st.booleans(),
            limited=st.booleans(),
        )
        def flaky_remote(self, operation: str, lost: bool, limited: bool) -> None:
            self.synced = False
            error = RateLimited("slow down", retry_after=20) if limited else Transient("dropped")
            self.system.fail(operation, error, after=lost and operation != "pull")

        # -- syncing -------------------------------------------------------------------------

        @rule()
        def sync(self) -> None:
            """Drain and pull until nothing changes any more (a ping-pong would never end)."""
            for _ in range(10):
                self.clock.advance(seconds=MACHINE_SETTINGS.sync_max_backoff + 1)
                self.engine.drain_outbox()
                result = self.engine.pull_calendar(self.linked.calendar_id)
                assert result is not None
                if (
                    result.applied == 0
                    and result.error is None
                    and not outbox_rows(store, self.linked)
                ):
                    break
            self.synced = True
            self.deletions = 0

        @invariant()
        def both_sides_agree(self) -> None:
            if not self.synced:
                return
            live = self.system.live_marked()
            for booking in self._bookings():
                events = live.get(booking.uid, [])
                if booking.status == BOOKING_CONFIRMED and booking.start_at > self.clock.now:
                    assert len(events) == 1, f"booking {booking.id}: {len(events)} events"
                    assert (events[0].start, events[0].end) == (booking.start_at, booking.end_at)
                elif booking.status != BOOKING_CONFIRMED:
                    assert events == [], f"cancelled booking {booking.id} still has an event"

        @invariant()
        def only_foreign_events_are_busy(self) -> None:
            if not self.synced:
                return
            ours = {e.remote_id for e in self.system.live() if e.marker}
            uids = {b.uid for b in self._bookings()}
            copies = {e.remote_id for e in self.system.live() if e.ident in uids}
            busy_ids = {remote_id for _, _, remote_id in busy(store, self.ref)}
            assert not busy_ids & (ours | copies)
            assert busy_ids == self.foreign

        @invariant()
        def nothing_is_left_to_write(self) -> None:
            if self.synced:
                assert outbox_rows(store, self.linked) == []

    run_state_machine_as_test(
        SyncMachine,
        settings=hypothesis_settings(max_examples=50, stateful_step_count=35, deadline=None),
    )
