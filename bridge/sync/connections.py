"""The life cycle of a connection and its calendars, in the caller's write transaction.

Every function here takes an open write session and leaves committing to the caller. Those
that add or remove outbox rows lock the provider first, like booking changes do, so a booking
made at the same moment either sees the new destination or is seen by it.

Removing the events the bridge wrote needs the network, so it is not done here:
:meth:`bridge.sync.engine.SyncEngine.disconnect` deletes them through the connector first and
then calls :func:`disconnect`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bridge import clock
from bridge.booking.busy import replace_remote_busy
from bridge.connectors.base import CalendarInfo
from bridge.connectors.errors import NeedsReauth
from bridge.errors import NotFound, ValidationFailed
from bridge.keys import CONNECTOR_CREDENTIALS, Keyring, UndecryptableSecret
from bridge.store import Store
from bridge.store.models import BusyInterval
from bridge.store.sync_models import (
    CALENDAR_ERROR,
    CALENDAR_OK,
    CONNECTION_NEEDS_REAUTH,
    CONNECTION_OK,
    Connection,
    ExternalCalendar,
    HeldCancellation,
    OutboxItem,
    RemoteEvent,
)
from bridge.sync import outbox

log = logging.getLogger(__name__)

CALENDAR_GONE = "the calendar was deleted or is no longer shared"


@dataclasses.dataclass(frozen=True)
class CalendarStatus:
    """One calendar's sync state, as the dashboard and the CLI show it."""

    connection_id: int
    kind: str
    account: str
    state: str  # ok | needs_reauth | error
    reason: str | None
    calendar_id: int
    calendar_name: str
    check_conflicts: bool
    is_destination: bool
    last_synced_at: dt.datetime | None
    last_error: str | None
    pending_writes: int
    failed_writes: int
    held_cancellations: int
    channel_expires_at: dt.datetime | None


def decrypt_credentials(keyring: Keyring, connection: Connection) -> str:
    """The connection's credentials in clear.

    Raises:
        NeedsReauth: none are stored, or they were encrypted with a secret key that is no
            longer configured.
    """
    if connection.credentials is None:
        raise NeedsReauth("no credentials are stored for this connection; connect it again")
    try:
        return keyring.decrypt(CONNECTOR_CREDENTIALS, connection.credentials)
    except UndecryptableSecret as exc:
        raise NeedsReauth(
            "the stored credentials cannot be decrypted: the secret key changed; "
            "connect the calendar again"
        ) from exc


def store_credentials(keyring: Keyring, connection: Connection, credentials: str) -> None:
    """Encrypt ``credentials`` into the connection row."""
    connection.credentials = keyring.encrypt(CONNECTOR_CREDENTIALS, credentials)


def get_connection(session: Session, provider_id: int, connection_id: int) -> Connection:
    """The provider's connection ``connection_id``.

    Raises:
        NotFound: no such connection, or another provider's.
    """
    connection = session.get(Connection, connection_id)
    if connection is None or connection.provider_id != provider_id:
        raise NotFound("connection", connection_id)
    return connection


def get_calendar(session: Session, provider_id: int, calendar_id: int) -> ExternalCalendar:
    """The provider's external calendar ``calendar_id``.

    Raises:
        NotFound: no such calendar, or another provider's.
    """
    calendar = session.get(ExternalCalendar, calendar_id)
    if calendar is None or calendar.provider_id != provider_id:
        raise NotFound("calendar", calendar_id)
    return calendar


def _destination(session: Session, provider_id: int) -> ExternalCalendar | None:
    return session.scalar(
        select(ExternalCalendar).where(
            ExternalCalendar.provider_id == provider_id, ExternalCalendar.is_destination.is_(True)
        )
    )


