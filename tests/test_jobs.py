"""The sync scheduler: lanes, coalesced wakes, timers and a clean stop, over a scripted engine."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bridge import jobs
from bridge.settings import Settings
from bridge.sync import signals
from tests.waiting import wait_until

TIMEOUT = 10.0


@dataclasses.dataclass
class Drained:
    attempted: int


@dataclasses.dataclass
class Pulled:
    full: bool


class ScriptedEngine:
    """Records calls; pulls of calendars in :attr:`gates` wait until their gate opens."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.due: list[int] = []
        self.pulls: list[tuple[int, bool]] = []
        self.running: dict[int, int] = {}
        self.max_parallel: dict[int, int] = {}
        self.gates: dict[int, threading.Event] = {}
        self.started: dict[int, threading.Event] = {}
        self.drain_batches: list[int] = []
        self.drains = 0
        self.renewed: list[str] = []
        self.fail_next_pull = False
        self.interrupted = threading.Event()

    def interrupt(self) -> None:
        self.interrupted.set()

    def due_calendars(self) -> list[int]:
        with self.lock:
            due, self.due = self.due, []
        return due

    def pull_calendar(self, calendar_id: int, *, full: bool = False) -> object | None:
        with self.lock:
            self.pulls.append((calendar_id, full))
            self.running[calendar_id] = self.running.get(calendar_id, 0) + 1
            self.max_parallel[calendar_id] = max(
                self.max_parallel.get(calendar_id, 0), self.running[calendar_id]
            )
            fail, self.fail_next_pull = self.fail_next_pull, False
        self.started.setdefault(calendar_id, threading.Event()).set()
        try:
            gate = self.gates.get(calendar_id)
            if gate is not None:
                assert gate.wait(TIMEOUT)
            if fail:
                raise RuntimeError("boom")
            return Pulled(full)
        finally:
            with self.lock:
                self.running[calendar_id] -= 1

    def drain_outbox(self, *, limit: int = 200) -> Drained:
        with self.lock:
            self.drains += 1
            attempted = self.drain_batches.pop(0) if self.drain_batches else 0
        return Drained(attempted)

    def renew_channels(self, address: str) -> int:
        self.renewed.append(address)
        return 0

    def refresh_access(self) -> int:
        return 0

    def extend_recurrences(self) -> int:
        return 0

    def pulls_of(self, calendar_id: int) -> int:
        with self.lock:
            return sum(1 for cid, _ in self.pulls if cid == calendar_id)


class Subscriptions:
    def __init__(self) -> None:
        self.callbacks: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def fire(self) -> None:
        for callback in list(self.callbacks):
            callback()


SETTINGS = Settings(public_url="https://book.example.org", sync_retry_interval=600.0)


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine()


@pytest.fixture
def subscriptions() -> Subscriptions:
    return Subscriptions()


@pytest.fixture
def scheduler(engine: ScriptedEngine, subscriptions: Subscriptions) -> Iterator[jobs.SyncScheduler]:
    the_scheduler = jobs.SyncScheduler(
        engine, SETTINGS, scan_interval=600.0, subscribe=subscriptions.subscribe
    )
    yield the_scheduler
    for gate in engine.gates.values():
        gate.set()
    the_scheduler.stop()


def started(scheduler: jobs.SyncScheduler, engine: ScriptedEngine) -> jobs.SyncScheduler:
    scheduler.start()
    assert scheduler.wait_idle(TIMEOUT)  # the start's own drain, scan and renewal
    return scheduler


def test_start_drains_scans_and_renews_at_once_and_pulls_what_is_due(scheduler, engine):
    engine.due = [7, 8]

    started(scheduler, engine)

    assert engine.drains == 1
    assert sorted(engine.pulls) == [(7, False), (8, False)]
    assert engine.renewed == ["https://book.example.org/hooks/google"]


def test_a_burst_of_wakes_during_a_pull_gives_exactly_one_more_pull(scheduler, engine, caplog):
    started(scheduler, engine)
    engine.gates[3] = threading.Event()
    scheduler.wake_pull(3)
    assert engine.started.setdefault(3, threading.Event()).wait(TIMEOUT)

    with caplog.at_level(logging.WARNING):
        for _ in range(25):
            scheduler.wake_pull(3)
        engine.gates[3].set()
        assert scheduler.wait_idle(TIMEOUT)

    assert engine.pulls_of(3) == 2
    assert engine.max_parallel[3] == 1
    assert "maximum number of running instances" not in caplog.text


def test_wakes_while_queued_are_absorbed(scheduler, engine):
    started(scheduler, engine)
    engine.gates[1] = threading.Event()
    for calendar_id in (1, 2, 3, 4):  # four workers: all busy
        engine.gates.setdefault(calendar_id, engine.gates[1])
        scheduler.wake_pull(calendar_id)
    wait_until(lambda: len(engine.running) == 4, TIMEOUT, "four pulls running")

    for _ in range(10):
        scheduler.wake_pull(5)  # queued behind the busy pool
    engine.gates[1].set()
    assert scheduler.wait_idle(TIMEOUT)

    assert engine.pulls_of(5) == 1


