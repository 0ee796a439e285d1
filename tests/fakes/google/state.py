"""The state every part of the fake shares: one lock, the clock, the change counter."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .accounts import FakeAccount
    from .calendar import FakeCalendar

Clock = Callable[[], dt.datetime]
ChangeListener = Callable[["FakeCalendar", str], None]

# Google's etags are quoted 16-digit numbers; ours count up from here.
_ETAG_BASE = 3_500_000_000_000_000


def _system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class State:
    """Accounts, calendars and switches, guarded by :attr:`lock` (re-entrant).

    Every read or write of fake data happens with the lock held; nothing slow (HTTP to a
    webhook, a fault's delay) ever does.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.lock = threading.RLock()
        self._clock = clock or _system_clock
        self.clock_offset = dt.timedelta()
        self._seq = 0
        self.accounts: dict[str, FakeAccount] = {}
        self.calendars: dict[str, FakeCalendar] = {}
        self.notifications_enabled = True
        self.short_pages = False
        self.consenting_account: FakeAccount | None = None
        self.api_endpoint = "http://127.0.0.1/calendar/v3/"
        self._listeners: list[ChangeListener] = []

    def now(self) -> dt.datetime:
        """The fake's current time (aware UTC): the clock plus :attr:`clock_offset`."""
        return self._clock().astimezone(dt.UTC) + self.clock_offset

    def next_seq(self) -> int:
        """A new change number; every modification of anything gets one."""
        with self.lock:
            self._seq += 1
            return self._seq

    @property
    def seq(self) -> int:
        """The last change number handed out."""
        return self._seq

    @staticmethod
    def etag(seq: int) -> str:
        return f'"{_ETAG_BASE + seq * 1024}"'

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def changed(self, calendar: FakeCalendar, resource_state: str = "exists") -> None:
        """Tell listeners (the push notifier) that ``calendar`` changed."""
        for listener in self._listeners:
            listener(calendar, resource_state)
