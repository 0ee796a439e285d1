"""Remote changes of our own events (mirrors): echoes, moves, edits and deletions.

What a change means is decided by :mod:`.policy` from the two sides: the booking side is
"changed" when the booking's version is ahead of the version its mirror shows (or it was
cancelled, or this calendar no longer receives it), the remote side "moved" when the event's
times differ from those we last saw. An event whose etag is the mirror's is the echo of our
own write and is ignored; one whose times already match the booking only updates the etag.

Accepting a remote move reschedules the booking with the provider-side rule inside a
savepoint; when that rule refuses, the mirror is marked behind so the outbox puts the event
back, and the provider gets a ``conflict`` notice. Accepting a remote delete does not cancel
at once: it is held for the mass-deletion breaker (:mod:`.breaker`) at the end of the pull.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.booking.bookings import reschedule_in
from bridge.connectors.base import RemoteEvent as Change
from bridge.errors import InvalidStateChange, SlotUnavailable, ValidationFailed
from bridge.store.models import BOOKING_CONFIRMED, Booking, Provider
from bridge.store.sync_models import NOTICE_CONFLICT, HeldCancellation, Mirror
from bridge.sync import outbox
from bridge.sync.notices import add_notice
from bridge.sync.policy import ConflictPolicy, Local, Outcome, Remote
from bridge.sync.scope import Scope

log = logging.getLogger(__name__)


class Result(enum.Enum):
    """What a remote change of one of our events led to."""

    ECHO = "echo"
    SEEN = "seen"  # etag (and remote times) updated, nothing else
    RESCHEDULED = "rescheduled"
    PUT_BACK = "put_back"
    OVERWRITTEN = "overwritten"  # the booking side wins over a remote change
    RESTORED = "restored"  # an event we considered deleted is back
    HELD = "held"
    AGREED = "agreed"
    IGNORED = "ignored"


def local_state(booking: Booking, mirror: Mirror, scope: Scope) -> Local:
    """The booking side of a mirror (see the module docstring)."""
    if booking.status != BOOKING_CONFIRMED:
        return Local.CANCELLED
    if not scope.is_destination and booking.end_at > scope.now:
        return Local.CANCELLED
    if booking.version > mirror.booking_version:
        return Local.CHANGED
    return Local.UNCHANGED


def _timed(event: Change) -> tuple[dt.datetime, dt.datetime] | None:
    if isinstance(event.start, dt.datetime) and isinstance(event.end, dt.datetime):
        return event.start.astimezone(dt.UTC), event.end.astimezone(dt.UTC)
    return None


def _see(mirror: Mirror, event: Change) -> None:
    mirror.remote_etag = event.etag
    times = _timed(event)
    if times is not None:
        mirror.remote_start, mirror.remote_end = times


def _local(scope: Scope, instant: dt.datetime) -> str:
    return instant.astimezone(scope.provider_zone).strftime("%a %d %b %Y %H:%M")


def _put_behind(session: Session, scope: Scope, mirror: Mirror, booking: Booking) -> None:
    """Make the outbox rewrite the event from the booking."""
    mirror.booking_version = min(mirror.booking_version, booking.version - 1)
    outbox.enqueue(session, booking.id, scope.calendar_id, booking.version)


def remote_changed(
    session: Session, scope: Scope, mirror: Mirror, event: Change, policy: ConflictPolicy
) -> Result:
    """Apply a pulled change of one of our events."""
    if event.etag is not None and event.etag == mirror.remote_etag and not mirror.remote_deleted:
        return Result.ECHO
    booking = session.get(Booking, mirror.booking_id, populate_existing=True)
    if booking is None:
        return Result.IGNORED
    times = _timed(event)
    if mirror.remote_deleted:
        mirror.remote_deleted = False
        _see(mirror, event)
        _put_behind(session, scope, mirror, booking)
        log.info(
            "Event %s of booking %s is back in calendar %s; it will be rewritten",
            event.remote_id,
            booking.id,
            scope.calendar_id,
        )
        return Result.RESTORED
    if times == (booking.start_at, booking.end_at):
        _see(mirror, event)
        return Result.SEEN
    remote = Remote.EDITED if times == (mirror.remote_start, mirror.remote_end) else Remote.MOVED
    local = local_state(booking, mirror, scope)
    decision = policy(local, remote)
    if decision.outcome is Outcome.NOTHING:
        _see(mirror, event)
        return Result.SEEN
    if decision.outcome is Outcome.KEEP_LOCAL:
        _see(mirror, event)
        _put_behind(session, scope, mirror, booking)
        if not decision.overwrites_remote:
            return Result.SEEN
        moved_to = f" to {_local(scope, times[0])}" if times else ""
        _conflict(
            session,
            scope,
            booking,
            event.remote_id,
            f"The appointment of {booking.client_name} was moved{moved_to} in "
            f"{scope.calendar_name}, but it had also changed here; the booking system's "
            "version was kept and the event rewritten.",
        )
        return Result.OVERWRITTEN
    return _reschedule(session, scope, mirror, booking, event)


def _reschedule(
    session: Session, scope: Scope, mirror: Mirror, booking: Booking, event: Change
) -> Result:
    times = _timed(event)
    provider = session.get(Provider, scope.provider_id)
    reason = "an all-day event cannot hold an appointment"
    if times is not None and provider is not None:
        try:
            with session.begin_nested():
                moved = reschedule_in(
                    session, provider, booking.id, times[0], scope.actor(event.remote_id)
                )
        except (SlotUnavailable, InvalidStateChange, ValidationFailed) as exc:
            reason = str(exc)
        else:
            _see(mirror, event)
            if moved.start_at == times[0] and moved.end_at == times[1]:
                mirror.booking_version = moved.version
            else:  # another length: the booking keeps its own, the event is rewritten
                _put_behind(session, scope, mirror, moved)
            log.info(
                "Rescheduled booking %s of provider %s to %s after a move of event %s in "
                "calendar %s",
                booking.id,
                scope.provider_id,
                moved.start_at.isoformat(),
                event.remote_id,
                scope.calendar_id,
            )
            return Result.RESCHEDULED
    booking = session.get(Booking, booking.id, populate_existing=True) or booking
    _see(mirror, event)
    _put_behind(session, scope, mirror, booking)
    where = f" to {_local(scope, times[0])}" if times else ""
    _conflict(
        session,
        scope,
        booking,
        event.remote_id,
        f"The appointment of {booking.client_name} was moved{where} in {scope.calendar_name}, "
        f"but {reason}; it was put back at {_local(scope, booking.start_at)}.",
    )
    log.info(
        "Refused the move of event %s (booking %s) in calendar %s: %s; putting it back",
        event.remote_id,
        booking.id,
        scope.calendar_id,
        reason,
    )
    return Result.PUT_BACK


def remote_deleted(
    session: Session, scope: Scope, mirror: Mirror, policy: ConflictPolicy
) -> Result:
    """Apply the deletion of one of our events (seen in a pull, or missing from a full pull)."""
    if mirror.remote_deleted:
        return Result.IGNORED
    booking = session.get(Booking, mirror.booking_id, populate_existing=True)
    if booking is None:
        return Result.IGNORED
    local = local_state(booking, mirror, scope)
    decision = policy(local, Remote.DELETED)
    mirror.remote_deleted = True
    mirror.remote_etag = None
    if decision.outcome is Outcome.NOTHING:
        mirror.booking_version = booking.version
        return Result.AGREED
    if decision.outcome is Outcome.KEEP_LOCAL:
        _put_behind(session, scope, mirror, booking)
        if decision.overwrites_remote:
            _conflict(
                session,
                scope,
                booking,
                mirror.remote_id,
                f"The appointment of {booking.client_name} was deleted in "
                f"{scope.calendar_name}, but it had changed here since; it was not cancelled "
                "and the event was created again.",
            )
        return Result.OVERWRITTEN
    if booking.end_at <= scope.now:
        return Result.IGNORED  # a past appointment stays as it was
    held = session.scalar(
        select(HeldCancellation).where(
            HeldCancellation.calendar_id == scope.calendar_id,
            HeldCancellation.booking_id == booking.id,
        )
    )
    if held is None:
        session.add(
            HeldCancellation(
                calendar_id=scope.calendar_id,
                booking_id=booking.id,
                remote_id=mirror.remote_id,
                held_at=scope.now,
            )
        )
    return Result.HELD


def _conflict(session: Session, scope: Scope, booking: Booking, remote_id: str, text: str) -> None:
    add_notice(
        session,
        scope.provider_id,
        NOTICE_CONFLICT,
        text,
        calendar_id=scope.calendar_id,
        booking_id=booking.id,
        detail={"remote_id": remote_id},
    )
    log.info("Conflict on booking %s in calendar %s: %s", booking.id, scope.calendar_id, text)
