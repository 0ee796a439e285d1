"""Tables of the sync engine: connections, external calendars, mirrors, the outbox, notices.

Nothing here holds an external event's title, description or attendees: foreign events are kept
as times and a busy/free flag only (:class:`RemoteEvent`), our own events as the mirror map.

Work is claimed through leases (``lease_owner``/``lease_until``), never through a shared job
store: any process may die at any moment and another picks the work up when the lease ends.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bridge import clock
from bridge.store.models import Base, Booking, Provider, Timestamped

CONNECTION_OK = "ok"
CONNECTION_NEEDS_REAUTH = "needs_reauth"
CONNECTION_ERROR = "error"
CONNECTION_STATES = (CONNECTION_OK, CONNECTION_NEEDS_REAUTH, CONNECTION_ERROR)

CALENDAR_OK = "ok"
CALENDAR_ERROR = "error"

BLOCKS_BUSY = "busy"
BLOCKS_FREE = "free"
BLOCKS_UNANSWERED = "unanswered"


class Connection(Timestamped, Base):
    """One account of one external system (a Google account, later Microsoft and CalDAV logins).

    ``credentials`` is encrypted with the ``connector-credentials`` key (:mod:`bridge.keys`).
    """

    __tablename__ = "connections"
    __table_args__ = (
        CheckConstraint("status IN ('ok', 'needs_reauth', 'error')", name="status"),
        UniqueConstraint("provider_id", "kind", "account", name="uq_connections_account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(320))
    credentials: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CONNECTION_OK)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime | None]

    provider: Mapped[Provider] = relationship()
    calendars: Mapped[list[ExternalCalendar]] = relationship(
        back_populates="connection", order_by="ExternalCalendar.id", cascade="all, delete-orphan"
    )


class ExternalCalendar(Timestamped, Base):
    """A calendar of a connection: whether it blocks slots, whether bookings go there, its cursor.

    ``cursor`` is the connector's incremental position (Google ``syncToken``); ``None`` means the
    next pull is a full one. ``sync_generation`` grows at the start of every full pull: events
    not seen by it are swept at its end. ``pull_requested_at`` is set by push notifications and
    cleared by the pull that serves them, which coalesces bursts.
    """

    __tablename__ = "external_calendars"
    __table_args__ = (
        CheckConstraint("status IN ('ok', 'error')", name="status"),
        UniqueConstraint("connection_id", "remote_id", name="uq_external_calendars_remote"),
        Index("ix_external_calendars_channel", "channel_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    remote_id: Mapped[str] = mapped_column(String(1024))
    name: Mapped[str] = mapped_column(String(500))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    writable: Mapped[bool] = mapped_column(Boolean, default=True)
    check_conflicts: Mapped[bool] = mapped_column(Boolean, default=False)
    is_destination: Mapped[bool] = mapped_column(Boolean, default=False)

    cursor: Mapped[str | None] = mapped_column(Text)
    sync_generation: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=CALENDAR_OK)
    last_synced_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[dt.datetime | None]
    pull_requested_at: Mapped[dt.datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None]

    channel_id: Mapped[str | None] = mapped_column(String(64))
    channel_token_hash: Mapped[str | None] = mapped_column(String(64))
    channel_resource_id: Mapped[str | None] = mapped_column(String(255))
    channel_expires_at: Mapped[dt.datetime | None]

    breaker_tripped_at: Mapped[dt.datetime | None]

    connection: Mapped[Connection] = relationship(back_populates="calendars")

    @property
    def busy_source(self) -> str:
        """The ``BusyInterval.source`` of this calendar's busy time."""
        return f"calendar:{self.id}"


