"""Request dependencies of the sync routes: the keyring, the sync engine, the scheduler.

``create_app`` may be given a running :class:`~bridge.jobs.SyncScheduler` (``bridge serve``
without ``--no-scheduler``); its engine is then the app's. Without one (web-only processes next to
``bridge worker``, tests) the engine is built on first use, and wakes are left to the database:
a pull asked for (``request_pull``) is found by the next scan of whichever process schedules.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated

from fastapi import Depends, Request

from bridge import keys
from bridge.jobs import SyncScheduler
from bridge.sync.engine import SyncEngine
from bridge.web.deps import keyring_or_503

log = logging.getLogger(__name__)

_build_lock = threading.Lock()


def app_keyring(request: Request) -> keys.Keyring:
    return keyring_or_503(request, "calendar connections are")


KeyringDep = Annotated[keys.Keyring, Depends(app_keyring)]


def sync_engine(request: Request, keyring: KeyringDep) -> SyncEngine:
    """The app's sync engine (the scheduler's, when one runs in this process)."""
    state = request.app.state
    engine = getattr(state, "sync_engine", None)
    if isinstance(engine, SyncEngine):
        return engine
    with _build_lock:
        engine = getattr(state, "sync_engine", None)
        if not isinstance(engine, SyncEngine):
            engine = SyncEngine(state.store, state.settings, keyring)
            state.sync_engine = engine
    return engine


EngineDep = Annotated[SyncEngine, Depends(sync_engine)]


def scheduler_of(request: Request) -> SyncScheduler | None:
    """The scheduler running in this process, if any."""
    scheduler = getattr(request.app.state, "scheduler", None)
    if isinstance(scheduler, SyncScheduler) and scheduler.running:
        return scheduler
    return None


SchedulerDep = Annotated[SyncScheduler | None, Depends(scheduler_of)]


def ask_for_pull(engine: SyncEngine, scheduler: SyncScheduler | None, calendar_id: int) -> None:
    """Record that ``calendar_id`` should be pulled, and wake this process's pull of it."""
    engine.request_pull(calendar_id)
    if scheduler is not None:
        scheduler.wake_pull(calendar_id)


def newly_watched(scheduler: SyncScheduler | None) -> None:
    """Calendars were connected or ticked: start their push channels now.

    Without a scheduler in this process, the next renewal of whichever process schedules
    starts them.
    """
    if scheduler is not None:
        scheduler.wake_renew()
