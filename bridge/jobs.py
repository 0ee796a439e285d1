"""When the sync work runs: APScheduler as a timer, the database as the truth.

The scheduler decides only *when* to look for work; *what* is due, and who does it, comes from
the database through the sync engine (its leases keep two processes, or ``bridge serve`` and
``bridge sync run``, off one calendar or one outbox row). It uses APScheduler 3's in-memory job
store, never shared, and a thread pool; nothing is lost when a process dies, and a start rebuilds
everything from the database (a drain and a scan for due calendars run at once).

Work runs in *lanes*, one per key: ``pull:<calendar id>`` for each calendar, ``drain``, ``scan``,
``renew``, ``refresh`` and ``recurrences``. A lane runs as one APScheduler job with the lane's key
as its id (``max_instances=1``, ``coalesce=True``), so one calendar is never pulled twice at once
by this process. A wake of an idle lane submits the job at once; a wake while it is queued is
absorbed; a wake while it runs makes it run once more when it ends (a burst of push
notifications gives one or two pulls, never one per message, and never loses the last one).
The drain runs on a thread of its own, so a long import never delays a booking's event.

Timers only wake lanes:

================  =========================================  =================================
lane              what it does                               woken by
================  =========================================  =================================
``scan``          wakes ``pull:<id>`` for each due calendar  every :data:`SCAN_INTERVAL` s (or
                                                             ``sync_retry_interval`` if shorter)
``pull:<id>``     pulls one calendar                         ``scan``; push notifications and
                                                             the API of this process
``drain``         writes due outbox rows to the calendars    commits that wrote outbox rows
                                                             (:mod:`bridge.sync.signals`),
                                                             every ``sync_retry_interval`` s
``renew``         starts missing push channels, replaces     every ``push_renew_margin / 4`` s,
                  those close to expiry                      after every full pull, a new
                                                             connection
``refresh``       renews OAuth access ahead of expiry        every :data:`REFRESH_INTERVAL` s
``recurrences``   extends recurring busy time as days pass   daily
================  =========================================  =================================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bridge.errors import NotFound
from bridge.settings import Settings
from bridge.sync import signals

log = logging.getLogger(__name__)

SCAN_INTERVAL = 5.0
REFRESH_INTERVAL = 15 * 60.0
RECURRENCE_INTERVAL = 24 * 3600.0
RECURRENCE_FIRST_DELAY = 30.0
DRAIN_BATCH = 200
WORKERS = 4
HOOK_PATHS = {"google": "/hooks/google"}
_RESUBMIT_DELAY = 0.05
_WRITES = "writes"


class DrainOutcome(Protocol):
    """What the scheduler reads of a drain's result."""

    @property
    def attempted(self) -> int:
        """Outbox rows the drain claimed (written, failed or put off)."""


class PullOutcome(Protocol):
    """What the scheduler reads of a pull's result."""

    @property
    def full(self) -> bool:
        """Whether everything was pulled (a first pull, a resync, an expired cursor)."""


class SyncWork(Protocol):
    """The sync engine as the scheduler uses it (:class:`bridge.sync.engine.SyncEngine`)."""

    def due_calendars(self) -> list[int]:
        """Calendars whose pull is due (poll interval passed, push received, retry due)."""

    def pull_calendar(self, calendar_id: int, *, full: bool = False) -> PullOutcome | None:
        """Pull one calendar; ``None`` when another process holds its lease."""

    def drain_outbox(self, *, limit: int = DRAIN_BATCH) -> DrainOutcome:
        """Write up to ``limit`` due outbox rows."""

    def renew_channels(self, address: str) -> int:
        """Replace push channels that expire soon; how many were started."""

    def refresh_access(self) -> int:
        """Renew OAuth access that expires soon; how many connections were refreshed."""

    def extend_recurrences(self) -> int:
        """Expand recurring busy time up to the rolling horizon; how many series grew."""

    def interrupt(self) -> None:
        """Make running pulls stop after their current page."""


def hook_address(settings: Settings, kind: str = "google") -> str:
    """The webhook URL push notifications of ``kind`` go to (built from the public URL)."""
    return settings.effective_public_url + HOOK_PATHS[kind]