class RemoteEvent(Base):
    """A foreign event of a conflict calendar, reduced to what availability needs.

    Timed events keep UTC ``start_at``/``end_at``; all-day events keep their dates
    (``start_date`` inclusive, ``end_date`` exclusive), which block whole days in the provider's
    zone. A series master keeps its ``recurrence`` lines and ``time_zone`` and is expanded
    up to ``expanded_until``; an exception (moved or cancelled occurrence) names its series and
    ``original_start``.
    """

    __tablename__ = "remote_events"
    __table_args__ = (
        CheckConstraint("blocks IN ('busy', 'free', 'unanswered')", name="blocks"),
        UniqueConstraint("calendar_id", "remote_id", name="uq_remote_events_remote"),
        Index("ix_remote_events_series", "calendar_id", "series_remote_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("external_calendars.id", ondelete="CASCADE")
    )
    remote_id: Mapped[str] = mapped_column(String(1024))
    series_remote_id: Mapped[str | None] = mapped_column(String(1024))
    original_start: Mapped[str | None] = mapped_column(String(32))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    start_at: Mapped[dt.datetime | None]
    end_at: Mapped[dt.datetime | None]
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    recurrence: Mapped[list[str] | None] = mapped_column(JSON)
    blocks: Mapped[str] = mapped_column(String(16), default=BLOCKS_BUSY)
    seen_generation: Mapped[int] = mapped_column(Integer, default=0)
    expanded_until: Mapped[dt.datetime | None]


class Mirror(Base):
    """Booking <-> its event in one external calendar.

    ``booking_version`` is the booking version the remote event shows (written by us, or
    accepted from a remote move); ``remote_etag`` the event's version as we last saw it, which
    is how the echo of our own write is recognised. ``remote_deleted`` marks an event we
    deleted (or saw deleted) whose id stays reserved.
    """

    __tablename__ = "mirrors"
    __table_args__ = (
        UniqueConstraint("booking_id", "calendar_id", name="uq_mirrors_booking_calendar"),
        UniqueConstraint("calendar_id", "remote_id", name="uq_mirrors_calendar_remote"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("external_calendars.id", ondelete="CASCADE")
    )
    remote_id: Mapped[str] = mapped_column(String(1024))
    remote_etag: Mapped[str | None] = mapped_column(String(255))
    booking_version: Mapped[int] = mapped_column(Integer)
    remote_start: Mapped[dt.datetime | None]
    remote_end: Mapped[dt.datetime | None]
    remote_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    booking: Mapped[Booking] = relationship()
    calendar: Mapped[ExternalCalendar] = relationship()


class OutboxItem(Base):
    """A pending write: make ``calendar``'s copy of ``booking`` match the booking.

    One row per (booking, calendar): a later change of the booking bumps ``booking_version``
    and makes the row due again instead of adding a second. What to write (create, update or
    delete) is decided when the row is drained, from the booking's state then.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("booking_id", "calendar_id", name="uq_outbox_booking_calendar"),
        Index("ix_outbox_due", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("external_calendars.id", ondelete="CASCADE"), index=True
    )
    booking_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[dt.datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None]


NOTICE_CONFLICT = "conflict"
NOTICE_SKIPPED_EVENT = "skipped_event"
NOTICE_MASS_DELETION = "mass_deletion"
NOTICE_WRITE_FAILED = "write_failed"


class SyncNotice(Base):
    """Something the provider should see: a conflict decided, an event skipped, a breaker."""

    __tablename__ = "sync_notices"
    __table_args__ = (Index("ix_sync_notices_provider_open", "provider_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("external_calendars.id", ondelete="SET NULL")
    )
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    resolved_at: Mapped[dt.datetime | None]


class HeldCancellation(Base):
    """A cancellation an inbound pull asked for but the mass-deletion breaker held back."""

    __tablename__ = "held_cancellations"
    __table_args__ = (
        UniqueConstraint("calendar_id", "booking_id", name="uq_held_cancellations_booking"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("external_calendars.id", ondelete="CASCADE")
    )
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    remote_id: Mapped[str] = mapped_column(String(1024))
    held_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class OAuthState(Base):
    """A consent flow in progress: single use, expires in minutes, bound to the provider.

    The ``state`` sent to the authorisation server is stored only as a hash; the PKCE verifier
    is encrypted. ``session_hash`` binds it to a dashboard session when started there.
    """

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    code_verifier: Mapped[str] = mapped_column(Text)
    session_hash: Mapped[str | None] = mapped_column(String(64))
    reconnect_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
