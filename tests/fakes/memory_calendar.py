"""An in-memory external calendar system, and a :class:`Connector` for it.

It behaves like the remote systems the engine talks to, in the ways the engine relies on:
every change gets a new etag; a full pull lists live events (and cancelled occurrences of
series, as Google does) page by page with the cursor on the last page; an incremental pull
lists what changed since its cursor, deletions as tombstones; cursors expire on demand; create
is idempotent through an id derived from the booking UID and undeletes; update and delete
check etags; a deleted calendar answers :class:`RemoteNotFound`; faults can be injected per
operation, including "the request took effect but the answer was lost". All of it is
thread-safe (one lock), so tests can drive it from several threads.

``tests/sync/test_memory_calendar.py`` runs the connector contract of
``tests/connectors/contract.py`` against it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence

from bridge import clock
from bridge.availability import Interval
from bridge.connectors.base import (
    Blocking,
    CalendarInfo,
    Connector,
    EventTime,
    OutboundEvent,
    PullPage,
    PushChannel,
    RemoteChange,
    RemoteDeletion,
    RemoteEvent,
    SkippedEvent,
    WrittenEvent,
)
from bridge.connectors.errors import (
    CursorExpired,
    NeedsReauth,
    PreconditionFailed,
    RemoteNotFound,
    RemoteRejected,
)

KIND = "memory"


@dataclasses.dataclass
class StoredEvent:
    remote_id: str
    start: EventTime
    end: EventTime
    blocks: Blocking = Blocking.BUSY
    time_zone: str | None = None
    recurrence: tuple[str, ...] = ()
    series_id: str | None = None
    original_start: EventTime | None = None
    ident: str | None = None
    marker: str | None = None
    summary: str = ""
    description: str = ""
    deleted: bool = False
    malformed: str | None = None  # a pull yields it as a SkippedEvent with this reason
    seq: int = 0  # the calendar's change counter at the last change

    @property
    def etag(self) -> str:
        return f'"{self.seq}"'

    def as_remote(self) -> RemoteEvent:
        return RemoteEvent(
            remote_id=self.remote_id,
            etag=self.etag,
            start=self.start,
            end=self.end,
            blocks=self.blocks,
            time_zone=self.time_zone,
            recurrence=self.recurrence,
            series_id=self.series_id,
            original_start=self.original_start,
            ident=self.ident,
            marker=self.marker,
        )

    def as_change(self) -> RemoteChange:
        if self.deleted:
            return RemoteDeletion(self.remote_id, self.series_id, self.original_start)
        return self.as_remote()


@dataclasses.dataclass
class MemoryCalendar:
    remote_id: str
    name: str
    time_zone: str | None
    primary: bool
    writable: bool
    events: dict[str, StoredEvent] = dataclasses.field(default_factory=dict)
    counter: int = 0
    epoch: int = 0
    deleted: bool = False


@dataclasses.dataclass
class Fault:
    operation: str
    error: Exception
    after: bool  # the operation takes effect first (the answer is lost)
    times: int


def booking_event_id(booking_uid: str) -> str:
    """The deterministic remote id of a booking's event."""
    return "bk" + hashlib.sha1(booking_uid.encode("utf-8")).hexdigest()[:24]