def test_calendars_are_pulled_side_by_side(scheduler, engine):
    started(scheduler, engine)
    gate = threading.Event()
    engine.gates.update({10: gate, 11: gate})

    scheduler.wake_pull(10)
    scheduler.wake_pull(11)

    wait_until(lambda: engine.running.get(10) == engine.running.get(11) == 1, TIMEOUT, "both")
    gate.set()
    assert scheduler.wait_idle(TIMEOUT)


def test_a_full_pull_asked_while_queued_or_running_is_not_lost(scheduler, engine):
    started(scheduler, engine)
    engine.gates[4] = threading.Event()
    scheduler.wake_pull(4)
    assert engine.started.setdefault(4, threading.Event()).wait(TIMEOUT)

    scheduler.wake_pull(4, full=True)
    engine.gates[4].set()
    assert scheduler.wait_idle(TIMEOUT)

    assert [p for p in engine.pulls if p[0] == 4] == [(4, False), (4, True)]


def test_a_commit_that_wrote_outbox_rows_wakes_a_drain(scheduler, engine, subscriptions):
    started(scheduler, engine)

    subscriptions.fire()

    assert scheduler.wait_idle(TIMEOUT)
    assert engine.drains == 2


def test_the_drain_goes_on_while_batches_are_full(scheduler, engine):
    engine.drain_batches = [jobs.DRAIN_BATCH, jobs.DRAIN_BATCH, 3]

    started(scheduler, engine)

    assert engine.drains == 3


def test_failing_work_is_logged_and_the_lane_keeps_working(scheduler, engine, caplog):
    started(scheduler, engine)
    engine.fail_next_pull = True

    with caplog.at_level(logging.ERROR, logger="bridge.jobs"):
        scheduler.wake_pull(9)
        assert scheduler.wait_idle(TIMEOUT)
    scheduler.wake_pull(9)
    assert scheduler.wait_idle(TIMEOUT)

    assert "Sync work pull:9 failed" in caplog.text
    assert engine.pulls_of(9) == 2


def test_stop_waits_for_running_work_and_drops_later_wakes(engine, subscriptions):
    scheduler = jobs.SyncScheduler(
        engine, SETTINGS, scan_interval=600.0, subscribe=subscriptions.subscribe
    )
    started(scheduler, engine)
    engine.gates[2] = threading.Event()
    scheduler.wake_pull(2)
    assert engine.started.setdefault(2, threading.Event()).wait(TIMEOUT)
    stopper = threading.Thread(target=scheduler.stop)
    stopper.start()
    wait_until(lambda: not scheduler.running, TIMEOUT, "the scheduler to refuse new work")
    wait_until(engine.interrupted.is_set, TIMEOUT, "running pulls to be told to stop")

    assert scheduler.wake_pull(2) is False
    assert stopper.is_alive()  # waiting for the pull
    engine.gates[2].set()
    stopper.join(TIMEOUT)

    assert not stopper.is_alive()
    assert engine.pulls_of(2) == 1
    assert subscriptions.callbacks == []  # unsubscribed


def test_a_real_commit_that_wrote_outbox_rows_wakes_the_drain(engine):
    scheduler = jobs.SyncScheduler(engine, SETTINGS, scan_interval=600.0)
    started(scheduler, engine)
    database = create_engine("sqlite://")
    try:
        with Session(database) as session, session.begin():
            signals.mark_outbox_written(session)
        assert scheduler.wait_idle(TIMEOUT)
        assert engine.drains == 2
    finally:
        scheduler.stop()
        database.dispose()

    with Session(database) as session, session.begin():
        signals.mark_outbox_written(session)
    assert engine.drains == 2  # unsubscribed


def test_the_scan_timer_finds_newly_due_calendars(engine, subscriptions):
    scheduler = jobs.SyncScheduler(
        engine, SETTINGS, scan_interval=0.05, subscribe=subscriptions.subscribe
    )
    started(scheduler, engine)
    try:
        engine.due = [21]
        wait_until(lambda: engine.pulls_of(21) == 1, TIMEOUT, "the scan to pull calendar 21")
    finally:
        scheduler.stop()


def test_a_full_pull_is_followed_by_a_renewal_of_push_channels(scheduler, engine):
    started(scheduler, engine)
    engine.renewed.clear()

    scheduler.wake_pull(6)
    assert scheduler.wait_idle(TIMEOUT)
    assert engine.renewed == []  # an incremental pull changes no channel

    scheduler.wake_pull(6, full=True)  # a first pull, a resync: channels may be missing
    assert scheduler.wait_idle(TIMEOUT)
    assert engine.renewed == ["https://book.example.org/hooks/google"]


def test_busy_pulls_never_hold_up_the_outbox(scheduler, engine, subscriptions):
    started(scheduler, engine)
    gate = threading.Event()
    for calendar_id in (31, 32, 33, 34, 35):  # more slow pulls than workers
        engine.gates[calendar_id] = gate
        scheduler.wake_pull(calendar_id)
    wait_until(lambda: sum(engine.running.values()) == 4, TIMEOUT, "every worker pulling")

    subscriptions.fire()

    wait_until(lambda: engine.drains == 2, TIMEOUT, "the drain, beside the busy pulls")
    gate.set()
    assert scheduler.wait_idle(TIMEOUT)
