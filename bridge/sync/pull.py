"""Pulling one calendar: lease, pages, cursor, sweep, breaker, and what failures mean.

- **One at a time**: a pull holds a lease on the calendar row (renewed with every page);
  a second worker gets ``None`` instead of pulling the same calendar twice.
- **Pages**: each page is applied and committed in slices of
  :data:`CHANGES_PER_TRANSACTION` changes (:mod:`.inbound`), so bookings never wait long for
  the provider's lock; the new cursor is saved only after the last page, so a pull that breaks
  off (a failure, or the process shutting down) starts again from the old one (re-applying a
  page is harmless).
- **Full pulls** (no cursor, ``full=True``, or an expired cursor — restarted in the same call)
  bump ``sync_generation``; foreign events they do not see are swept at the end, and a live
  mirror they do not see is looked up with ``get_event`` before it counts as deleted.
- **Coalescing**: a pull clears ``pull_requested_at``; if it is set again while the pull runs,
  the pull runs once more before it returns.
- **Failures**: ``NeedsReauth`` pauses the connection; ``Transient`` counts a failure and sets
  ``retry_at`` with backoff; ``RemoteNotFound`` (the calendar is gone) and ``RemoteRejected``
  put the calendar in ``error`` (no endless retries: it leaves that state when reconnected
  or pulled successfully on request).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterator

from sqlalchemy import select

from bridge import clock
from bridge.connectors.base import Connector, PullPage
from bridge.connectors.base import RemoteEvent as Change
from bridge.connectors.errors import (
    ConnectorError,
    CursorExpired,
    NeedsReauth,
    RemoteNotFound,
    RemoteRejected,
    Transient,
)
from bridge.errors import NotFound
from bridge.store import Store
from bridge.store.models import Provider
from bridge.store.sync_models import (
    CALENDAR_ERROR,
    CALENDAR_OK,
    CONNECTION_NEEDS_REAUTH,
    CONNECTION_OK,
    ExternalCalendar,
    Mirror,
)
from bridge.sync import breaker, busytime, inbound, leases, mirrors
from bridge.sync.connections import CALENDAR_GONE, mark_needs_reauth
from bridge.sync.runtime import Runtime
from bridge.sync.scope import Scope

log = logging.getLogger(__name__)

PULL_LEASE = dt.timedelta(minutes=10)
MAX_ROUNDS = 3
CHANGES_PER_TRANSACTION = 50

Progress = Callable[[int], None]


@dataclasses.dataclass
class PullResult:
    """What a pull did. ``error`` says why it stopped early (the calendar's state has it too)."""

    calendar_id: int
    full: bool = False
    applied: int = 0
    skipped: int = 0
    busy_events: int = 0
    cancelled: int = 0
    rescheduled: int = 0
    held: int = 0
    error: str | None = None


class _LeaseLost(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class _Target:
    scope: Scope
    remote_id: str
    cursor: str | None
    connection_id: int


def _load(runtime: Runtime, calendar_id: int) -> tuple[_Target, Connector] | str:
    with runtime.store.read() as session:
        calendar = session.get(ExternalCalendar, calendar_id)
        if calendar is None:
            return "the calendar is gone"
        status = calendar.connection.status
        if status == CONNECTION_NEEDS_REAUTH:
            return "the connection needs re-authorisation"
        if status != CONNECTION_OK:
            return f"the connection is in {status} state"
        provider = session.get(Provider, calendar.provider_id)
        if provider is None:
            return "the provider is gone"
        target = _Target(
            Scope.of(calendar, provider.time_zone, runtime.settings, clock.now()),
            calendar.remote_id,
            calendar.cursor,
            calendar.connection_id,
        )
        try:
            connector = runtime.connector(calendar.connection)
        except NeedsReauth as exc:
            _reauth(runtime, target.connection_id, str(exc))
            return str(exc)
        return target, connector


def _reauth(runtime: Runtime, connection_id: int, reason: str) -> None:
    with runtime.store.write() as session:
        mark_needs_reauth(session, connection_id, reason)


def _parts(page: PullPage) -> Iterator[PullPage]:
    """``page`` in slices of :data:`CHANGES_PER_TRANSACTION` changes.

    Each slice is its own transaction: a long import holds the provider's lock (which bookings
    of that provider wait for) for a moment at a time, never for a whole page.
    """
    changes = list(page.changes)
    for offset in range(0, max(len(changes), 1), CHANGES_PER_TRANSACTION):
        skipped = page.skipped if offset == 0 else ()
        yield PullPage(changes[offset : offset + CHANGES_PER_TRANSACTION], skipped, None)


def _run(
    runtime: Runtime,
    connector: Connector,
    target: _Target,
    cursor: str | None,
    progress: Progress | None,
    result: PullResult,
) -> None:
    scope = target.scope
    generation: int | None = None
    if cursor is None:
        result.full = True
        with runtime.store.write() as session:
            calendar = session.get(ExternalCalendar, scope.calendar_id)
            if calendar is None:
                raise _LeaseLost("the calendar is gone")
            calendar.sync_generation += 1
            generation = calendar.sync_generation
    counts = inbound.Counts()
    new_cursor: str | None = None
    for page in connector.pull(target.remote_id, cursor):
        for part in _parts(page):
            with runtime.store.write() as session:
                # The provider first, as every writer of bookings and sync rows takes it first.
                Store.lock_provider(session, scope.provider_id)
                if not leases.renew(
                    session,
                    ExternalCalendar,
                    scope.calendar_id,
                    runtime.owner,
                    clock.now(),
                    PULL_LEASE,
                ):
                    raise _LeaseLost("the calendar's lease was lost")
                inbound.apply_page(session, scope, part, generation, runtime.policy, counts)
        if page.cursor is not None:
            new_cursor = page.cursor
        if progress is not None:
            progress(result.applied + counts.applied)
        if runtime.stopping.is_set():
            # The pages so far are applied; the cursor stays where it was, so the next pull
            # goes over them again, which changes nothing.
            raise _LeaseLost("stopped: the process is shutting down")
    missing: list[tuple[str, Change | None]] = []
    if generation is not None:
        with runtime.store.read() as session:
            live = session.scalars(
                select(Mirror.remote_id).where(
                    Mirror.calendar_id == scope.calendar_id, Mirror.remote_deleted.is_(False)
                )
            ).all()
        for remote_id in sorted(set(live) - counts.seen_mirrors):
            missing.append((remote_id, connector.get_event(target.remote_id, remote_id)))
    with runtime.store.write() as session:
        Store.lock_provider(session, scope.provider_id)
        for remote_id, event in missing:
            mirror = session.scalar(
                select(Mirror).where(
                    Mirror.calendar_id == scope.calendar_id, Mirror.remote_id == remote_id
                )
            )
            if mirror is None:
                continue
            if event is None:
                counts.mirror(mirrors.remote_deleted(session, scope, mirror, runtime.policy))
            else:
                counts.mirror(mirrors.remote_changed(session, scope, mirror, event, runtime.policy))
        if generation is not None:
            busytime.sweep(session, scope, generation)
        settled = breaker.settle(session, scope)
        calendar = session.get(ExternalCalendar, scope.calendar_id)
        if calendar is None:
            raise _LeaseLost("the calendar is gone")
        calendar.cursor = new_cursor
        calendar.last_synced_at = clock.now()
        calendar.status = CALENDAR_OK
        calendar.failures = 0
        calendar.last_error = None
        calendar.retry_at = None
    result.applied += counts.applied
    result.skipped += counts.skipped
    result.busy_events += counts.busy_events
    result.rescheduled += counts.rescheduled
    result.held += settled.held
    result.cancelled += settled.cancelled


def _failed(
    runtime: Runtime,
    calendar_id: int,
    message: str,
    *,
    error_state: bool,
    retry_after: float | None = None,
) -> None:
    now = clock.now()
    with runtime.store.write() as session:
        calendar = session.get(ExternalCalendar, calendar_id)
        if calendar is None:
            return
        calendar.failures += 1
        calendar.last_error = message
        calendar.last_error_at = now
        if error_state:
            calendar.status = CALENDAR_ERROR
            calendar.retry_at = None
        else:
            delay = leases.retry_delay(
                calendar.failures, runtime.settings, retry_after, runtime.rng
            )
            calendar.retry_at = now + dt.timedelta(seconds=delay)


def _pull_once(
    runtime: Runtime, calendar_id: int, full: bool, progress: Progress | None, result: PullResult
) -> str | None:
    loaded = _load(runtime, calendar_id)
    if isinstance(loaded, str):
        return loaded
    target, connector = loaded
    cursor = None if full else target.cursor
    try:
        try:
            _run(runtime, connector, target, cursor, progress, result)
        except CursorExpired:
            if cursor is None:
                raise Transient("the calendar refused a full pull") from None
            log.info(
                "Cursor of calendar %s (provider %s) expired; pulling everything again",
                calendar_id,
                target.scope.provider_id,
            )
            _run(runtime, connector, target, None, progress, result)
    except NeedsReauth as exc:
        _reauth(runtime, target.connection_id, str(exc))
        return str(exc)
    except RemoteNotFound:
        _failed(runtime, calendar_id, CALENDAR_GONE, error_state=True)
        return CALENDAR_GONE
    except RemoteRejected as exc:
        _failed(runtime, calendar_id, str(exc), error_state=True)
        return str(exc)
    except Transient as exc:
        _failed(runtime, calendar_id, str(exc), error_state=False, retry_after=exc.retry_after)
        return str(exc)
    except _LeaseLost as exc:
        return str(exc)
    except ConnectorError as exc:
        _failed(runtime, calendar_id, str(exc), error_state=False)
        return str(exc)
    except Exception as exc:  # a bug must not stop the scheduler; it retries with backoff
        log.exception("Pull of calendar %s failed", calendar_id)
        _failed(runtime, calendar_id, f"internal error: {exc!r}", error_state=False)
        return f"internal error: {exc!r}"
    finally:
        runtime.keep_credentials(target.connection_id, connector)
    return None


def _take_request(runtime: Runtime, calendar_id: int) -> bool:
    with runtime.store.write() as session:
        calendar = session.get(ExternalCalendar, calendar_id)
        if calendar is None or calendar.pull_requested_at is None:
            return False
        calendar.pull_requested_at = None
        return True


def pull_calendar(
    runtime: Runtime, calendar_id: int, *, full: bool = False, progress: Progress | None = None
) -> PullResult | None:
    """Pull one calendar (see the module docstring).

    Returns:
        What the pull did, or ``None`` when another worker holds the calendar's lease.

    Raises:
        NotFound: no such calendar.
    """
    now = clock.now()
    with runtime.store.write() as session:
        calendar = session.get(ExternalCalendar, calendar_id)
        if calendar is None:
            raise NotFound("calendar", calendar_id)
        if not leases.claim(session, ExternalCalendar, calendar_id, runtime.owner, now, PULL_LEASE):
            return None
        calendar.pull_requested_at = None
    result = PullResult(calendar_id)
    try:
        for _round in range(MAX_ROUNDS):
            result.error = _pull_once(runtime, calendar_id, full, progress, result)
            full = False
            if result.error is not None or not _take_request(runtime, calendar_id):
                break
    finally:
        with runtime.store.write() as session:
            leases.release(session, ExternalCalendar, calendar_id, runtime.owner)
    log.info(
        "Pulled calendar %s (%s): %s changes, %s skipped, %s busy events, %s rescheduled, "
        "%s cancelled, %s held%s",
        calendar_id,
        "full" if result.full else "incremental",
        result.applied,
        result.skipped,
        result.busy_events,
        result.rescheduled,
        result.cancelled,
        result.held,
        f"; stopped: {result.error}" if result.error else "",
    )
    return result
