"""The mass-deletion breaker: a pull that would cancel an unusual number of bookings stops.

During a pull, remote deletions of our events that would cancel a booking are only *held*
(:class:`HeldCancellation` rows). At the end of the pull :func:`settle` looks at them: more
than ``breaker_max_cancellations``, or at least 3 and more than ``breaker_max_share`` of the
provider's upcoming confirmed bookings, trips the breaker — nothing is cancelled, the
calendar's ``breaker_tripped_at`` is set and a ``mass_deletion`` notice asks the provider.
Otherwise they are cancelled at once. While tripped, further deletions join the held ones.
:func:`resolve` applies the provider's answer: confirm cancels them, reject writes the events
again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bridge.booking.bookings import Actor, cancel_in
from bridge.errors import NotFound
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.models import BOOKING_CONFIRMED, Booking, Provider
from bridge.store.sync_models import (
    NOTICE_MASS_DELETION,
    ExternalCalendar,
    HeldCancellation,
    Mirror,
    SyncNotice,
)
from bridge.sync import outbox
from bridge.sync.notices import add_notice
from bridge.sync.scope import Scope

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Settled:
    """What the end of a pull did with the held cancellations."""

    cancelled: int
    held: int


def _valid_holds(session: Session, calendar_id: int) -> list[tuple[HeldCancellation, Booking]]:
    """Held cancellations still meaningful: booking confirmed, its event still deleted."""
    result = []
    for held in session.scalars(
        select(HeldCancellation)
        .where(HeldCancellation.calendar_id == calendar_id)
        .order_by(HeldCancellation.id)
    ):
        booking = session.get(Booking, held.booking_id, populate_existing=True)
        mirror = session.scalar(
            select(Mirror).where(
                Mirror.calendar_id == calendar_id, Mirror.booking_id == held.booking_id
            )
        )
        if (
            booking is None
            or booking.status != BOOKING_CONFIRMED
            or mirror is None
            or not mirror.remote_deleted
        ):
            session.delete(held)
            continue
        result.append((held, booking))
    return result


def _trips(count: int, upcoming: int, settings: Settings) -> bool:
    return count > settings.breaker_max_cancellations or (
        count >= 3 and count > settings.breaker_max_share * upcoming
    )


def settle(session: Session, scope: Scope) -> Settled:
    """At the end of a pull: cancel the held bookings, or trip the breaker (module docstring)."""
    Store.lock_provider(session, scope.provider_id)
    holds = _valid_holds(session, scope.calendar_id)
    calendar = session.get(ExternalCalendar, scope.calendar_id)
    if not holds or calendar is None:
        return Settled(0, 0)
    if calendar.breaker_tripped_at is not None:
        return Settled(0, len(holds))
    upcoming = (
        session.scalar(
            select(func.count()).where(
                Booking.provider_id == scope.provider_id,
                Booking.status == BOOKING_CONFIRMED,
                Booking.start_at > scope.now,
            )
        )
        or 0
    )
    if _trips(len(holds), upcoming, scope.settings):
        calendar.breaker_tripped_at = scope.now
        add_notice(
            session,
            scope.provider_id,
            NOTICE_MASS_DELETION,
            f"{len(holds)} appointments were deleted in {scope.calendar_name} at once. They "
            "are not cancelled until you confirm; reject to put the events back.",
            calendar_id=scope.calendar_id,
            detail={"bookings": [booking.id for _, booking in holds], "upcoming": upcoming},
        )
        log.warning(
            "Mass-deletion breaker tripped for calendar %s of provider %s: %s deletions "
            "(%s upcoming bookings)",
            scope.calendar_id,
            scope.provider_id,
            len(holds),
            upcoming,
        )
        return Settled(0, len(holds))
    provider = session.get(Provider, scope.provider_id)
    if provider is None:
        raise NotFound("provider", scope.provider_id)
    for held, booking in holds:
        cancel_in(session, provider, booking.id, scope.actor(held.remote_id))
        session.delete(held)
        log.info(
            "Cancelled booking %s of provider %s: its event %s was deleted in calendar %s",
            booking.id,
            scope.provider_id,
            held.remote_id,
            scope.calendar_id,
        )
    return Settled(len(holds), 0)


def resolve(session: Session, calendar_id: int, *, confirm: bool, now: dt.datetime) -> int:
    """The provider's answer to a tripped breaker.

    Args:
        confirm: cancel the held bookings (true), or write their events again (false).

    Returns:
        The number of bookings cancelled or restored.

    Raises:
        NotFound: no such calendar.
    """
    calendar = session.get(ExternalCalendar, calendar_id)
    if calendar is None:
        raise NotFound("calendar", calendar_id)
    Store.lock_provider(session, calendar.provider_id)
    provider = session.get(Provider, calendar.provider_id)
    if provider is None:
        raise NotFound("provider", calendar.provider_id)
    holds = _valid_holds(session, calendar_id)
    for held, booking in holds:
        if confirm:
            cancel_in(
                session,
                provider,
                booking.id,
                Actor("breaker", f"{calendar.name}: {held.remote_id}"[:180]),
            )
        else:
            outbox.enqueue(session, booking.id, calendar_id, booking.version)
        session.delete(held)
    calendar.breaker_tripped_at = None
    session.execute(
        update(SyncNotice)
        .where(
            SyncNotice.calendar_id == calendar_id,
            SyncNotice.kind == NOTICE_MASS_DELETION,
            SyncNotice.resolved_at.is_(None),
        )
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    log.info(
        "Mass deletion in calendar %s of provider %s %s: %s bookings",
        calendar_id,
        calendar.provider_id,
        "confirmed" if confirm else "rejected",
        len(holds),
    )
    return len(holds)
