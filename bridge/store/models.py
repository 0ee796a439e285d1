"""SQLAlchemy models. Every schema change goes through a migration in ``migrations/versions``.

Times are aware UTC datetimes (:class:`UTCDateTime`); minutes-of-day are integers 0-1440 so that
"until midnight" (1440) is representable.

Overlap queries ("what overlaps [a, b)"): bookings and busy intervals last at most
:data:`MAX_ROW_LENGTH`, so they use the tight range ``start_at > a - MAX_ROW_LENGTH AND
start_at < b`` on ``(provider_id, start_at, end_at)``. Blocked times may be long (a holiday) but
are few; they use ``end_at > a`` on ``(provider_id, end_at)``, which scans only what lies ahead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bridge import clock
from bridge.store.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Bookings and busy-interval rows last at most this long (a CHECK constraint each), so that
# overlap queries can bound ``start_at`` from both sides.
MAX_ROW_LENGTH = dt.timedelta(days=1)

BOOKING_CONFIRMED = "confirmed"
BOOKING_CANCELLED = "cancelled"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class Provider(Timestamped, Base):
    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    time_zone: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))

    services: Mapped[list[Service]] = relationship(
        back_populates="provider", order_by="Service.id", cascade="all, delete-orphan"
    )


class Service(Timestamped, Base):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("slot_step_minutes > 0", name="step_positive"),
        CheckConstraint("buffer_before_minutes >= 0 AND buffer_after_minutes >= 0", name="buffers"),
        CheckConstraint("min_notice_minutes >= 0", name="notice"),
        CheckConstraint("horizon_days > 0", name="horizon_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    slot_step_minutes: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    provider: Mapped[Provider] = relationship(back_populates="services")


class AvailabilityRule(Base):
    """Weekly working hours: ``weekday`` 0 is Monday, minutes count from local midnight."""

    __tablename__ = "availability_rules"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name="minutes",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)


class DateOverride(Base):
    """A change to one local date's hours.

    ``available`` false with no minutes: the whole day off. ``available`` false with minutes:
    those hours off. ``available`` true (minutes required): extra hours on top of the week's.
    """

    __tablename__ = "date_overrides"
    __table_args__ = (
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            "(start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute)",
            name="minutes",
        ),
        CheckConstraint("available = false OR start_minute IS NOT NULL", name="extra_has_hours"),
        Index("ix_date_overrides_provider_date", "provider_id", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    date: Mapped[dt.date] = mapped_column(Date)
    available: Mapped[bool] = mapped_column(Boolean)
    start_minute: Mapped[int | None] = mapped_column(Integer)
    end_minute: Mapped[int | None] = mapped_column(Integer)


class Booking(Timestamped, Base):
    """The single source of truth for an appointment.

    Buffers are copied from the service when booked, so editing a service later does not change
    what an existing booking blocks.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="ordered"),
        CheckConstraint("status IN ('confirmed', 'cancelled')", name="status"),
        Index("ix_bookings_provider_end", "provider_id", "end_at"),
        Index("ix_bookings_provider_start", "provider_id", "start_at", "end_at"),
        # Migration 0002 adds the dialect-specific CHECK ck_bookings_at_most_a_day.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"))
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=BOOKING_CONFIRMED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(32))
    client_name: Mapped[str] = mapped_column(String(200))
    client_email: Mapped[str] = mapped_column(String(320))
    client_phone: Mapped[str | None] = mapped_column(String(64))
    client_notes: Mapped[str | None] = mapped_column(Text)
    manage_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    cancelled_at: Mapped[dt.datetime | None]

    service: Mapped[Service] = relationship()
    provider: Mapped[Provider] = relationship()


class BookingChange(Base):
    """Append-only history: who changed a booking, when, through what, before and after."""

    __tablename__ = "booking_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class BlockedTime(Timestamped, Base):
    __tablename__ = "blocked_times"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="ordered"),
        Index("ix_blocked_times_provider_end", "provider_id", "end_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    summary: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(32), default="api")
    # Set when the block is an occurrence of an event a CalDAV client created in `bookings`.
    dav_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("dav_items.id", ondelete="CASCADE"), index=True
    )


