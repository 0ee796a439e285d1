"""The in-memory calendar system passes the connector contract the real connectors pass."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge.connectors.base import Blocking, Connector
from bridge.connectors.errors import RateLimited, Transient
from tests.connectors.contract import (
    RETRY_AFTER,
    ConnectorContract,
    Failure,
    Operation,
    RemoteDriver,
)
from tests.fakes.memory_calendar import MemoryCalendarSystem, MemoryConnector

_OPERATIONS = {
    Operation.LIST_CALENDARS: "list_calendars",
    Operation.PULL: "pull",
    Operation.GET: "get",
    Operation.CREATE: "create",
    Operation.UPDATE: "update",
    Operation.DELETE: "delete",
    Operation.FREE_BUSY: "free_busy",
}


class MemoryDriver(RemoteDriver):
    def __init__(self) -> None:
        self.system = MemoryCalendarSystem("owner@example.org")
        self.address = self.system.account
        self.calendar = self.system.add_calendar("primary", "Work").remote_id

    def connector(self, *, timeout: float | None = None) -> Connector:
        return MemoryConnector(self.system)

    def add_calendar(self, name: str, *, writable: bool) -> str:
        remote_id = f"cal-{len(self.system.calendars)}"
        self.system.add_calendar(remote_id, name, primary=False, writable=writable)
        return remote_id

    def add_event(
        self, start: dt.datetime, end: dt.datetime, *, summary: str = "Dentist", free: bool = False
    ) -> str:
        blocks = Blocking.FREE if free else Blocking.BUSY
        return self.system.add_event(self.calendar, start, end, blocks=blocks, summary=summary)

    def move_event(self, remote_id: str, start: dt.datetime, end: dt.datetime) -> None:
        self.system.move_event(self.calendar, remote_id, start, end)

    def delete_event(self, remote_id: str) -> None:
        self.system.delete_event(self.calendar, remote_id)

    def live_ids(self) -> set[str]:
        return {event.remote_id for event in self.system.live(self.calendar)}

    def marker_of(self, remote_id: str) -> str | None:
        return self.system.event(self.calendar, remote_id).marker

    def expire_cursor(self) -> None:
        self.system.expire_cursors(self.calendar)

    def paginate(self) -> None:
        self.system.page_size = 2

    def fail(self, failure: Failure, operation: Operation) -> None:
        name = _OPERATIONS[operation]
        if failure is Failure.RATE_LIMITED:
            self.system.fail(name, RateLimited("slow down", retry_after=RETRY_AFTER))
        elif failure is Failure.LOST_ANSWER:
            self.system.fail(name, Transient("the connection dropped"), after=True)
        else:
            self.system.fail(name, Transient(f"{failure.value} on {name}"))

    def revoke(self) -> None:
        self.system.revoke()

    def delete_calendar(self) -> None:
        self.system.delete_calendar(self.calendar)


class TestMemoryConnector(ConnectorContract):
    @pytest.fixture
    def driver(self) -> RemoteDriver:
        return MemoryDriver()
