"""Calendar connections and their sync, under ``/api/v1/providers/{slug}/``.

- ``POST connections/{kind}``: start connecting an account; the answer's ``consent_url`` is
  opened in a browser, and ``/oauth/{kind}/callback`` finishes (:mod:`.oauth`);
- ``GET connections``: the connected accounts and their calendars;
- ``PATCH calendars/{id}``: whether a calendar blocks slots (``check_conflicts``) and whether it
  receives the bookings (``is_destination``);
- ``DELETE connections/{id}?remove_events=…``: disconnect (push channels stopped, access
  revoked, busy time purged; with ``remove_events=true`` the events we wrote are deleted too);
- ``GET sync/status``, ``GET sync/notices``: per calendar state, and what the provider should
  look at (conflicts decided, events skipped, breakers tripped);
- ``POST calendars/{id}/sync``: pull now, in the background (202);
- ``POST calendars/{id}/breaker``: confirm or reject the cancellations a breaker held.

The provider's API token or an admin token; another provider's connection or calendar is 404.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, FastAPI, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse

from bridge import clock, oauth
from bridge.booking import providers
from bridge.connectors.errors import NeedsReauth
from bridge.errors import NotFound
from bridge.store.models import Provider
from bridge.store.sync_models import Connection
from bridge.sync import connections, notices
from bridge.sync.engine import SyncEngine
from bridge.web.auth import CurrentPrincipal, Principal, require_provider
from bridge.web.deps import ReadSession, StoreDep, WriteSession
from bridge.web.errors import error_response
from bridge.web.schemas import RequestBody, error_responses
from bridge.web.sync_deps import (
    EngineDep,
    KeyringDep,
    SchedulerDep,
    ask_for_pull,
    newly_watched,
)

logger = logging.getLogger(__name__)

router = APIRouter(tags=["connections"], responses=error_responses(401, 403, 404, 422))

ConnectorKind = Literal["google"]


# -- bodies -------------------------------------------------------------------------------------


class ConnectIn(RequestBody):
    reconnect: int | None = Field(
        default=None,
        description="A connection to renew (e.g. one that needs re-authorisation); the same "
        "account must sign in.",
    )


class ConsentOut(BaseModel):
    consent_url: str = Field(
        description="Open in a browser signed in to the account; works once, for 10 minutes."
    )
    expires_at: dt.datetime


class CalendarOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    connection_id: int
    name: str
    remote_id: str = Field(description="The calendar's id in the external system.")
    time_zone: str | None
    primary: bool = Field(validation_alias="is_primary")
    writable: bool
    check_conflicts: bool = Field(description="Its busy time blocks slots.")
    is_destination: bool = Field(description="Bookings are written to it.")


class ConnectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str = Field(examples=["google"])
    account: str = Field(examples=["dr.smith@gmail.com"])
    status: Literal["ok", "needs_reauth", "error"]
    status_reason: str | None
    created_at: dt.datetime
    calendars: list[CalendarOut]


class ConnectionList(BaseModel):
    connections: list[ConnectionOut]


class CalendarOptionsIn(RequestBody):
    check_conflicts: bool | None = None
    is_destination: bool | None = None


class SyncRequested(BaseModel):
    calendar_id: int
    full: bool
    status: Literal["queued"] = "queued"


class BreakerIn(RequestBody):
    confirm: bool = Field(
        description="true: cancel the held bookings; false: keep them and restore their events."
    )


class BreakerOut(BaseModel):
    calendar_id: int
    confirmed: bool
    bookings: int = Field(description="Held cancellations carried out (or released).")


class CalendarStatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    calendar_id: int
    calendar_name: str
    connection_id: int
    kind: str = Field(examples=["google"])
    account: str
    state: Literal["ok", "needs_reauth", "error"] = Field(
        description="`needs_reauth`: connect the account again (its sync is paused); `error`: "
        "the calendar cannot be synced (see `reason`)."
    )
    reason: str | None
    check_conflicts: bool
    is_destination: bool
    last_synced_at: dt.datetime | None
    last_error: str | None
    pending_writes: int = Field(description="Booking changes waiting to be written to it.")
    failed_writes: int = Field(description="Writes that gave up (see `sync/notices`).")
    held_cancellations: int = Field(
        description="Cancellations the mass-deletion breaker holds (see `…/breaker`)."
    )
    push_expires_at: dt.datetime | None = Field(
        validation_alias="channel_expires_at",
        description="When its push channel ends (renewed before); null: polled only.",
    )


class SyncStatus(BaseModel):
    calendars: list[CalendarStatusOut]


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str = Field(examples=["conflict"])
    message: str
    calendar_id: int | None
    booking_id: int | None
    detail: dict[str, Any] | None
    created_at: dt.datetime


class NoticeList(BaseModel):
    notices: list[NoticeOut]


# -- helpers ------------------------------------------------------------------------------------


def _provider(session: Session, slug: str, principal: Principal) -> Provider:
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    return provider


# -- connections --------------------------------------------------------------------------------


@router.post(
    "/providers/{slug}/connections/{kind}",
    responses=error_responses(503),
)
def start_connection(
    slug: str,
    kind: ConnectorKind,
    principal: CurrentPrincipal,
    session: WriteSession,
    keyring: KeyringDep,
    request: Request,
    response: Response,
    body: ConnectIn | None = None,
) -> ConsentOut:
    """Start connecting a calendar account: open `consent_url` in a browser and approve.

    The authorisation server then redirects to `/oauth/{kind}/callback` on this server, which
    finishes the connection. The account's primary calendar then blocks busy times and
    receives the bookings.
    """
    provider = _provider(session, slug, principal)
    url = oauth.start_consent(
        session,
        keyring,
        request.app.state.settings,
        provider_id=provider.id,
        kind=kind,
        reconnect_id=body.reconnect if body else None,
    )
    response.headers["Cache-Control"] = "no-store"
    logger.info("Provider %s started connecting a %s account (%s)", slug, kind, principal.actor())
    return ConsentOut(consent_url=url, expires_at=clock.now() + oauth.STATE_TTL)


@router.get("/providers/{slug}/connections")
def list_connections(
    slug: str, principal: CurrentPrincipal, session: ReadSession
) -> ConnectionList:
    """The provider's connected accounts with their calendars."""
    provider = _provider(session, slug, principal)
    found = session.scalars(
        select(Connection).where(Connection.provider_id == provider.id).order_by(Connection.id)
    )
    return ConnectionList(connections=[ConnectionOut.model_validate(c) for c in found])