class BusyInterval(Base):
    """Busy time imported from an external calendar: times and the remote id, nothing personal.

    Each row lasts at most :data:`MAX_ROW_LENGTH`; longer busy time is stored in pieces.
    """

    __tablename__ = "busy_intervals"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="ordered"),
        Index("ix_busy_intervals_provider_start", "provider_id", "start_at", "end_at"),
        # Migration 0002 adds the dialect-specific CHECK ck_busy_intervals_at_most_a_day.
        Index("ix_busy_intervals_source_remote", "source", "remote_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(255))
    remote_id: Mapped[str] = mapped_column(String(1024))
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    imported_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ApiToken(Base):
    """A bearer token for the REST API, scoped to one provider or to admin. Stored hashed."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(
            "(is_admin AND provider_id IS NULL) OR (NOT is_admin AND provider_id IS NOT NULL)",
            name="scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    provider: Mapped[Provider | None] = relationship()


class AppPassword(Base):
    """A per-device CalDAV password (SHA-256 of 128+ random bits), labelled and revocable."""

    __tablename__ = "app_passwords"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


FEED_FULL = "full"
FEED_BUSY = "busy"


class FeedToken(Base):
    """The secret of a provider's ICS feed link: hashed for lookup, encrypted for re-display."""

    __tablename__ = "feed_tokens"
    __table_args__ = (CheckConstraint("kind IN ('full', 'busy')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[dt.datetime | None]


DAV_BOOKINGS = "bookings"
DAV_BUSY = "busy"
DAV_USER = "user"


class DavCollection(Timestamped, Base):
    """A calendar (or address book) under a provider's CalDAV principal ``/dav/<slug>/``.

    ``kind`` is ``bookings`` (a projection of the provider's bookings, plus events the provider
    created there), ``busy`` (a read-only projection of imported busy time) or ``user`` (stored
    as the client sent it). ``revision`` grows with every change of an item; each change is
    logged in :class:`DavChange`, and sync tokens name ``(sync_key, revision)``.
    """

    __tablename__ = "dav_collections"
    __table_args__ = (
        CheckConstraint("kind IN ('bookings', 'busy', 'user')", name="kind"),
        UniqueConstraint("provider_id", "name", name="uq_dav_collections_provider_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    sync_key: Mapped[str] = mapped_column(String(32), unique=True)
    props: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # Changes at or below this revision were pruned: older sync tokens are invalid.
    pruned_revision: Mapped[int] = mapped_column(Integer, default=0)


class DavItem(Base):
    """One calendar object resource, with what Radicale needs cached in columns.

    ``start_ts``/``end_ts`` are Radicale's POSIX time range of the object (all occurrences of a
    recurring event; unbounded series reach Radicale's TIMESTAMP_MAX), so time-range REPORTs
    are answered from the index. ``booking_id`` links a projected booking's event; ``overlay``
    keeps what a client added to it (alarms, categories, X- properties).
    """

    __tablename__ = "dav_items"
    __table_args__ = (
        UniqueConstraint("collection_id", "href", name="uq_dav_items_collection_href"),
        Index("ix_dav_items_collection_uid", "collection_id", "uid"),
        Index("ix_dav_items_collection_range", "collection_id", "start_ts", "end_ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("dav_collections.id", ondelete="CASCADE"))
    href: Mapped[str] = mapped_column(String(255))
    uid: Mapped[str] = mapped_column(String(1024))
    component: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(80))
    start_ts: Mapped[int] = mapped_column(BigInteger)
    end_ts: Mapped[int] = mapped_column(BigInteger)
    revision: Mapped[int] = mapped_column(Integer)
    last_modified: Mapped[dt.datetime] = mapped_column(default=clock.now)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    busy_interval_id: Mapped[int | None] = mapped_column(
        ForeignKey("busy_intervals.id", ondelete="CASCADE"), unique=True
    )
    overlay: Mapped[str | None] = mapped_column(Text)


class DavChange(Base):
    """Change log of a collection: ``href`` changed (or was deleted) at ``revision``."""

    __tablename__ = "dav_changes"
    __table_args__ = (Index("ix_dav_changes_collection_revision", "collection_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("dav_collections.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    href: Mapped[str] = mapped_column(String(255))
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
