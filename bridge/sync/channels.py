"""Push channels: the remote system notifies us when a calendar changes, and we pull it.

A channel is started for every watched calendar (checks conflicts or receives bookings) of a
connection whose connector ``supports_push``, and replaced before it expires: a new channel
first, then the old one stopped, so no change falls between the two. Each channel carries a
random token; only its SHA-256 is stored, and a notification counts only when its channel id
is the calendar's current one and its token matches (compared in constant time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import uuid

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from bridge import clock
from bridge.connectors.base import Connector, PushChannel
from bridge.connectors.errors import ConnectorError, NeedsReauth
from bridge.store.sync_models import CALENDAR_OK, CONNECTION_OK, Connection, ExternalCalendar
from bridge.sync import leases
from bridge.sync.connections import mark_needs_reauth
from bridge.sync.runtime import Runtime

log = logging.getLogger(__name__)

CHANNEL_LEASE = dt.timedelta(minutes=2)


def token_hash(token: str) -> str:
    """The stored form of a channel token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _watched() -> ColumnElement[bool]:
    return or_(
        ExternalCalendar.check_conflicts.is_(True), ExternalCalendar.is_destination.is_(True)
    )


def _old_channel(calendar: ExternalCalendar) -> PushChannel | None:
    if calendar.channel_id is None:
        return None
    return PushChannel(
        calendar.channel_id,
        calendar.channel_resource_id or "",
        calendar.channel_expires_at or clock.now(),
    )


def _clear(calendar: ExternalCalendar) -> None:
    calendar.channel_id = None
    calendar.channel_token_hash = None
    calendar.channel_resource_id = None
    calendar.channel_expires_at = None


def _stop(connector: Connector, channel: PushChannel, calendar_id: int) -> None:
    try:
        connector.stop_channel(channel)
    except ConnectorError as exc:  # it expires by itself; its notifications no longer count
        log.warning(
            "Could not stop channel %s of calendar %s: %s", channel.channel_id, calendar_id, exc
        )


def _build(runtime: Runtime, session: Session, connection_id: int) -> Connector | None:
    connection = session.get(Connection, connection_id)
    if connection is None:
        return None
    try:
        return runtime.connector(connection)
    except NeedsReauth as exc:
        mark_needs_reauth(session, connection_id, str(exc))
        return None


def _renew_one(runtime: Runtime, connector: Connector, calendar_id: int, address: str) -> bool:
    now = clock.now()
    with runtime.store.write() as session:
        calendar = session.get(ExternalCalendar, calendar_id)
        if calendar is None or not leases.claim(
            session, ExternalCalendar, calendar_id, runtime.owner, now, CHANNEL_LEASE
        ):
            return False
        remote_id, old = calendar.remote_id, _old_channel(calendar)
    try:
        token = secrets.token_urlsafe(32)
        channel = connector.start_channel(
            remote_id,
            address=address,
            channel_id=uuid.uuid4().hex,
            token=token,
            ttl=dt.timedelta(seconds=runtime.settings.push_channel_ttl),
        )
        with runtime.store.write() as session:
            calendar = session.get(ExternalCalendar, calendar_id)
            if calendar is None:
                _stop(connector, channel, calendar_id)
                return False
            calendar.channel_id = channel.channel_id
            calendar.channel_token_hash = token_hash(token)
            calendar.channel_resource_id = channel.resource_id
            calendar.channel_expires_at = channel.expires_at
        log.info(
            "Started push channel %s for calendar %s, expires %s",
            channel.channel_id,
            calendar_id,
            channel.expires_at.isoformat(),
        )
        if old is not None:
            _stop(connector, old, calendar_id)
        return True
    finally:
        with runtime.store.write() as session:
            leases.release(session, ExternalCalendar, calendar_id, runtime.owner)