def quiet_apscheduler() -> None:
    """Keep APScheduler's per-run INFO lines ("Running job …") out of the log below DEBUG."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


@dataclasses.dataclass
class _Lane:
    work: Callable[[bool], object]
    queued: bool = False
    running: bool = False
    again: bool = False
    full: bool = False


class SyncScheduler:
    """The timers and lanes of one process (see the module docstring).

    Args:
        engine: the sync engine whose work is run.
        settings: intervals (``sync_retry_interval``, ``push_renew_margin``) and the public URL.
        workers: threads that run pulls and upkeep; pulls of different calendars run side by
            side. The outbox drain has one more thread of its own.
        scan_interval: seconds between scans for due calendars.
        subscribe: registers a callback for commits that wrote outbox rows and returns a
            function that unregisters it; by default :func:`bridge.sync.signals.subscribe`.
    """

    def __init__(
        self,
        engine: SyncWork,
        settings: Settings,
        *,
        workers: int = WORKERS,
        scan_interval: float | None = None,
        subscribe: Callable[[Callable[[], None]], Callable[[], None]] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.scan_interval = scan_interval or min(SCAN_INTERVAL, settings.sync_retry_interval)
        self.runs: Counter[str] = Counter()
        self._subscribe = subscribe
        self._unsubscribe: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._lanes: dict[str, _Lane] = {}
        self._accepting = False
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            # Writes have a thread of their own: a long import never delays a booking's event.
            executors={
                "default": ThreadPoolExecutor(max_workers=workers),
                _WRITES: ThreadPoolExecutor(max_workers=1),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=dt.UTC,
        )
        self._scheduler.add_listener(
            self._on_job_event,
            EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES,
        )

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the timers; a drain and a scan for due calendars run at once."""
        with self._lock:
            self._accepting = True
        now = dt.datetime.now(dt.UTC)
        timers = {
            "scan": self.scan_interval,
            "drain": self.settings.sync_retry_interval,
            "renew": self.renew_interval,
            "refresh": REFRESH_INTERVAL,
            "recurrences": RECURRENCE_INTERVAL,
        }
        for lane, seconds in timers.items():
            first = RECURRENCE_FIRST_DELAY if lane == "recurrences" else seconds
            self._scheduler.add_job(
                self._wake_named,
                trigger="interval",
                seconds=seconds,
                args=(lane,),
                id=f"every:{lane}",
                name=f"every {seconds:g} s: {lane}",
                next_run_time=now + dt.timedelta(seconds=first),
                replace_existing=True,
            )
        self._scheduler.start()
        subscribe = self._subscribe or signals.subscribe
        self._unsubscribe = subscribe(self._on_outbox_written)
        # Rebuild from the database: what was due or pending while no process ran goes now.
        for lane in ("drain", "scan", "renew"):
            self._wake_named(lane)
        log.info(
            "Sync scheduler started: scans every %g s, retries every %g s, push to %s",
            self.scan_interval,
            self.settings.sync_retry_interval,
            hook_address(self.settings),
        )

    def stop(self, *, wait: bool = True) -> None:
        """Stop: no new work starts; with ``wait``, the work running now finishes first.

        A pull in progress stops after the page it is applying (a long import would otherwise
        hold up a shutdown for minutes); the next pull takes it up again.
        """
        with self._lock:
            if not self._accepting:
                return
            self._accepting = False
        self.engine.interrupt()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._scheduler.shutdown(wait=wait)
        with self._lock:
            self._lanes.clear()
            self._idle.notify_all()
        log.info("Sync scheduler stopped")

    @property
    def running(self) -> bool:
        return self._accepting

    @property
    def renew_interval(self) -> float:
        return max(1.0, min(self.settings.push_renew_margin / 4, 900.0))

    # -- wakes --------------------------------------------------------------------------------

    def wake_pull(self, calendar_id: int, *, full: bool = False) -> bool:
        """Pull ``calendar_id`` now (or once more after the pull running now).

        Returns:
            False when the scheduler is not running (the wake is dropped).
        """
        return self._wake(
            f"pull:{calendar_id}", lambda full: self._pull(calendar_id, full), full=full
        )

    def wake_drain(self) -> bool:
        """Drain the outbox now (or once more after the drain running now)."""
        return self._wake("drain", lambda _full: self._drain())

    def wake_renew(self) -> bool:
        """Start missing push channels now (a calendar was connected or ticked).

        A calendar being pulled is leased, so its channel cannot start during the pull: every
        full pull (the first one of a calendar, a resync) is followed by a renewal too.
        """
        return self._wake("renew", lambda _full: self._renew())

    def _on_outbox_written(self) -> None:
        self.wake_drain()

    def wake_scan(self) -> bool:
        """Look for due calendars now."""
        return self._wake("scan", lambda _full: self._scan())

    def _wake_named(self, lane: str) -> None:
        works: dict[str, Callable[[bool], object]] = {
            "scan": lambda _full: self._scan(),
            "drain": lambda _full: self._drain(),
            "renew": lambda _full: self._renew(),
            "refresh": lambda _full: self.engine.refresh_access(),
            "recurrences": lambda _full: self.engine.extend_recurrences(),
        }
        self._wake(lane, works[lane])

    def _wake(self, key: str, work: Callable[[bool], object], *, full: bool = False) -> bool:
        with self._lock:
            if not self._accepting:
                return False
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane(work)
            lane.full = lane.full or full
            if lane.running:
                lane.again = True
                return True
            if lane.queued:
                return True
            lane.queued = True
        self._submit(key)
        return True

    def _submit(self, key: str, delay: float = 0.0) -> None:
        self._scheduler.add_job(
            self._run,
            trigger="date",
            run_date=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay),
            args=(key,),
            id=key,
            name=key,
            executor=_WRITES if key == "drain" else "default",
            replace_existing=True,
        )

    # -- running ------------------------------------------------------------------------------

    def _run(self, key: str) -> None:
        with self._lock:
            lane = self._lanes.get(key)
            if lane is None or not self._accepting:
                return
            lane.queued, lane.running = False, True
            full, lane.full = lane.full, False
        started = time.monotonic()
        try:
            lane.work(full)
        except Exception:
            log.exception("Sync work %s failed", key)
        else:
            log.debug("Sync work %s took %.3f s", key, time.monotonic() - started)

    def _on_job_event(self, event: JobEvent) -> None:
        # Runs after APScheduler released the job's instance, so a resubmission never meets
        # "maximum number of running instances reached".
        key = event.job_id
        resubmit: float | None = None
        with self._lock:
            lane = self._lanes.get(key)
            if lane is None:
                return
            if event.code == EVENT_JOB_MAX_INSTANCES:
                resubmit = _RESUBMIT_DELAY if self._accepting else None
            else:
                self.runs[key] += 1
                lane.running = False
                if lane.again and self._accepting:
                    lane.again, lane.queued = False, True
                    resubmit = 0.0
                elif not lane.queued:
                    del self._lanes[key]
            if not self._lanes:
                self._idle.notify_all()
        if resubmit is not None:
            self._submit(key, resubmit)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no lane is queued or running (for tests and ``bridge worker --once``).

        Returns:
            Whether it became idle within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._lanes:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    # -- the work of the named lanes ------------------------------------------------------------

    def _pull(self, calendar_id: int, full: bool) -> None:
        try:
            result = self.engine.pull_calendar(calendar_id, full=full)
        except NotFound:
            log.debug("Calendar %s is gone (disconnected); nothing to pull", calendar_id)
            return
        if result is None:
            log.debug("Calendar %s is being pulled by another process", calendar_id)
        elif result.full:
            # A new (or newly ticked) calendar: its channel could not start while it was
            # leased by the pull, and the next renewal may be far.
            self._renew()

    def _renew(self) -> None:
        self.engine.renew_channels(hook_address(self.settings))

    def _scan(self) -> None:
        due = self.engine.due_calendars()
        if due:
            log.debug("Calendars due for a pull: %s", due)
        for calendar_id in due:
            self.wake_pull(calendar_id)

    def _drain(self) -> None:
        while self.running:
            outcome = self.engine.drain_outbox(limit=DRAIN_BATCH)
            if outcome.attempted < DRAIN_BATCH:
                return
