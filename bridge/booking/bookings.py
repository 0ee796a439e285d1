"""Book, cancel and reschedule, with no double booking.

Each operation runs in one write transaction that first locks the provider
(:meth:`Store.lock_provider`), then checks the slot, then writes the booking and its history row.
Two attempts at the same slot therefore run one after the other, and the second sees the first's
booking. On PostgreSQL an exclusion constraint backs this up.

Who may move a booking where (one rule for every path, see ``docs/architecture.md``): a client's
booking or move must land on a slot the booking page would offer right now (the booking's own
time does not block its move); a provider-side move may leave working hours, but may not overlap
another confirmed booking, counting both bookings' buffers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge import clock, ical
from bridge.availability import Interval
from bridge.booking import slots
from bridge.booking.providers import get_provider
from bridge.booking.secrets import MANAGE_TOKEN_PREFIX, hash_secret, new_secret
from bridge.booking.services import get_service
from bridge.booking.validation import check_email, check_text
from bridge.dav import projection
from bridge.errors import InvalidStateChange, NotFound, SlotUnavailable, ValidationFailed
from bridge.store import Store
from bridge.store.models import (
    BOOKING_CANCELLED,
    BOOKING_CONFIRMED,
    Booking,
    BookingChange,
    Provider,
)
from bridge.sync import outbox

log = logging.getLogger(__name__)

_EXCLUSION_VIOLATION = "23P01"


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who makes a change, as recorded in the booking's history.

    ``kind`` is ``client`` (holder of the booking's manage token) or a provider-side kind:
    ``provider`` (the provider's API token), ``admin``, ``cli``.
    """

    kind: str
    label: str = ""

    @property
    def is_client(self) -> bool:
        return self.kind == "client"

    def __str__(self) -> str:
        return f"{self.kind}:{self.label}" if self.label else self.kind


CLIENT = Actor("client")


@dataclasses.dataclass(frozen=True)
class ClientDetails:
    name: str
    email: str
    phone: str | None = None
    notes: str | None = None

    def validated(self) -> ClientDetails:
        """Return the details trimmed and checked.

        Raises:
            ValidationFailed: with every problem found, keyed ``client.<field>``.
        """
        problems: dict[str, str] = {}
        values: dict[str, str] = {}
        checks: list[tuple[str, Callable[[], str]]] = [
            ("name", lambda: check_text(self.name, "client.name", max_length=200)),
            ("email", lambda: check_email(self.email, "client.email")),
        ]
        if self.phone:
            checks.append(("phone", lambda: _check_phone(self.phone or "")))
        if self.notes:
            checks.append(
                ("notes", lambda: check_text(self.notes or "", "client.notes", max_length=5000))
            )
        for name, check in checks:
            try:
                values[name] = check()
            except ValidationFailed as exc:
                problems.update(exc.fields)
        if problems:
            raise ValidationFailed(problems)
        return ClientDetails(
            name=values["name"],
            email=values["email"],
            phone=values.get("phone"),
            notes=values.get("notes"),
        )


def _check_phone(phone: str) -> str:
    phone = check_text(phone, "client.phone", max_length=64)
    if (
        not all(ch.isdigit() or ch in "+-() ./" for ch in phone)
        or sum(ch.isdigit() for ch in phone) < 5
    ):
        raise ValidationFailed({"client.phone": "expected a phone number such as +49 30 1234567"})
    return phone


@dataclasses.dataclass(frozen=True)
class NewBooking:
    booking: Booking
    manage_token: str


@dataclasses.dataclass(frozen=True)
class Hooks:
    """Test seam: ``after_check`` runs after the slot was found free, before the write."""

    after_check: Callable[[], None] = lambda: None


NO_HOOKS = Hooks()


def _snapshot(booking: Booking) -> dict[str, Any]:
    return {
        "start": booking.start_at.isoformat(),
        "end": booking.end_at.isoformat(),
        "status": booking.status,
        "version": booking.version,
    }


