"""The one interface the sync engine uses for every external calendar system.

Vocabulary (every connector and the engine use these words in this sense):

- **calendar**: the remote system's id of one calendar of the connected account (a Google
  calendar id, a Graph calendar id, a CalDAV collection URL). Opaque.
- **remote id**: the remote system's id of one event in one calendar (Google event id, Graph
  event id, CalDAV href). Opaque: never parsed.
- **etag**: the event's version as the remote system tags it; it changes on every change.
  Opaque; ``None`` when the system has none.
- **cursor**: the position of an incremental pull (Google ``syncToken``, Graph ``deltaLink``,
  CalDAV sync token). ``None`` asks for a full pull.
- **marker**: the booking UID we stamp on every event we write (Google
  ``extendedProperties.private``, a Graph extended property, a CalDAV ``X-`` property); it tells
  our mirrors apart from foreign events.
- **ident**: the iCalendar UID of an event, which tools that copy events between calendars keep
  while they drop our marker.

Errors are the types of :mod:`bridge.connectors.errors`; a connector translates its library's
errors into them in one place.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from typing import ClassVar

from bridge.availability import Interval
from bridge.connectors.errors import RemoteRejected

EventTime = dt.datetime | dt.date
"""An aware datetime for a timed event; a date for an all-day event (the end is exclusive)."""


class Blocking(enum.StrEnum):
    """What a foreign event does to availability, as the remote system tells it.

    ``FREE`` covers transparent, cancelled, declined and working-location events; ``UNANSWERED``
    an invitation the provider has not answered (a setting decides whether it blocks).
    """

    BUSY = "busy"
    FREE = "free"
    UNANSWERED = "unanswered"


@dataclasses.dataclass(frozen=True, slots=True)
class CalendarInfo:
    remote_id: str
    name: str
    time_zone: str | None
    primary: bool
    writable: bool


@dataclasses.dataclass(frozen=True, slots=True)
class RemoteEvent:
    """An event as a pull sees it: times and busy status, nothing personal.

    A series master carries ``recurrence`` (RFC 5545 ``RRULE``/``RDATE``/``EXDATE`` lines,
    expanded in ``time_zone`` from ``start``). An occurrence that differs from its series (an
    exception) names the series in ``series_id`` and its unmoved start in ``original_start``.
    """

    remote_id: str
    etag: str | None
    start: EventTime
    end: EventTime
    blocks: Blocking
    time_zone: str | None = None
    recurrence: tuple[str, ...] = ()
    series_id: str | None = None
    original_start: EventTime | None = None
    ident: str | None = None
    marker: str | None = None

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, dt.datetime)


@dataclasses.dataclass(frozen=True, slots=True)
class RemoteDeletion:
    """An event that is gone; for a cancelled occurrence of a series, which one."""

    remote_id: str
    series_id: str | None = None
    original_start: EventTime | None = None


RemoteChange = RemoteEvent | RemoteDeletion


@dataclasses.dataclass(frozen=True, slots=True)
class SkippedEvent:
    """A remote event the connector could not make sense of; the rest of the pull goes on."""

    remote_id: str
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class PullPage:
    """One page of a pull. Only the last page carries the new ``cursor``."""

    changes: Sequence[RemoteChange]
    skipped: Sequence[SkippedEvent] = ()
    cursor: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class OutboundEvent:
    """A booking as we write it to an external calendar (never with attendees)."""

    booking_uid: str
    summary: str
    description: str
    start: dt.datetime
    end: dt.datetime
    time_zone: str


@dataclasses.dataclass(frozen=True, slots=True)
class WrittenEvent:
    """What a write left in the remote calendar."""

    remote_id: str
    etag: str | None
    start: dt.datetime
    end: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class PushChannel:
    """A push subscription on one calendar; ``resource_id`` is what stopping it needs."""

    channel_id: str
    resource_id: str
    expires_at: dt.datetime


class Connector(abc.ABC):
    """One connected account of an external calendar system.

    Instances are cheap and not shared between threads: the engine builds one per job.

    Attributes:
        kind: the registry name (``google``, ``graph``, ``caldav``).
        supports_push: whether :meth:`start_channel` works; otherwise the engine polls.
    """

    kind: ClassVar[str]
    supports_push: ClassVar[bool] = False

    @abc.abstractmethod
    def account(self) -> str:
        """The account's address (e.g. the Google account's e-mail), shown to the provider.

        Raises:
            NeedsReauth, Transient, RemoteRejected.
        """

    @abc.abstractmethod
    def list_calendars(self) -> list[CalendarInfo]:
        """Every calendar of the account, the primary one marked.

        Raises:
            NeedsReauth, Transient, RemoteRejected.
        """

    @abc.abstractmethod
    def pull(self, calendar: str, cursor: str | None) -> Iterator[PullPage]:
        """Changes since ``cursor`` (everything when ``None``), page by page.

        Nothing is held in memory beyond one page. A full pull yields every live event; the
        engine forgets what it does not see.

        Raises:
            CursorExpired: start again with ``cursor=None``.
            RemoteNotFound: the calendar is gone.
            NeedsReauth, Transient, RemoteRejected.
        """

    @abc.abstractmethod
    def get_event(self, calendar: str, remote_id: str) -> RemoteEvent | None:
        """The event as it is now, or ``None`` if it is deleted or unknown.

        Raises:
            NeedsReauth, Transient, RemoteRejected, RemoteNotFound (the calendar is gone).
        """

    @abc.abstractmethod
    def create_event(self, calendar: str, event: OutboundEvent) -> WrittenEvent:
        """Create the booking's event, idempotently.

        The remote id derives from ``event.booking_uid``, so a retry after a lost answer finds
        the first attempt's event and makes it match instead of creating a second.

        Raises:
            NeedsReauth, Transient, RemoteRejected, RemoteNotFound (the calendar is gone).
        """

    @abc.abstractmethod
    def update_event(
        self, calendar: str, remote_id: str, event: OutboundEvent, *, etag: str | None
    ) -> WrittenEvent:
        """Make the event match ``event``, if it is still at ``etag`` (any version if ``None``).

        Raises:
            PreconditionFailed: the event changed since ``etag``.
            RemoteNotFound: the event (or calendar) is gone.
            NeedsReauth, Transient, RemoteRejected.
        """

    @abc.abstractmethod
    def delete_event(self, calendar: str, remote_id: str, *, etag: str | None) -> None:
        """Delete the event; an event that is already gone counts as deleted.

        Raises:
            PreconditionFailed: the event changed since ``etag``.
            NeedsReauth, Transient, RemoteRejected.
        """

    @abc.abstractmethod
    def free_busy(
        self, calendars: Sequence[str], window: Interval, *, timeout: float
    ) -> dict[str, list[Interval]]:
        """Busy time of ``calendars`` in ``window`` asked live, within ``timeout`` seconds.

        Raises:
            Transient: including when the answer does not come in time.
            NeedsReauth, RemoteRejected.
        """

    def start_channel(
        self, calendar: str, *, address: str, channel_id: str, token: str, ttl: dt.timedelta
    ) -> PushChannel:
        """Ask the remote system to notify ``address`` when ``calendar`` changes.

        Raises:
            RemoteRejected: this connector has no push (``supports_push`` is false).
            NeedsReauth, Transient, RemoteNotFound.
        """
        raise RemoteRejected(f"{self.kind} calendars have no push notifications")

    def stop_channel(self, channel: PushChannel) -> None:
        """Stop notifications of ``channel``; an unknown or expired channel counts as stopped.

        Raises:
            NeedsReauth, Transient.
        """
        raise RemoteRejected(f"{self.kind} calendars have no push notifications")

    def refresh_access(self) -> None:
        """Renew short-lived access (an OAuth access token) now, ahead of its expiry.

        The default asks for the account, which proves the credentials still work.

        Raises:
            NeedsReauth: the credentials were revoked or expired.
            Transient.
        """
        self.account()

    def credentials(self) -> str | None:
        """The credentials as they are now, if they changed (a refreshed token), to store."""
        return None
