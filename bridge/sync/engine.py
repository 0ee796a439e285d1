"""The sync engine's facade: what the scheduler, the web app and the CLI call.

Every method is a job that may run in any process at any time: work is claimed through
leases in the database, so two workers never pull one calendar or write one outbox row at
once, and a worker that dies only delays its work until its leases end.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid

from sqlalchemy import and_, or_, select

from bridge import clock
from bridge.connectors.base import Connector
from bridge.connectors.errors import ConnectorError, NeedsReauth, RemoteNotFound
from bridge.keys import Keyring
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.models import Booking, Provider
from bridge.store.sync_models import (
    CALENDAR_OK,
    CONNECTION_OK,
    Connection,
    ExternalCalendar,
    Mirror,
)
from bridge.sync import breaker, busytime, channels, connections, drain, pull
from bridge.sync.drain import DrainResult
from bridge.sync.pull import Progress, PullResult
from bridge.sync.runtime import ConnectorFactory, Runtime
from bridge.sync.scope import Scope

log = logging.getLogger(__name__)

__all__ = ["ConnectorFactory", "DrainResult", "PullResult", "SyncEngine"]


def default_owner() -> str:
    """A lease owner name unique to this process: ``host:pid:uuid`` (at most 64 characters)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class SyncEngine:
    """Pulls, writes, channels and connection upkeep for every connected calendar.

    Args:
        store: the database.
        settings: sync settings (intervals, breaker, horizon, ...).
        keyring: decrypts connection credentials.
        connector_factory: builds a connector for a connection row; by default the connector
            registered for the connection's kind, with its decrypted credentials.
        owner: the lease owner name; by default ``host:pid:uuid``.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        keyring: Keyring,
        *,
        connector_factory: ConnectorFactory | None = None,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.runtime = Runtime(
            store=store,
            settings=settings,
            keyring=keyring,
            owner=(owner or default_owner())[:64],
            connector_factory=connector_factory,
        )

    def interrupt(self) -> None:
        """Make running pulls stop after their current page (the process is shutting down)."""
        self.runtime.stopping.set()

    @property
    def owner(self) -> str:
        """The name this engine's leases carry."""
        return self.runtime.owner

    def pull_calendar(
        self, calendar_id: int, *, full: bool = False, progress: Progress | None = None
    ) -> PullResult | None:
        """Pull one calendar's changes and apply them.

        Args:
            calendar_id: the external calendar.
            full: pull everything, not just what changed since the cursor.
            progress: called after every page with the number of changes applied so far.

        Returns:
            What the pull did (``error`` set if it stopped early), or ``None`` when another
            worker holds the calendar's lease.

        Raises:
            NotFound: no such calendar.
        """
        return pull.pull_calendar(self.runtime, calendar_id, full=full, progress=progress)

    def drain_outbox(self, *, limit: int = 200) -> DrainResult:
        """Write every due, unleased outbox row (at most ``limit``), oldest first."""
        return drain.drain(self.runtime, limit)

    def due_calendars(self) -> list[int]:
        """Calendars whose pull is due, of connections in state ``ok``.

        Due: never synced, last synced longer than ``sync_poll_interval`` ago, a pull was
        requested, or a retry time has passed. Calendars backing off (``retry_at`` ahead),
        in error, or leased by a running pull are left out.
        """
        now = clock.now()
        poll_before = now - dt.timedelta(seconds=self.settings.sync_poll_interval)
        with self.store.read() as session:
            return list(
                session.scalars(
                    select(ExternalCalendar.id)
                    .join(Connection, Connection.id == ExternalCalendar.connection_id)
                    .where(
                        Connection.status == CONNECTION_OK,
                        ExternalCalendar.status == CALENDAR_OK,
                        or_(
                            ExternalCalendar.check_conflicts.is_(True),
                            ExternalCalendar.is_destination.is_(True),
                        ),
                        or_(
                            ExternalCalendar.lease_until.is_(None),
                            ExternalCalendar.lease_until < now,
                        ),
                        or_(ExternalCalendar.retry_at.is_(None), ExternalCalendar.retry_at <= now),
                        or_(
                            ExternalCalendar.last_synced_at.is_(None),
                            ExternalCalendar.last_synced_at <= poll_before,
                            ExternalCalendar.pull_requested_at.is_not(None),
                            ExternalCalendar.retry_at.is_not(None),
                        ),
                    )
                    .order_by(ExternalCalendar.id)
                )
            )

    def request_pull(self, calendar_id: int) -> None:
        """Ask for a pull of the calendar soon (a push notification arrived); commits."""
        with self.store.write() as session:
            calendar = session.get(ExternalCalendar, calendar_id)
            if calendar is not None:
                calendar.pull_requested_at = clock.now()

    def renew_channels(self, address: str) -> int:
        """Start or replace push channels that are missing or expire soon.

        Args:
            address: the public URL the remote system notifies.

        Returns:
            The number of channels started.
        """
        return channels.renew_channels(self.runtime, address)

    def stop_channels(self, connection_id: int) -> None:
        """Stop every push channel of a connection."""
        channels.stop_channels(self.runtime, connection_id)

    def check_channel(self, channel_id: str, token: str | None) -> int | None:
        """The calendar id a notification is for, if the channel is current and the token right."""
        return channels.check_channel(self.runtime, channel_id, token)

    def refresh_access(self) -> int:
        """Renew short-lived access of every ``ok`` connection, storing changed credentials.

        Returns:
            The number of connections refreshed; revoked ones become ``needs_reauth``.
        """
        with self.store.read() as session:
            ids = list(
                session.scalars(select(Connection.id).where(Connection.status == CONNECTION_OK))
            )
        refreshed = 0
        for connection_id in ids:
            connector: Connector | None = None
            try:
                with self.store.read() as session:
                    connection = session.get(Connection, connection_id)
                    if connection is None:
                        continue
                    connector = self.runtime.connector(connection)
                connector.refresh_access()
                refreshed += 1
            except NeedsReauth as exc:
                with self.store.write() as session:
                    connections.mark_needs_reauth(session, connection_id, str(exc))
            except ConnectorError as exc:
                log.warning("Could not refresh access of connection %s: %s", connection_id, exc)
            if connector is not None:
                self.runtime.keep_credentials(connection_id, connector)
        return refreshed

    def extend_recurrences(self) -> int:
        """Roll recurring busy time forward to ``now + recurrence_horizon_days``.

        Returns:
            The number of series (and long events) re-expanded.
        """
        now = clock.now()
        with self.store.read() as session:
            calendar_ids = list(
                session.scalars(
                    select(ExternalCalendar.id).where(ExternalCalendar.check_conflicts.is_(True))
                )
            )
        extended = 0
        for calendar_id in calendar_ids:
            with self.store.write() as session:
                calendar = session.get(ExternalCalendar, calendar_id)
                if calendar is None:
                    continue
                provider = session.get(Provider, calendar.provider_id)
                if provider is None:
                    continue
                Store.lock_provider(session, provider.id)
                scope = Scope.of(calendar, provider.time_zone, self.settings, now)
                extended += busytime.extend(session, scope)
        if extended:
            log.info("Extended %s recurring events to the horizon", extended)
        return extended

    def resolve_breaker(self, calendar_id: int, *, confirm: bool) -> int:
        """Answer a tripped mass-deletion breaker.

        Args:
            calendar_id: the calendar whose deletions are held.
            confirm: cancel the held bookings; otherwise their events are written again.

        Returns:
            The number of bookings cancelled or restored.

        Raises:
            NotFound: no such calendar.
        """
        with self.store.write() as session:
            return breaker.resolve(session, calendar_id, confirm=confirm, now=clock.now())

    def disconnect(self, provider_id: int, connection_id: int, *, remove_events: bool) -> int:
        """Disconnect a connection: stop its channels, optionally delete our events, forget it.

        Args:
            provider_id: the provider the connection belongs to.
            connection_id: the connection.
            remove_events: delete the events the bridge wrote for bookings that have not
                ended (past ones stay as a record) before the rows go. Best effort: an event
                that cannot be deleted (access revoked, say) stays.

        Returns:
            The number of events deleted.

        Raises:
            NotFound: no such connection of this provider.
        """
        with self.store.read() as session:
            connections.get_connection(session, provider_id, connection_id)
        self.stop_channels(connection_id)
        removed = self._remove_events(connection_id) if remove_events else 0
        with self.store.write() as session:
            connections.disconnect(session, provider_id, connection_id)
        return removed

    def _remove_events(self, connection_id: int) -> int:
        now = clock.now()
        with self.store.read() as session:
            rows = session.execute(
                select(ExternalCalendar.remote_id, Mirror.remote_id, Mirror.remote_etag)
                .join(Mirror, Mirror.calendar_id == ExternalCalendar.id)
                .join(Booking, Booking.id == Mirror.booking_id)
                .where(
                    and_(
                        ExternalCalendar.connection_id == connection_id,
                        Mirror.remote_deleted.is_(False),
                        Booking.end_at > now,
                    )
                )
            ).all()
            connection = session.get(Connection, connection_id)
            if connection is None:
                return 0
            try:
                connector = self.runtime.connector(connection)
            except NeedsReauth as exc:
                log.warning("Cannot remove the events of connection %s: %s", connection_id, exc)
                return 0
        removed = 0
        for calendar, remote_id, _etag in rows:
            try:
                connector.delete_event(calendar, remote_id, etag=None)
                removed += 1
            except RemoteNotFound:
                removed += 1
            except ConnectorError as exc:
                log.warning(
                    "Could not delete event %s of calendar %s: %s", remote_id, calendar, exc
                )
                if isinstance(exc, NeedsReauth):
                    break
        log.info("Deleted %s events of connection %s before disconnecting", removed, connection_id)
        return removed