class MemoryCalendarSystem:
    """One account of a remote calendar system, with its calendars and events.

    The methods without a connector counterpart are what the account's owner (or another
    tool) does in their calendar app, and how tests inject faults.
    """

    def __init__(self, account: str = "owner@example.org", *, page_size: int = 100) -> None:
        self.account = account
        self.page_size = page_size
        self.lock = threading.RLock()
        self.calendars: dict[str, MemoryCalendar] = {}
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str, str]] = []  # (operation, calendar, remote id)
        self.channels: dict[str, tuple[str, PushChannel]] = {}
        self.revoked = False
        self.before_pull: Callable[[], None] | None = None
        self.on_call: Callable[[str], None] | None = None  # runs outside the lock
        self.new_credentials: str | None = None
        self._ids = itertools.count(1)

    # -- the owner's side -------------------------------------------------------------------

    def add_calendar(
        self,
        remote_id: str = "primary",
        name: str = "Work",
        *,
        time_zone: str | None = "Europe/Berlin",
        primary: bool = True,
        writable: bool = True,
    ) -> MemoryCalendar:
        with self.lock:
            calendar = MemoryCalendar(remote_id, name, time_zone, primary, writable)
            self.calendars[remote_id] = calendar
            return calendar

    def delete_calendar(self, remote_id: str) -> None:
        with self.lock:
            self.calendars[remote_id].deleted = True

    def _touch(self, calendar: MemoryCalendar, event: StoredEvent) -> None:
        calendar.counter += 1
        event.seq = calendar.counter

    def add_event(
        self,
        calendar: str,
        start: EventTime,
        end: EventTime,
        *,
        remote_id: str | None = None,
        blocks: Blocking = Blocking.BUSY,
        **fields: object,
    ) -> str:
        """The owner adds an event (any :class:`StoredEvent` field may be given)."""
        with self.lock:
            remote_id = remote_id or f"ev{next(self._ids):06d}"
            event = StoredEvent(remote_id, start, end, blocks, **fields)  # type: ignore[arg-type]
            if event.ident is None and event.series_id is None:
                event.ident = f"{remote_id}@memory"
            target = self.calendars[calendar]
            target.events[remote_id] = event
            self._touch(target, event)
            return remote_id

    def edit_event(self, calendar: str, remote_id: str, **fields: object) -> None:
        """The owner changes an event (times, title, busy status, ...)."""
        with self.lock:
            target = self.calendars[calendar]
            event = target.events[remote_id]
            for name, value in fields.items():
                setattr(event, name, value)
            self._touch(target, event)

    def move_event(self, calendar: str, remote_id: str, start: EventTime, end: EventTime) -> None:
        self.edit_event(calendar, remote_id, start=start, end=end)

    def delete_event(self, calendar: str, remote_id: str) -> None:
        with self.lock:
            target = self.calendars[calendar]
            event = target.events[remote_id]
            event.deleted = True
            self._touch(target, event)

    def cancel_occurrence(
        self, calendar: str, series_id: str, original_start: EventTime, remote_id: str
    ) -> None:
        """The owner deletes one occurrence of a series (a cancelled exception)."""
        with self.lock:
            target = self.calendars[calendar]
            master = target.events[series_id]
            event = StoredEvent(
                remote_id,
                original_start,
                original_start,
                master.blocks,
                series_id=series_id,
                original_start=original_start,
                deleted=True,
            )
            target.events[remote_id] = event
            self._touch(target, event)

    def expire_cursors(self, calendar: str) -> None:
        with self.lock:
            self.calendars[calendar].epoch += 1

    def fail(
        self, operation: str, error: Exception, *, after: bool = False, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``operation`` raise ``error`` (after taking effect, if
        ``after``). Operations: account, list_calendars, pull, get, create, update, delete,
        free_busy, start_channel, stop_channel, refresh; ``pull_page`` fails a pull before
        its second and later pages."""
        with self.lock:
            self.faults.append(Fault(operation, error, after, times))

    def revoke(self) -> None:
        with self.lock:
            self.revoked = True

    # -- looking at it ----------------------------------------------------------------------

    def live(self, calendar: str = "primary") -> list[StoredEvent]:
        with self.lock:
            return [e for e in self.calendars[calendar].events.values() if not e.deleted]

    def live_marked(self, calendar: str = "primary") -> dict[str, list[StoredEvent]]:
        """Live events carrying our marker, by booking UID."""
        found: dict[str, list[StoredEvent]] = {}
        for event in self.live(calendar):
            if event.marker:
                found.setdefault(event.marker, []).append(event)
        return found

    def event(self, calendar: str, remote_id: str) -> StoredEvent:
        with self.lock:
            return self.calendars[calendar].events[remote_id]

    def writes(self, operation: str | None = None) -> list[tuple[str, str, str]]:
        with self.lock:
            return [c for c in self.calls if operation is None or c[0] == operation]

    # -- what the connector uses --------------------------------------------------------------

    def check(self, operation: str, *, after: bool = False) -> None:
        if not after and self.on_call is not None:
            self.on_call(operation)
        with self.lock:
            if not after and self.revoked:
                raise NeedsReauth("access was revoked by the account owner")
            for fault in self.faults:
                if fault.operation == operation and fault.after == after and fault.times > 0:
                    fault.times -= 1
                    raise fault.error

    def calendar(self, remote_id: str) -> MemoryCalendar:
        calendar = self.calendars.get(remote_id)
        if calendar is None or calendar.deleted:
            raise RemoteNotFound("the calendar does not exist")
        return calendar


class MemoryConnector(Connector):
    """The connector of :class:`MemoryCalendarSystem`."""

    kind = KIND
    supports_push = True

    def __init__(self, system: MemoryCalendarSystem) -> None:
        self.system = system
        self._credentials: str | None = None

    def account(self) -> str:
        self.system.check("account")
        return self.system.account

    def list_calendars(self) -> list[CalendarInfo]:
        self.system.check("list_calendars")
        with self.system.lock:
            return [
                CalendarInfo(c.remote_id, c.name, c.time_zone, c.primary, c.writable)
                for c in self.system.calendars.values()
                if not c.deleted
            ]

    def pull(self, calendar: str, cursor: str | None) -> Iterator[PullPage]:
        system = self.system
        if system.before_pull is not None:
            system.before_pull()
        system.check("pull")
        with system.lock:
            target = system.calendar(calendar)
            since = 0
            if cursor is not None:
                epoch, _, counter = cursor.partition(":")
                if int(epoch) != target.epoch:
                    raise CursorExpired("the sync token expired")
                since = int(counter)
            events = sorted(target.events.values(), key=lambda e: e.seq)
            if cursor is None:
                # A full listing: live events, and cancelled occurrences of live series.
                events = [e for e in events if not e.deleted or e.series_id is not None]
            else:
                events = [e for e in events if e.seq > since]
            changes: list[RemoteChange] = []
            skipped: list[SkippedEvent] = []
            for event in events:
                if event.malformed and not event.deleted:
                    skipped.append(SkippedEvent(event.remote_id, event.malformed))
                else:
                    changes.append(event.as_change())
            new_cursor = f"{target.epoch}:{target.counter}"
        size = max(system.page_size, 1)
        chunks = [changes[i : i + size] for i in range(0, len(changes), size)] or [[]]
        for index, chunk in enumerate(chunks):
            if index:
                system.check("pull_page")
            last = index == len(chunks) - 1
            yield PullPage(
                changes=chunk,
                skipped=skipped if last else (),
                cursor=new_cursor if last else None,
            )

    def get_event(self, calendar: str, remote_id: str) -> RemoteEvent | None:
        self.system.check("get")
        with self.system.lock:
            event = self.system.calendar(calendar).events.get(remote_id)
            return None if event is None or event.deleted else event.as_remote()

    def _write(self, target: MemoryCalendar, event: StoredEvent, data: OutboundEvent) -> None:
        event.start, event.end = data.start, data.end
        event.summary, event.description = data.summary, data.description
        event.time_zone = data.time_zone
        event.marker = data.booking_uid
        event.ident = f"{event.remote_id}@memory"
        event.blocks = Blocking.BUSY
        event.deleted = False
        self.system._touch(target, event)

    def create_event(self, calendar: str, event: OutboundEvent) -> WrittenEvent:
        self.system.check("create")
        with self.system.lock:
            target = self.system.calendar(calendar)
            if not target.writable:
                raise RemoteRejected("the calendar is read-only")
            remote_id = booking_event_id(event.booking_uid)
            stored = target.events.get(remote_id)
            if stored is None:
                stored = StoredEvent(remote_id, event.start, event.end)
                target.events[remote_id] = stored
            self._write(target, stored, event)
            self.system.calls.append(("create", calendar, remote_id))
            written = WrittenEvent(remote_id, stored.etag, event.start, event.end)
        self.system.check("create", after=True)
        return written

    def update_event(
        self, calendar: str, remote_id: str, event: OutboundEvent, *, etag: str | None
    ) -> WrittenEvent:
        self.system.check("update")
        with self.system.lock:
            target = self.system.calendar(calendar)
            stored = target.events.get(remote_id)
            if stored is None or stored.deleted:
                raise RemoteNotFound("the event does not exist")
            if etag is not None and etag != stored.etag:
                raise PreconditionFailed("the event changed")
            self._write(target, stored, event)
            self.system.calls.append(("update", calendar, remote_id))
            written = WrittenEvent(remote_id, stored.etag, event.start, event.end)
        self.system.check("update", after=True)
        return written

    def delete_event(self, calendar: str, remote_id: str, *, etag: str | None) -> None:
        self.system.check("delete")
        with self.system.lock:
            target = self.system.calendar(calendar)
            stored = target.events.get(remote_id)
            if stored is None or stored.deleted:
                return
            if etag is not None and etag != stored.etag:
                raise PreconditionFailed("the event changed")
            stored.deleted = True
            self.system._touch(target, stored)
            self.system.calls.append(("delete", calendar, remote_id))
        self.system.check("delete", after=True)

    def free_busy(
        self, calendars: Sequence[str], window: Interval, *, timeout: float
    ) -> dict[str, list[Interval]]:
        self.system.check("free_busy")
        result: dict[str, list[Interval]] = {}
        with self.system.lock:
            for remote_id in calendars:
                busy = []
                for event in self.system.calendar(remote_id).events.values():
                    if event.deleted or event.blocks is not Blocking.BUSY:
                        continue
                    if not isinstance(event.start, dt.datetime) or not isinstance(
                        event.end, dt.datetime
                    ):
                        continue
                    if event.start < window.end and event.end > window.start:
                        busy.append(Interval(event.start, event.end))
                result[remote_id] = sorted(busy, key=lambda i: i.start)
        return result

    def start_channel(
        self, calendar: str, *, address: str, channel_id: str, token: str, ttl: dt.timedelta
    ) -> PushChannel:
        self.system.check("start_channel")
        with self.system.lock:
            self.system.calendar(calendar)
            channel = PushChannel(channel_id, f"res-{calendar}", clock.now() + ttl)
            self.system.channels[channel_id] = (token, channel)
            return channel

    def stop_channel(self, channel: PushChannel) -> None:
        self.system.check("stop_channel")
        with self.system.lock:
            self.system.channels.pop(channel.channel_id, None)

    def refresh_access(self) -> None:
        self.system.check("refresh")
        self._credentials = self.system.new_credentials

    def credentials(self) -> str | None:
        return self._credentials
