"""Connections, conflict calendars and their busy time, written straight into our own tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid
from collections.abc import Iterator, Sequence

from bridge import clock
from bridge.availability import Interval
from bridge.booking.busy import replace_remote_busy
from bridge.connectors.base import (
    CalendarInfo,
    Connector,
    OutboundEvent,
    PullPage,
    RemoteEvent,
    WrittenEvent,
)
from bridge.connectors.errors import RemoteRejected
from bridge.keys import CONNECTOR_CREDENTIALS, Keyring
from bridge.store import Store
from bridge.store.sync_models import CONNECTION_OK, Connection, ExternalCalendar

TEST_KEYRING = Keyring(["k" * 32 + "-calendar-guard-tests"], source="tests")


@dataclasses.dataclass(frozen=True)
class CalendarRef:
    id: int
    connection_id: int
    remote_id: str
    name: str
    account: str


def add_calendar(
    store: Store,
    provider_id: int,
    *,
    name: str = "Work",
    account: str | None = None,
    kind: str = "memory",
    credentials: str = "{}",
    connection_status: str = CONNECTION_OK,
    calendar_status: str = "ok",
    check_conflicts: bool = True,
    synced_ago: dt.timedelta | None = dt.timedelta(minutes=1),
    connection_id: int | None = None,
    remote_id: str | None = None,
    keyring: Keyring = TEST_KEYRING,
) -> CalendarRef:
    """A conflict calendar (and its connection, unless ``connection_id`` names one)."""
    now = clock.now()
    with store.write() as session:
        if connection_id is None:
            connection = Connection(
                provider_id=provider_id,
                kind=kind,
                account=account or f"{uuid.uuid4().hex[:8]}@example.org",
                credentials=keyring.encrypt(CONNECTOR_CREDENTIALS, credentials),
                status=connection_status,
                status_reason=None if connection_status == CONNECTION_OK else "test says so",
                status_changed_at=now,
            )
            session.add(connection)
            session.flush()
        else:
            found = session.get(Connection, connection_id)
            assert found is not None
            connection = found
        calendar = ExternalCalendar(
            connection_id=connection.id,
            provider_id=provider_id,
            remote_id=remote_id or f"{name.lower()}-{uuid.uuid4().hex[:8]}@group.example",
            name=name,
            check_conflicts=check_conflicts,
            status=calendar_status,
            last_error=None if calendar_status == "ok" else "the calendar was deleted",
            last_synced_at=None if synced_ago is None else now - synced_ago,
        )
        session.add(calendar)
        session.flush()
        return CalendarRef(
            calendar.id, connection.id, calendar.remote_id, calendar.name, connection.account
        )


def add_busy(
    store: Store, provider_id: int, calendar_id: int, start: dt.datetime, end: dt.datetime
) -> None:
    """Busy time of one (anonymous) remote event of ``calendar_id``."""
    with store.write() as session:
        replace_remote_busy(
            session,
            provider_id,
            f"calendar:{calendar_id}",
            f"event-{uuid.uuid4().hex[:8]}",
            [Interval(start, end)],
        )


def set_synced(store: Store, calendar_id: int, at: dt.datetime | None) -> None:
    with store.write() as session:
        calendar = session.get(ExternalCalendar, calendar_id)
        assert calendar is not None
        calendar.last_synced_at = at


def pull_requested_at(store: Store, calendar_id: int) -> dt.datetime | None:
    with store.read() as session:
        calendar = session.get(ExternalCalendar, calendar_id)
        assert calendar is not None
        return calendar.pull_requested_at


class FreeBusyOnly(Connector):
    """A connector that answers ``free_busy`` only, from a script the test controls.

    ``busy`` maps a calendar's remote id to its busy time; ``error`` is raised instead when set;
    with ``hold`` set, the answer waits until the test releases it (a calendar that is late).
    ``asked`` records every window asked.
    """

    kind = "memory"

    def __init__(self) -> None:
        self.busy: dict[str, list[Interval]] = {}
        self.error: Exception | None = None
        self.hold: threading.Event | None = None
        self.asked: list[tuple[tuple[str, ...], Interval, float]] = []
        self.drop: set[str] = set()

    def free_busy(
        self, calendars: Sequence[str], window: Interval, *, timeout: float
    ) -> dict[str, list[Interval]]:
        self.asked.append((tuple(calendars), window, timeout))
        if self.hold is not None:
            self.hold.wait(timeout=30)
        if self.error is not None:
            raise self.error
        return {c: list(self.busy.get(c, [])) for c in calendars if c not in self.drop}

    def account(self) -> str:
        raise RemoteRejected("not in this fake")

    def list_calendars(self) -> list[CalendarInfo]:
        raise RemoteRejected("not in this fake")

    def pull(self, calendar: str, cursor: str | None) -> Iterator[PullPage]:
        raise RemoteRejected("not in this fake")

    def get_event(self, calendar: str, remote_id: str) -> RemoteEvent | None:
        raise RemoteRejected("not in this fake")

    def create_event(self, calendar: str, event: OutboundEvent) -> WrittenEvent:
        raise RemoteRejected("not in this fake")

    def update_event(
        self, calendar: str, remote_id: str, event: OutboundEvent, *, etag: str | None
    ) -> WrittenEvent:
        raise RemoteRejected("not in this fake")

    def delete_event(self, calendar: str, remote_id: str, *, etag: str | None) -> None:
        raise RemoteRejected("not in this fake")
