"""The outbox: one row per (booking, external calendar) that still has to be written.

Rows are written in the same transaction as the booking change that needs them
(:func:`enqueue_booking` is called by ``bridge.booking.bookings._record``), so a crash between
the change and the external write only delays the write. A row says *that* a calendar's copy
of a booking must be brought up to date, not *how*: the drainer (:mod:`.drain`) decides what
to write from the booking's state at that moment (:mod:`.plan`). A later change of the same
booking therefore coalesces into the existing row: it bumps ``booking_version`` and makes the
row due now, and a drainer that wrote an older version does not delete the row.

Writers of rows hold the provider's lock (every booking change takes it, and the sync
engine's own writers take it too), so the update-or-insert below cannot race with itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from bridge import clock
from bridge.store.models import BOOKING_CONFIRMED, Booking
from bridge.store.sync_models import ExternalCalendar, Mirror, OutboxItem
from bridge.sync.signals import mark_outbox_written

log = logging.getLogger(__name__)


def enqueue(session: Session, booking_id: int, calendar_id: int, booking_version: int) -> None:
    """Make sure a due row exists for (booking, calendar) at ``booking_version``.

    An existing row is made due now and its failure state is reset (the booking changed, so
    a write that was refused may now succeed).
    """
    now = clock.now()
    result = session.execute(
        update(OutboxItem)
        .where(OutboxItem.booking_id == booking_id, OutboxItem.calendar_id == calendar_id)
        .values(
            booking_version=booking_version,
            next_attempt_at=now,
            attempts=0,
            failed_at=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount == 0:
        session.add(
            OutboxItem(
                booking_id=booking_id,
                calendar_id=calendar_id,
                booking_version=booking_version,
                created_at=now,
                next_attempt_at=now,
            )
        )
        session.flush()
    mark_outbox_written(session)


def target_calendars(session: Session, booking: Booking) -> list[int]:
    """The calendars that must hear about a change of ``booking``.

    Every destination calendar of the provider, and every calendar that holds a live mirror
    of the booking (a former destination must hear about a cancellation too).
    """
    destinations = session.scalars(
        select(ExternalCalendar.id).where(
            ExternalCalendar.provider_id == booking.provider_id,
            ExternalCalendar.is_destination.is_(True),
        )
    )
    mirrored = session.scalars(
        select(Mirror.calendar_id).where(
            Mirror.booking_id == booking.id, Mirror.remote_deleted.is_(False)
        )
    )
    return sorted(set(destinations) | set(mirrored))


def enqueue_booking(session: Session, booking: Booking) -> int:
    """Add (or bump) the outbox rows a change of ``booking`` needs, in the caller's transaction.

    Args:
        session: the write session of the booking change (it holds the provider's lock).
        booking: the booking after the change (flushed, so it has an id).

    Returns:
        The number of rows written.
    """
    calendars = target_calendars(session, booking)
    for calendar_id in calendars:
        enqueue(session, booking.id, calendar_id, booking.version)
    if calendars:
        log.debug(
            "Queued booking %s (version %s) for calendars %s",
            booking.id,
            booking.version,
            calendars,
        )
    return len(calendars)


def enqueue_future_bookings(session: Session, calendar: ExternalCalendar, now: dt.datetime) -> int:
    """Queue every confirmed booking of the calendar's provider that has not ended yet.

    Used when a calendar becomes a destination: its events are created by the drainer.
    """
    rows = session.execute(
        select(Booking.id, Booking.version).where(
            Booking.provider_id == calendar.provider_id,
            Booking.status == BOOKING_CONFIRMED,
            Booking.end_at > now,
        )
    ).all()
    for booking_id, version in rows:
        enqueue(session, booking_id, calendar.id, version)
    return len(rows)


def enqueue_mirror_removals(session: Session, calendar: ExternalCalendar, now: dt.datetime) -> int:
    """Queue the calendar's live mirrors of bookings that have not ended yet.

    Used when a calendar stops being a destination: the plan deletes those events (past ones
    stay as a record).
    """
    rows = session.execute(
        select(Booking.id, Booking.version)
        .join(Mirror, Mirror.booking_id == Booking.id)
        .where(
            Mirror.calendar_id == calendar.id,
            Mirror.remote_deleted.is_(False),
            Booking.end_at > now,
        )
    ).all()
    for booking_id, version in rows:
        enqueue(session, booking_id, calendar.id, version)
    return len(rows)