@router.delete("/providers/{slug}/connections/{connection_id}", status_code=204)
def delete_connection(
    slug: str,
    connection_id: int,
    remove_events: Annotated[
        bool,
        Query(description="Also delete the events of upcoming bookings written to its calendars."),
    ],
    principal: CurrentPrincipal,
    store: StoreDep,
    keyring: KeyringDep,
    engine: EngineDep,
    request: Request,
) -> None:
    """Disconnect an account: its busy time stops blocking, push stops, access is revoked.

    `remove_events` (required) says whether the events of upcoming bookings written to its
    calendars are deleted first; past ones stay as a record.
    """
    with store.read() as session:
        provider = _provider(session, slug, principal)
        connection = connections.get_connection(session, provider.id, connection_id)
        kind = connection.kind
        try:
            credentials: str | None = connections.decrypt_credentials(keyring, connection)
        except NeedsReauth:
            credentials = None  # nothing usable to revoke
    removed = engine.disconnect(provider.id, connection_id, remove_events=remove_events)
    if credentials is not None:
        oauth.revoke_access(request.app.state.settings, kind, credentials)
    logger.info(
        "Provider %s disconnected connection %s (%d events removed; %s)",
        slug,
        connection_id,
        removed,
        principal.actor(),
    )


# -- calendars ----------------------------------------------------------------------------------