def _record(
    session: Session,
    booking: Booking,
    action: str,
    actor: Actor,
    before: dict[str, Any] | None,
) -> None:
    session.add(
        BookingChange(
            booking_id=booking.id,
            action=action,
            actor=str(actor),
            version=booking.version,
            before=before,
            after=_snapshot(booking),
        )
    )
    projection.project_booking(session, booking)
    # The external calendars hear about the change through outbox rows committed with it.
    outbox.enqueue_booking(session, booking)


def _flush_or_conflict(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == _EXCLUSION_VIOLATION:
            raise SlotUnavailable("the time overlaps another booking") from exc
        raise


def _require_aware(value: dt.datetime, field: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed({field: "needs a UTC offset, e.g. 2026-05-04T09:00:00+02:00"})


def book(
    store: Store,
    provider_slug: str,
    service_id: int,
    start: dt.datetime,
    client: ClientDetails,
    *,
    source: str,
    actor: Actor = CLIENT,
    hooks: Hooks = NO_HOOKS,
) -> NewBooking:
    """Book ``start`` for a client; the slot must be one the booking page offers now.

    Raises:
        NotFound: no such provider.
        ValidationFailed: bad client details, naive start, unknown or inactive service.
        SlotUnavailable: the slot is not (or no longer) free.
    """
    _require_aware(start, "start")
    details = client.validated()
    start = start.astimezone(dt.UTC)
    manage_token = new_secret(MANAGE_TOKEN_PREFIX)
    with store.write() as session:
        provider = get_provider(session, provider_slug)
        Store.lock_provider(session, provider.id)
        try:
            service = get_service(session, provider.id, service_id)
        except NotFound:
            raise ValidationFailed(
                {"service": f"no service {service_id} for this provider"}
            ) from None
        if not service.active:
            raise ValidationFailed({"service": "this service is not offered any more"})
        if not slots.is_free_slot(session, provider, service, start, clock.now()):
            raise SlotUnavailable("this time is not available; pick another slot")
        hooks.after_check()
        booking = Booking(
            uid=f"{uuid.uuid4()}@{ical.UID_DOMAIN}",
            provider_id=provider.id,
            service_id=service.id,
            start_at=start,
            end_at=start + dt.timedelta(minutes=service.duration_minutes),
            buffer_before_minutes=service.buffer_before_minutes,
            buffer_after_minutes=service.buffer_after_minutes,
            status=BOOKING_CONFIRMED,
            version=1,
            source=source,
            client_name=details.name,
            client_email=details.email,
            client_phone=details.phone,
            client_notes=details.notes,
            manage_token_hash=hash_secret(manage_token),
        )
        session.add(booking)
        _flush_or_conflict(session)
        _record(session, booking, "created", actor, None)
    log.info(
        "Booked %s for provider %s at %s (booking %s, %s)",
        service.name,
        provider_slug,
        start.isoformat(),
        booking.id,
        actor,
    )
    return NewBooking(booking, manage_token)


def _load_for_change(session: Session, provider_id: int, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id, populate_existing=True)
    if booking is None or booking.provider_id != provider_id:
        raise NotFound("booking", booking_id)
    return booking


def _client_may_change(booking: Booking, actor: Actor) -> None:
    if actor.is_client and booking.start_at <= clock.now():
        raise InvalidStateChange("this appointment has already started; contact the provider")


def cancel(
    store: Store, provider_slug: str, booking_id: int, *, actor: Actor, hooks: Hooks = NO_HOOKS
) -> Booking:
    """Cancel a booking; cancelling a cancelled booking changes nothing.

    Raises:
        NotFound: no such provider or booking.
        InvalidStateChange: a client cancelling an appointment that has started.
    """
    with store.write() as session:
        return cancel_in(session, get_provider(session, provider_slug), booking_id, actor, hooks)


def cancel_in(
    session: Session, provider: Provider, booking_id: int, actor: Actor, hooks: Hooks = NO_HOOKS
) -> Booking:
    """:func:`cancel` inside the caller's write transaction (e.g. a CalDAV DELETE)."""
    Store.lock_provider(session, provider.id)
    booking = _load_for_change(session, provider.id, booking_id)
    if booking.status == BOOKING_CANCELLED:
        return booking
    _client_may_change(booking, actor)
    hooks.after_check()
    before = _snapshot(booking)
    booking.status = BOOKING_CANCELLED
    booking.cancelled_at = clock.now()
    booking.version += 1
    session.flush()
    _record(session, booking, "cancelled", actor, before)
    log.info("Cancelled booking %s of provider %s (%s)", booking_id, provider.slug, actor)
    return booking


def reschedule(
    store: Store,
    provider_slug: str,
    booking_id: int,
    new_start: dt.datetime,
    *,
    actor: Actor,
    hooks: Hooks = NO_HOOKS,
) -> Booking:
    """Move a booking to ``new_start``, keeping its length (see the module docstring's rule).

    Raises:
        NotFound: no such provider or booking.
        ValidationFailed: a naive start.
        InvalidStateChange: the booking is cancelled, or a client moves one that has started.
        SlotUnavailable: the new time is not allowed for this actor.
    """
    _require_aware(new_start, "start")
    with store.write() as session:
        provider = get_provider(session, provider_slug)
        return reschedule_in(session, provider, booking_id, new_start, actor, hooks)


def reschedule_in(
    session: Session,
    provider: Provider,
    booking_id: int,
    new_start: dt.datetime,
    actor: Actor,
    hooks: Hooks = NO_HOOKS,
) -> Booking:
    """:func:`reschedule` inside the caller's write transaction (e.g. a CalDAV PUT)."""
    _require_aware(new_start, "start")
    new_start = new_start.astimezone(dt.UTC)
    Store.lock_provider(session, provider.id)
    booking = _load_for_change(session, provider.id, booking_id)
    if booking.status != BOOKING_CONFIRMED:
        raise InvalidStateChange("a cancelled booking cannot be rescheduled")
    _client_may_change(booking, actor)
    if new_start == booking.start_at:
        return booking
    length = booking.end_at - booking.start_at
    # The booking keeps its own length and buffers, which may differ from the service's
    # current ones: whoever moves it, it may not overlap another booking.
    moved = Interval(
        new_start - dt.timedelta(minutes=booking.buffer_before_minutes),
        new_start + length + dt.timedelta(minutes=booking.buffer_after_minutes),
    )
    free = not slots.booking_intervals(session, provider.id, moved, exclude_booking_id=booking.id)
    if free and actor.is_client:
        free = slots.is_free_slot(
            session,
            provider,
            booking.service,
            new_start,
            clock.now(),
            exclude_booking_id=booking.id,
        )
    if not free:
        raise SlotUnavailable("the new time is not available")
    hooks.after_check()
    before = _snapshot(booking)
    booking.start_at = new_start
    booking.end_at = new_start + length
    booking.version += 1
    _flush_or_conflict(session)
    _record(session, booking, "rescheduled", actor, before)
    log.info(
        "Rescheduled booking %s of provider %s to %s (%s)",
        booking_id,
        provider.slug,
        new_start.isoformat(),
        actor,
    )
    return booking


def get_booking(session: Session, provider_id: int, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None or booking.provider_id != provider_id:
        raise NotFound("booking", booking_id)
    return booking


def find_by_manage_token(session: Session, token: str) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.manage_token_hash == hash_secret(token)))


def list_bookings(
    session: Session,
    provider_id: int,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[Booking]:
    """Bookings overlapping [start, end), oldest first."""
    query = select(Booking).where(Booking.provider_id == provider_id)
    if start is not None:
        query = query.where(Booking.end_at > start)
    if end is not None:
        query = query.where(Booking.start_at < end)
    if status is not None:
        query = query.where(Booking.status == status)
    return list(session.scalars(query.order_by(Booking.start_at, Booking.id).limit(limit)))


def history(session: Session, booking_id: int) -> list[BookingChange]:
    return list(
        session.scalars(
            select(BookingChange)
            .where(BookingChange.booking_id == booking_id)
            .order_by(BookingChange.id)
        )
    )