def renew_channels(runtime: Runtime, address: str) -> int:
    """Start channels where missing or expiring within ``push_renew_margin``; stop unwatched ones.

    Returns:
        The number of channels started.
    """
    now = clock.now()
    horizon = now + dt.timedelta(seconds=runtime.settings.push_renew_margin)
    with runtime.store.read() as session:
        due = session.execute(
            select(ExternalCalendar.id, ExternalCalendar.connection_id)
            .join(Connection, Connection.id == ExternalCalendar.connection_id)
            .where(
                Connection.status == CONNECTION_OK,
                ExternalCalendar.status == CALENDAR_OK,
                _watched(),
                or_(
                    ExternalCalendar.channel_id.is_(None),
                    ExternalCalendar.channel_expires_at.is_(None),
                    ExternalCalendar.channel_expires_at < horizon,
                ),
            )
            .order_by(ExternalCalendar.id)
        ).all()
    by_connection: dict[int, list[int]] = {}
    for calendar_id, connection_id in due:
        by_connection.setdefault(connection_id, []).append(calendar_id)
    started = 0
    for connection_id, calendar_ids in by_connection.items():
        with runtime.store.write() as session:
            connector = _build(runtime, session, connection_id)
        if connector is None or not type(connector).supports_push:
            continue
        for calendar_id in calendar_ids:
            try:
                started += _renew_one(runtime, connector, calendar_id, address)
            except NeedsReauth as exc:
                with runtime.store.write() as session:
                    mark_needs_reauth(session, connection_id, str(exc))
                break
            except ConnectorError as exc:
                log.warning("Could not start a push channel for calendar %s: %s", calendar_id, exc)
        runtime.keep_credentials(connection_id, connector)
    _stop_unwatched(runtime)
    return started


def _stop_unwatched(runtime: Runtime) -> None:
    with runtime.store.read() as session:
        rows = session.execute(
            select(ExternalCalendar.id, ExternalCalendar.connection_id).where(
                ExternalCalendar.channel_id.is_not(None),
                and_(
                    ExternalCalendar.check_conflicts.is_(False),
                    ExternalCalendar.is_destination.is_(False),
                ),
            )
        ).all()
    for calendar_id, connection_id in rows:
        _stop_calendars(runtime, connection_id, [calendar_id])


def _stop_calendars(runtime: Runtime, connection_id: int, calendar_ids: list[int]) -> None:
    with runtime.store.write() as session:
        connector = _build(runtime, session, connection_id)
    for calendar_id in calendar_ids:
        with runtime.store.write() as session:  # one row per transaction: no lock ordering
            calendar = session.get(ExternalCalendar, calendar_id)
            old = _old_channel(calendar) if calendar is not None else None
            if calendar is None or old is None:
                continue
            _clear(calendar)
        if connector is not None and type(connector).supports_push:
            _stop(connector, old, calendar_id)
        log.info("Stopped push channel %s of calendar %s", old.channel_id, calendar_id)


def stop_channels(runtime: Runtime, connection_id: int) -> None:
    """Stop every channel of a connection (before disconnecting it, say)."""
    with runtime.store.read() as session:
        calendar_ids = list(
            session.scalars(
                select(ExternalCalendar.id).where(
                    ExternalCalendar.connection_id == connection_id,
                    ExternalCalendar.channel_id.is_not(None),
                )
            )
        )
    if calendar_ids:
        _stop_calendars(runtime, connection_id, calendar_ids)


def check_channel(runtime: Runtime, channel_id: str, token: str | None) -> int | None:
    """The calendar a notification is for, if its channel is current and its token matches."""
    if not channel_id or token is None:
        return None
    with runtime.store.read() as session:
        calendar = session.scalar(
            select(ExternalCalendar).where(ExternalCalendar.channel_id == channel_id)
        )
        if calendar is None or calendar.channel_token_hash is None:
            return None
        if not hmac.compare_digest(calendar.channel_token_hash, token_hash(token)):
            return None
        return calendar.id