def save_connection(
    session: Session,
    keyring: Keyring,
    *,
    provider_id: int,
    kind: str,
    account: str,
    credentials: str,
    calendars: list[CalendarInfo],
) -> Connection:
    """Store a new connection, or a reconnection of the same (provider, kind, account).

    The credentials are encrypted and the connection is ``ok`` again. Calendars are matched
    by remote id: known ones get their name, zone and flags refreshed (and leave an error
    state), new ones start unticked, and known ones the account no longer lists are marked
    as gone. A provider without a destination calendar gets this account's primary calendar
    as destination *and* conflict calendar, so connecting alone fully syncs.

    Returns:
        The connection, flushed.
    """
    Store.lock_provider(session, provider_id)
    now = clock.now()
    connection = session.scalar(
        select(Connection).where(
            Connection.provider_id == provider_id,
            Connection.kind == kind,
            Connection.account == account,
        )
    )
    if connection is None:
        connection = Connection(provider_id=provider_id, kind=kind, account=account)
        session.add(connection)
    store_credentials(keyring, connection, credentials)
    connection.status = CONNECTION_OK
    connection.status_reason = None
    connection.status_changed_at = now
    session.flush()
    known = {c.remote_id: c for c in connection.calendars}
    listed = {info.remote_id for info in calendars}
    for info in calendars:
        calendar = known.get(info.remote_id)
        if calendar is None:
            calendar = ExternalCalendar(
                connection=connection,
                provider_id=provider_id,
                remote_id=info.remote_id,
                check_conflicts=False,
                is_destination=False,
            )
            session.add(calendar)
        calendar.name = info.name[:500]
        calendar.time_zone = info.time_zone
        calendar.is_primary = info.primary
        calendar.writable = info.writable
        if calendar.status == CALENDAR_ERROR:
            calendar.status = CALENDAR_OK
            calendar.last_error = None
            calendar.failures = 0
            calendar.retry_at = None
    for remote_id, calendar in known.items():
        if remote_id not in listed:
            calendar.status = CALENDAR_ERROR
            calendar.last_error = CALENDAR_GONE
            calendar.last_error_at = now
    session.flush()
    if _destination(session, provider_id) is None:
        primary = next(
            (c for c in connection.calendars if c.is_primary and c.writable and c.status == "ok"),
            None,
        )
        if primary is not None:
            primary.is_destination = True
            primary.check_conflicts = True
            primary.cursor = None
            primary.pull_requested_at = now
            outbox.enqueue_future_bookings(session, primary, now)
    log.info(
        "Saved %s connection %s (%s) of provider %s with %s calendars",
        kind,
        connection.id,
        account,
        provider_id,
        len(calendars),
    )
    return connection


def set_calendar_options(
    session: Session,
    provider_id: int,
    calendar_id: int,
    *,
    check_conflicts: bool | None = None,
    is_destination: bool | None = None,
) -> ExternalCalendar:
    """Tick or untick "check conflicts" and "add bookings here" for one calendar.

    Unticking "check conflicts" forgets the calendar's events and busy time at once; ticking
    it asks for a full pull. A provider has at most one destination: choosing one unsets the
    others, whose events of future bookings are deleted, and the new destination gets every
    future confirmed booking written.

    Raises:
        NotFound: no such calendar of this provider.
        ValidationFailed: a read-only calendar as destination.
    """
    Store.lock_provider(session, provider_id)
    calendar = get_calendar(session, provider_id, calendar_id)
    now = clock.now()
    if check_conflicts is not None and check_conflicts != calendar.check_conflicts:
        calendar.check_conflicts = check_conflicts
        if check_conflicts:
            calendar.cursor = None
            calendar.pull_requested_at = now
        else:
            purge_busy(session, calendar)
    if is_destination is not None and is_destination != calendar.is_destination:
        if is_destination:
            if not calendar.writable:
                raise ValidationFailed({"is_destination": "this calendar is read-only"})
            for other in session.scalars(
                select(ExternalCalendar).where(
                    ExternalCalendar.provider_id == provider_id,
                    ExternalCalendar.is_destination.is_(True),
                    ExternalCalendar.id != calendar.id,
                )
            ):
                other.is_destination = False
                outbox.enqueue_mirror_removals(session, other, now)
            calendar.is_destination = True
            outbox.enqueue_future_bookings(session, calendar, now)
        else:
            calendar.is_destination = False
            outbox.enqueue_mirror_removals(session, calendar, now)
    session.flush()
    log.info(
        "Calendar %s of provider %s: check_conflicts=%s, destination=%s",
        calendar.id,
        provider_id,
        calendar.check_conflicts,
        calendar.is_destination,
    )
    return calendar


