"""Draining the outbox: plan, then execute, then commit the new mirror state.

Each due row is claimed with a lease, so several workers drain side by side and a worker
that dies only delays its rows until the lease ends. For one row:

1. **plan** (a read transaction): the booking, its mirror and the calendar's role go through
   :func:`.plan.plan`, which yields Create, Update, Delete or Nothing;
2. **execute** (no transaction open, no lock held): the connector call. A ``412`` on update or
   delete fetches the event and asks :mod:`.policy`; a vanished event is created again
   (idempotently);
3. **commit** (one write transaction under the provider's lock): the mirror's new remote id,
   etag, times and booking version, and the row — deleted only if no newer change of the
   booking was queued meanwhile (``booking_version`` unchanged), released otherwise.

Failures are per row: ``Transient`` retries with backoff (never before ``retry_after``),
``NeedsReauth`` pauses the whole connection, ``RemoteRejected`` fails the row with a
``write_failed`` notice, ``RemoteNotFound`` on create marks the calendar gone (its rows wait).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bridge import clock
from bridge.connectors.base import Connector
from bridge.connectors.errors import NeedsReauth
from bridge.store import Store
from bridge.store.models import BOOKING_CONFIRMED, Booking, Provider
from bridge.store.sync_models import (
    CALENDAR_ERROR,
    CALENDAR_OK,
    CONNECTION_OK,
    NOTICE_CONFLICT,
    NOTICE_WRITE_FAILED,
    Connection,
    ExternalCalendar,
    Mirror,
    OutboxItem,
)
from bridge.sync import leases
from bridge.sync.connections import CALENDAR_GONE, mark_needs_reauth
from bridge.sync.execute import Done, Failed, Job, execute
from bridge.sync.notices import add_notice
from bridge.sync.outbound import outbound_event
from bridge.sync.plan import (
    BookingView,
    CalendarView,
    Create,
    MirrorView,
    Nothing,
    Update,
    plan,
)
from bridge.sync.runtime import Runtime

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DrainResult:
    """What a drain did with the rows it claimed."""

    written: int  # rows done: written, deleted, or nothing left to do
    failed: int  # rows the remote side refused for good
    deferred: int  # rows that wait: retry later, re-authorisation, calendar gone

    @property
    def attempted(self) -> int:
        """Rows the drain claimed and handled (written, failed or put off)."""
        return self.written + self.failed + self.deferred


def lease_length(runtime: Runtime) -> dt.timedelta:
    """How long a row stays claimed: long enough for a create, a 412 and a retry."""
    return dt.timedelta(seconds=max(60.0, 4 * runtime.settings.connector_timeout))


def claim_due(runtime: Runtime, now: dt.datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` due, unleased rows of usable connections, oldest first.

    Each claim is a transaction of its own, so a drainer never holds more than one row lock
    at a time (a booking change updating several rows of one booking could otherwise
    deadlock with it on PostgreSQL).
    """
    with runtime.store.read() as session:
        candidates = session.scalars(
            select(OutboxItem.id)
            .join(ExternalCalendar, ExternalCalendar.id == OutboxItem.calendar_id)
            .join(Connection, Connection.id == ExternalCalendar.connection_id)
            .where(
                OutboxItem.next_attempt_at <= now,
                OutboxItem.failed_at.is_(None),
                or_(OutboxItem.lease_until.is_(None), OutboxItem.lease_until < now),
                Connection.status == CONNECTION_OK,
                ExternalCalendar.status == CALENDAR_OK,
            )
            .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
            .limit(limit)
        ).all()
    length = lease_length(runtime)
    claimed = []
    for item_id in candidates:
        with runtime.store.write() as session:
            if leases.claim(session, OutboxItem, item_id, runtime.owner, now, length):
                claimed.append(item_id)
    return claimed


def read_job(runtime: Runtime, item_id: int, now: dt.datetime) -> Job | None:
    """The plan phase for one claimed row; ``None`` if the row is gone or not ours."""
    with runtime.store.read() as session:
        item = session.get(OutboxItem, item_id)
        if item is None or item.lease_owner != runtime.owner:
            return None
        booking = session.get(Booking, item.booking_id)
        calendar = session.get(ExternalCalendar, item.calendar_id)
        provider = session.get(Provider, booking.provider_id) if booking else None
        if booking is None or calendar is None or provider is None:
            return None
        mirror = session.scalar(
            select(Mirror).where(Mirror.booking_id == booking.id, Mirror.calendar_id == calendar.id)
        )
        action = plan(
            BookingView(
                booking.id, booking.version, booking.status == BOOKING_CONFIRMED, booking.end_at
            ),
            MirrorView(
                mirror.remote_id,
                mirror.remote_etag,
                mirror.booking_version,
                not mirror.remote_deleted,
            )
            if mirror is not None
            else None,
            CalendarView(calendar.is_destination),
            now,
        )
        event = None
        if isinstance(action, Create | Update):
            event = outbound_event(booking, provider, runtime.base_url)
        return Job(
            item_id=item.id,
            booking_id=booking.id,
            calendar_id=calendar.id,
            connection_id=calendar.connection_id,
            provider_id=provider.id,
            claimed_version=item.booking_version,
            booking_version=booking.version,
            calendar=calendar.remote_id,
            client_name=booking.client_name,
            action=action,
            event=event,
            mirror_times=(mirror.remote_start, mirror.remote_end) if mirror else (None, None),
        )