@router.patch("/providers/{slug}/calendars/{calendar_id}")
def update_calendar(
    slug: str,
    calendar_id: int,
    body: CalendarOptionsIn,
    principal: CurrentPrincipal,
    store: StoreDep,
    engine: EngineDep,
    scheduler: SchedulerDep,
) -> CalendarOut:
    """Choose whether the calendar blocks slots and whether bookings are written to it.

    Turning `check_conflicts` off purges its busy time at once; turning it on pulls it now.
    One calendar is the destination: choosing another moves future bookings' events.
    """
    with store.write() as session:
        provider = _provider(session, slug, principal)
        calendar = connections.set_calendar_options(
            session,
            provider.id,
            calendar_id,
            check_conflicts=body.check_conflicts,
            is_destination=body.is_destination,
        )
        out = CalendarOut.model_validate(calendar)
    if body.check_conflicts:
        ask_for_pull(engine, scheduler, calendar_id)
    if body.check_conflicts or body.is_destination:
        newly_watched(scheduler)
    return out


@router.post("/providers/{slug}/calendars/{calendar_id}/sync", status_code=202)
def sync_calendar(
    slug: str,
    calendar_id: int,
    principal: CurrentPrincipal,
    session: ReadSession,
    engine: EngineDep,
    scheduler: SchedulerDep,
    background: BackgroundTasks,
    full: Annotated[
        bool, Query(description="Pull everything again instead of the changes since last time.")
    ] = False,
) -> SyncRequested:
    """Pull the calendar now, in the background; `GET sync/status` shows the outcome."""
    provider = _provider(session, slug, principal)
    connections.get_calendar(session, provider.id, calendar_id)
    if scheduler is not None:
        scheduler.wake_pull(calendar_id, full=full)
    else:
        background.add_task(_pull_in_background, engine, calendar_id, full)
    return SyncRequested(calendar_id=calendar_id, full=full)


def _pull_in_background(engine: SyncEngine, calendar_id: int, full: bool) -> None:
    try:
        if engine.pull_calendar(calendar_id, full=full) is None:
            engine.request_pull(calendar_id)  # another process is pulling: once more after it
    except NotFound:
        logger.info("Calendar %s was disconnected before its pull", calendar_id)
    except Exception:
        logger.exception("Background pull of calendar %s failed", calendar_id)


@router.post("/providers/{slug}/calendars/{calendar_id}/breaker")
def resolve_breaker(
    slug: str,
    calendar_id: int,
    body: BreakerIn,
    principal: CurrentPrincipal,
    store: StoreDep,
    engine: EngineDep,
) -> BreakerOut:
    """Confirm (`true`) or reject (`false`) the cancellations the mass-deletion breaker held."""
    with store.read() as session:
        provider = _provider(session, slug, principal)
        connections.get_calendar(session, provider.id, calendar_id)
    count = engine.resolve_breaker(calendar_id, confirm=body.confirm)
    logger.info(
        "Provider %s %s %d held cancellations of calendar %s (%s)",
        slug,
        "confirmed" if body.confirm else "rejected",
        count,
        calendar_id,
        principal.actor(),
    )
    return BreakerOut(calendar_id=calendar_id, confirmed=body.confirm, bookings=count)


# -- status -------------------------------------------------------------------------------------


@router.get("/providers/{slug}/sync/status")
def sync_status(slug: str, principal: CurrentPrincipal, session: ReadSession) -> SyncStatus:
    """Every calendar of the provider's connections: state, last sync, errors, pending writes."""
    provider = _provider(session, slug, principal)
    found = connections.sync_status(session, provider.id)
    return SyncStatus(calendars=[CalendarStatusOut.model_validate(status) for status in found])


@router.get("/providers/{slug}/sync/notices")
def list_notices(slug: str, principal: CurrentPrincipal, session: ReadSession) -> NoticeList:
    """Open sync notices, oldest first: conflicts decided, events skipped, breakers tripped."""
    provider = _provider(session, slug, principal)
    return NoticeList(
        notices=[NoticeOut.model_validate(n) for n in notices.open_notices(session, provider.id)]
    )


def _on_oauth_error(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, oauth.ConnectorNotConfigured):
        return error_response(503, "not_configured", str(exc))
    return error_response(400, "oauth_error", str(exc))


def install(app: FastAPI) -> None:
    """Register the translation of :class:`bridge.oauth.OAuthError` for the API."""
    app.add_exception_handler(oauth.OAuthError, _on_oauth_error)