def purge_busy(session: Session, calendar: ExternalCalendar) -> int:
    """Forget a calendar's foreign events and the busy time they contributed."""
    remote_ids = list(
        session.scalars(
            select(BusyInterval.remote_id)
            .where(
                BusyInterval.provider_id == calendar.provider_id,
                BusyInterval.source == calendar.busy_source,
            )
            .distinct()
        )
    )
    for remote_id in remote_ids:
        replace_remote_busy(session, calendar.provider_id, calendar.busy_source, remote_id, [])
    session.execute(delete(RemoteEvent).where(RemoteEvent.calendar_id == calendar.id))
    return len(remote_ids)


def disconnect(
    session: Session, provider_id: int, connection_id: int, *, remove_events: bool = False
) -> None:
    """Forget a connection: its busy time goes at once, then its rows (calendars, mirrors, ...).

    Args:
        remove_events: must be false here; deleting the events the bridge wrote needs the
            network, which :meth:`bridge.sync.engine.SyncEngine.disconnect` does before it
            calls this function.

    Raises:
        NotFound: no such connection of this provider.
        ValueError: ``remove_events`` is true.
    """
    if remove_events:
        raise ValueError("removing the events needs the network: use SyncEngine.disconnect")
    Store.lock_provider(session, provider_id)
    connection = get_connection(session, provider_id, connection_id)
    for calendar in connection.calendars:
        purge_busy(session, calendar)
    session.delete(connection)
    session.flush()
    log.info(
        "Disconnected %s connection %s of provider %s", connection.kind, connection_id, provider_id
    )


def mark_needs_reauth(session: Session, connection_id: int, reason: str) -> None:
    """Mark a connection ``needs_reauth``: its pulls and writes pause until it is reconnected."""
    connection = session.get(Connection, connection_id)
    if connection is None or connection.status == CONNECTION_NEEDS_REAUTH:
        return
    connection.status = CONNECTION_NEEDS_REAUTH
    connection.status_reason = reason
    connection.status_changed_at = clock.now()
    log.warning(
        "Connection %s (%s %s) of provider %s needs re-authorisation: %s",
        connection.id,
        connection.kind,
        connection.account,
        connection.provider_id,
        reason,
    )


def sync_status(session: Session, provider_id: int) -> list[CalendarStatus]:
    """Every calendar of the provider's connections with its sync state, by connection."""
    counts: dict[tuple[int, bool], int] = {}
    rows = session.execute(
        select(OutboxItem.calendar_id, OutboxItem.failed_at.is_not(None), func.count())
        .join(ExternalCalendar, ExternalCalendar.id == OutboxItem.calendar_id)
        .where(ExternalCalendar.provider_id == provider_id)
        .group_by(OutboxItem.calendar_id, OutboxItem.failed_at.is_not(None))
    )
    for calendar_id, failed, count in rows:
        counts[(calendar_id, bool(failed))] = count
    held: dict[int, int] = {}
    for calendar_id, count in session.execute(
        select(HeldCancellation.calendar_id, func.count())
        .join(ExternalCalendar, ExternalCalendar.id == HeldCancellation.calendar_id)
        .where(ExternalCalendar.provider_id == provider_id)
        .group_by(HeldCancellation.calendar_id)
    ):
        held[calendar_id] = count
    result = []
    connections = session.scalars(
        select(Connection).where(Connection.provider_id == provider_id).order_by(Connection.id)
    )
    for connection in connections:
        for calendar in connection.calendars:
            state, reason = connection.status, connection.status_reason
            if state == CONNECTION_OK and calendar.status == CALENDAR_ERROR:
                state, reason = CALENDAR_ERROR, calendar.last_error
            result.append(
                CalendarStatus(
                    connection_id=connection.id,
                    kind=connection.kind,
                    account=connection.account,
                    state=state,
                    reason=reason,
                    calendar_id=calendar.id,
                    calendar_name=calendar.name,
                    check_conflicts=calendar.check_conflicts,
                    is_destination=calendar.is_destination,
                    last_synced_at=calendar.last_synced_at,
                    last_error=calendar.last_error,
                    pending_writes=counts.get((calendar.id, False), 0),
                    failed_writes=counts.get((calendar.id, True), 0),
                    held_cancellations=held.get(calendar.id, 0),
                    channel_expires_at=calendar.channel_expires_at,
                )
            )
    return result