def _store_mirror(session: Session, job: Job, done: Done) -> None:
    mirror = session.scalar(
        select(Mirror).where(
            Mirror.booking_id == job.booking_id, Mirror.calendar_id == job.calendar_id
        )
    )
    if done.written is not None:
        if mirror is None:
            mirror = Mirror(booking_id=job.booking_id, calendar_id=job.calendar_id)
            session.add(mirror)
        mirror.remote_id = done.written.remote_id
        mirror.remote_etag = done.written.etag
        mirror.remote_start = done.written.start.astimezone(dt.UTC)
        mirror.remote_end = done.written.end.astimezone(dt.UTC)
        mirror.remote_deleted = False
        mirror.booking_version = job.booking_version
    elif done.deleted and mirror is not None:
        mirror.remote_deleted = True
        mirror.remote_etag = None
        mirror.booking_version = job.booking_version


def commit(runtime: Runtime, job: Job, outcome: Done | Failed) -> None:
    """The commit phase: the new mirror state and the row's fate, in one transaction."""
    now = clock.now()
    with runtime.store.write() as session:
        Store.lock_provider(session, job.provider_id)
        item = session.get(OutboxItem, job.item_id)
        calendar = session.get(ExternalCalendar, job.calendar_id)
        if calendar is None:
            return  # the connection was removed meanwhile
        if isinstance(outcome, Done):
            _store_mirror(session, job, outcome)
            if outcome.conflict:
                add_notice(
                    session,
                    job.provider_id,
                    NOTICE_CONFLICT,
                    outcome.conflict,
                    calendar_id=job.calendar_id,
                    booking_id=job.booking_id,
                )
            if item is not None and item.booking_version == job.claimed_version:
                session.delete(item)
            elif item is not None:
                leases.release(session, OutboxItem, item.id, runtime.owner)
            return
        if item is None:
            return
        item.last_error = outcome.message
        if outcome.kind == "retry":
            item.attempts += 1
            delay = leases.retry_delay(
                item.attempts, runtime.settings, outcome.retry_after, runtime.rng
            )
            item.next_attempt_at = now + dt.timedelta(seconds=delay)
        elif outcome.kind == "reauth":
            mark_needs_reauth(session, job.connection_id, outcome.message)
        elif outcome.kind == "gone":
            calendar.status = CALENDAR_ERROR
            calendar.last_error = CALENDAR_GONE
            calendar.last_error_at = now
        elif outcome.kind == "rejected":
            item.failed_at = now
            add_notice(
                session,
                job.provider_id,
                NOTICE_WRITE_FAILED,
                f"The appointment of {job.client_name} could not be written to "
                f"{calendar.name}: {outcome.message}",
                calendar_id=job.calendar_id,
                booking_id=job.booking_id,
            )
        else:  # defer: let a pull see the remote change first
            calendar.pull_requested_at = now
            item.next_attempt_at = now + dt.timedelta(seconds=runtime.settings.sync_retry_interval)
        session.flush()
        leases.release(session, OutboxItem, item.id, runtime.owner)


def _log(job: Job, outcome: Done | Failed) -> None:
    action = type(job.action).__name__.lower()
    if isinstance(outcome, Done):
        remote_id = (
            outcome.written.remote_id if outcome.written else getattr(job.action, "remote_id", "-")
        )
        if not isinstance(job.action, Nothing):
            log.info(
                "Outbox: %s of booking %s in calendar %s (provider %s): done, remote id %s",
                action,
                job.booking_id,
                job.calendar_id,
                job.provider_id,
                remote_id,
            )
        return
    log.info(
        "Outbox: %s of booking %s in calendar %s (provider %s): %s (%s)",
        action,
        job.booking_id,
        job.calendar_id,
        job.provider_id,
        outcome.kind,
        outcome.message,
    )


def drain(runtime: Runtime, limit: int) -> DrainResult:
    """Write every due, unleased row (up to ``limit``), oldest first."""
    now = clock.now()
    claimed = claim_due(runtime, now, limit)
    connectors: dict[int, Connector] = {}
    paused: set[int] = set()
    written = failed = deferred = 0
    for item_id in claimed:
        job = read_job(runtime, item_id, now)
        if job is None:
            continue
        outcome: Done | Failed
        if job.connection_id in paused:
            outcome = Failed("reauth", "the connection needs re-authorisation")
        elif isinstance(job.action, Nothing):
            outcome = Done()
        else:
            try:
                connector = connectors.get(job.connection_id) or _build(runtime, job.connection_id)
            except NeedsReauth as exc:
                outcome = Failed("reauth", str(exc))
            else:
                connectors[job.connection_id] = connector
                outcome = execute(runtime, connector, job)
        if isinstance(outcome, Failed) and outcome.kind == "reauth":
            paused.add(job.connection_id)
        commit(runtime, job, outcome)
        _log(job, outcome)
        if isinstance(outcome, Done):
            written += 1
        elif outcome.kind == "rejected":
            failed += 1
        else:
            deferred += 1
    for connection_id, connector in connectors.items():
        runtime.keep_credentials(connection_id, connector)
    return DrainResult(written, failed, deferred)


def _build(runtime: Runtime, connection_id: int) -> Connector:
    with runtime.store.read() as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            raise NeedsReauth("the connection is gone")
        return runtime.connector(connection)
