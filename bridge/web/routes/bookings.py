"""``/providers/{slug}/bookings``: book (public), then view, cancel and reschedule.

A booking is acted on with the provider's API token, an admin token, or the booking's own
manage token (``bmt_…``, returned once by the booking request) as ``Authorization: Bearer``.
A client (manage token) may only move a booking to a slot the booking page offers and not
after it has started; the provider may move it outside working hours, but never onto another
booking. Listing and history need the provider's or an admin token.

Booking, cancelling and rescheduling run their own write transactions (they lock the provider);
the response is read back afterwards in a fresh read transaction.

Before a client's booking or move, :mod:`bridge.booking.calendar_guard` applies the stale rule
and asks the provider's conflict calendars live, outside that transaction: busy there is a 409
``slot_unavailable``; a broken, stale or unanswering calendar under the default policy is a 503
``calendar_unavailable``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from bridge.booking import bookings, providers, services
from bridge.booking.bookings import Actor, ClientDetails
from bridge.store import Store
from bridge.store.models import Booking, Provider
from bridge.web.auth import CurrentPrincipal, Principal, booking_actor, require_provider
from bridge.web.deps import ReadSession, StoreDep
from bridge.web.routes.slots import CalendarGuardDep
from bridge.web.schemas import (
    BookingCreated,
    BookingIn,
    BookingList,
    BookingOut,
    ChangeList,
    ChangeOut,
    RescheduleIn,
    error_responses,
)
from bridge.web.timerange import BOUND_HELP, open_range

router = APIRouter(tags=["bookings"], responses=error_responses(401, 403, 404, 409, 422, 503))


def _render(provider: Provider, booking: Booking) -> BookingOut:
    return BookingOut.of(booking, provider, booking.service.name)


def _read_back(store: Store, slug: str, booking_id: int) -> BookingOut:
    with store.read() as session:
        provider = providers.get_provider(session, slug)
        return _render(provider, bookings.get_booking(session, provider.id, booking_id))


def _actor_for(store: Store, principal: Principal, slug: str, booking_id: int) -> Actor:
    with store.read() as session:
        provider = providers.get_provider(session, slug)
        return booking_actor(principal, provider, booking_id)


@router.post("/providers/{slug}/bookings", status_code=201)
def create_booking(
    slug: str,
    body: BookingIn,
    store: StoreDep,
    guard: CalendarGuardDep,
    request: Request,
    response: Response,
) -> BookingCreated:
    """Book a slot (one that ``/slots`` offers). No token needed.

    The response carries the booking's ``manage_token``, shown only here. The provider's
    conflict calendars are checked live first: busy there is a 409 ``slot_unavailable``; a
    broken, stale or unanswering calendar is a 503 ``calendar_unavailable`` (unless the server
    is set to ``stale_calendar_policy = "warn"``).
    """
    client = ClientDetails(
        name=body.client.name,
        email=body.client.email,
        phone=body.client.phone,
        notes=body.client.notes,
    )
    client.validated()  # cheap checks first: a bad e-mail never costs a remote call
    guard.check_booking(store, slug, body.service, body.start)
    new = bookings.book(store, slug, body.service, body.start, client, source="api")
    booking = _read_back(store, slug, new.booking.id)
    response.headers["Location"] = str(
        request.app.url_path_for("get_booking", slug=slug, booking_id=booking.id)
    )
    return BookingCreated(**booking.model_dump(), manage_token=new.manage_token)


@router.get("/providers/{slug}/bookings")
def list_bookings(
    slug: str,
    principal: CurrentPrincipal,
    session: ReadSession,
    start: Annotated[str | None, Query(description=BOUND_HELP)] = None,
    end: Annotated[str | None, Query(description=BOUND_HELP)] = None,
    status: Literal["confirmed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> BookingList:
    """Bookings overlapping ``[start, end)``, earliest first."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    bounds = open_range(start, end, ZoneInfo(provider.time_zone))
    names = {s.id: s.name for s in services.list_services(session, provider.id, active_only=False)}
    found = bookings.list_bookings(
        session, provider.id, start=bounds.start, end=bounds.end, status=status, limit=limit
    )
    return BookingList(bookings=[BookingOut.of(b, provider, names[b.service_id]) for b in found])


@router.get("/providers/{slug}/bookings/{booking_id}")
def get_booking(
    slug: str, booking_id: int, principal: CurrentPrincipal, session: ReadSession
) -> BookingOut:
    provider = providers.get_provider(session, slug)
    booking_actor(principal, provider, booking_id)
    return _render(provider, bookings.get_booking(session, provider.id, booking_id))


@router.post("/providers/{slug}/bookings/{booking_id}/cancel")
def cancel_booking(
    slug: str, booking_id: int, principal: CurrentPrincipal, store: StoreDep
) -> BookingOut:
    """Cancel; cancelling a cancelled booking changes nothing."""
    actor = _actor_for(store, principal, slug, booking_id)
    bookings.cancel(store, slug, booking_id, actor=actor)
    return _read_back(store, slug, booking_id)


@router.post("/providers/{slug}/bookings/{booking_id}/reschedule")
def reschedule_booking(
    slug: str,
    booking_id: int,
    body: RescheduleIn,
    principal: CurrentPrincipal,
    store: StoreDep,
    guard: CalendarGuardDep,
) -> BookingOut:
    """Move the booking to ``start``, keeping its length.

    A client's move (manage token) is checked against the conflict calendars like a booking.
    """
    actor = _actor_for(store, principal, slug, booking_id)
    if actor.is_client:
        guard.check_move(store, slug, booking_id, body.start)
    bookings.reschedule(store, slug, booking_id, body.start, actor=actor)
    return _read_back(store, slug, booking_id)


@router.get("/providers/{slug}/bookings/{booking_id}/history")
def booking_history(
    slug: str, booking_id: int, principal: CurrentPrincipal, session: ReadSession
) -> ChangeList:
    """Every change to the booking, oldest first: who, when, before and after."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    booking = bookings.get_booking(session, provider.id, booking_id)
    return ChangeList(changes=[ChangeOut.of(c) for c in bookings.history(session, booking.id)])
