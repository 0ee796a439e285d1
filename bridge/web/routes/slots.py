"""``/providers/{slug}/slots``: the free slots of a service (public), and why others are not.

``/slots`` also applies the stale rule of :mod:`bridge.booking.calendar_guard`: a broken or
stale conflict calendar is named in ``warnings`` (``calendar_unavailable``) and, under the
default ``stale_calendar_policy = "hide"``, no slot is offered. ``/slots/explain`` lists every
candidate start with its reasons; it reveals the provider's schedule, so it needs the
provider's or an admin token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from bridge import clock
from bridge.availability import Interval
from bridge.booking import calendar_guard, explain, providers, services
from bridge.booking import slots as slot_search
from bridge.booking.calendar_guard import CalendarGuard
from bridge.errors import NotFound, ValidationFailed
from bridge.store.models import Service
from bridge.web import sync_deps
from bridge.web.auth import CurrentPrincipal, require_provider
from bridge.web.deps import ReadSession, load_app_keyring
from bridge.web.schemas import (
    CalendarRefOut,
    ExplainedSlot,
    Slot,
    SlotExplanation,
    SlotReason,
    Slots,
    SlotWarning,
    error_responses,
)
from bridge.web.timerange import BOUND_HELP, MAX_RANGE, display_zone, slot_window

router = APIRouter(tags=["slots"], responses=error_responses(404, 422))

ServiceParam = Annotated[int, Query(description="The service's id.")]
StartParam = Annotated[str | None, Query(description=f"{BOUND_HELP} Default: now.")]
EndParam = Annotated[
    str | None,
    Query(
        description=f"{BOUND_HELP} Default: a week after start. At most {MAX_RANGE.days} "
        "days after start."
    ),
]
TzParam = Annotated[
    str | None,
    Query(description="IANA zone to render times in. Default: the provider's zone."),
]


def get_calendar_guard(request: Request) -> CalendarGuard:
    """The stale rule and live check over the app's settings and store.

    The keyring is loaded only when a connection is actually asked, so providers without
    connected calendars never need a secret key. A pull the live check asks for goes through
    the sync engine and wakes this process's scheduler, when one runs here.
    """
    state = request.app.state

    def request_pulls(calendar_ids: Sequence[int]) -> None:
        engine = sync_deps.sync_engine(request, load_app_keyring(request))
        scheduler = sync_deps.scheduler_of(request)
        for calendar_id in calendar_ids:
            sync_deps.ask_for_pull(engine, scheduler, calendar_id)

    return CalendarGuard(
        state.settings,
        calendar_guard.default_connectors(state.settings, lambda: load_app_keyring(request)),
        request_pulls=request_pulls,
    )


CalendarGuardDep = Annotated[CalendarGuard, Depends(get_calendar_guard)]


def _offered_service(session: Session, provider_id: int, service_id: int) -> Service:
    try:
        offered = services.get_service(session, provider_id, service_id)
    except NotFound:
        raise ValidationFailed({"service": f"no service {service_id} for this provider"}) from None
    if not offered.active:
        raise ValidationFailed({"service": "this service is not offered any more"})
    return offered


def _horizon_warning(
    service: Service, window: Interval, now: dt.datetime, zone: ZoneInfo
) -> list[SlotWarning]:
    horizon_end = now + dt.timedelta(days=service.horizon_days)
    if window.end <= horizon_end:
        return []
    return [
        SlotWarning(
            code="beyond_horizon",
            message=f"this service can be booked at most {service.horizon_days} days ahead, "
            f"until {horizon_end.astimezone(zone).isoformat()}",
        )
    ]


@router.get("/providers/{slug}/slots")
def list_slots(
    slug: str,
    session: ReadSession,
    guard: CalendarGuardDep,
    service: ServiceParam,
    start: StartParam = None,
    end: EndParam = None,
    tz: TzParam = None,
) -> Slots:
    """Free slots of a service whose start lies in ``[start, end)``.

    A conflict calendar that is broken or stale is named in ``warnings`` with code
    ``calendar_unavailable``; under the default policy no slot is offered while it lasts.
    """
    provider = providers.get_provider(session, slug)
    offered = _offered_service(session, provider.id, service)
    zone = display_zone(tz, provider.time_zone)
    now = clock.now()
    window = slot_window(start, end, ZoneInfo(provider.time_zone), now)
    warnings = _horizon_warning(offered, window, now, zone)
    problems = guard.problems(session, provider.id, now)
    warnings += [
        SlotWarning(
            code=explain.CALENDAR_UNAVAILABLE,
            message=calendar_guard.public_message(p, guard.settings.stale_calendar_policy),
        )
        for p in problems
    ]
    if problems and guard.hides:
        found = []  # what the calendar holds is unknown: every slot from now on is affected
    else:
        found = slot_search.find_slots(session, provider, offered, window, now)
    return Slots(
        slots=[Slot(start=s.start.astimezone(zone), end=s.end.astimezone(zone)) for s in found],
        time_zone=zone.key,
        range=Slot(start=window.start.astimezone(zone), end=window.end.astimezone(zone)),
        warnings=warnings,
    )


@router.get(
    "/providers/{slug}/slots/explain",
    response_model_exclude_none=True,
    responses=error_responses(401, 403),
)
def explain_slots(
    slug: str,
    principal: CurrentPrincipal,
    session: ReadSession,
    guard: CalendarGuardDep,
    service: ServiceParam,
    start: StartParam = None,
    end: EndParam = None,
    tz: TzParam = None,
) -> SlotExplanation:
    """Every candidate start of a service in ``[start, end)``: free, or why not.

    Candidates are the starts on the service's grid on the provider's working days (a day off
    included, to say so). Reasons: ``outside_working_hours``, ``date_override``,
    ``min_notice``, ``beyond_horizon``, ``booking`` (its id), ``blocked_time`` (its id),
    ``busy`` (the external calendar's name and account; never what the event is), and
    ``calendar_unavailable`` when a broken or stale calendar hides every slot. A start is
    ``free`` exactly when ``/slots`` offers it. Needs the provider's or an admin token.
    """
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    offered = _offered_service(session, provider.id, service)
    zone = display_zone(tz, provider.time_zone)
    now = clock.now()
    window = slot_window(start, end, ZoneInfo(provider.time_zone), now)
    problems = guard.problems(session, provider.id, now)
    candidates = explain.explain_slots(
        session, provider, offered, window, now, extra_reasons=guard.hidden_reasons(problems)
    )
    warnings = _horizon_warning(offered, window, now, zone) + [
        SlotWarning(code=explain.CALENDAR_UNAVAILABLE, message=calendar_guard.describe(p))
        for p in problems
    ]
    return SlotExplanation(
        service=offered.id,
        time_zone=zone.key,
        range=Slot(start=window.start.astimezone(zone), end=window.end.astimezone(zone)),
        slots=[
            ExplainedSlot(
                start=c.start.astimezone(zone),
                end=c.end.astimezone(zone),
                free=c.free,
                reasons=[_reason(r, zone) for r in c.reasons],
            )
            for c in candidates
        ],
        warnings=warnings,
    )


def _reason(reason: explain.Reason, zone: ZoneInfo) -> SlotReason:
    calendar = reason.calendar
    return SlotReason(
        code=reason.code,
        message=reason.message,
        booking_id=reason.booking_id,
        blocked_time_id=reason.blocked_time_id,
        override_id=reason.override_id,
        calendar=None
        if calendar is None
        else CalendarRefOut(id=calendar.id, name=calendar.name, account=calendar.account),
        start=None if reason.start is None else reason.start.astimezone(zone),
        end=None if reason.end is None else reason.end.astimezone(zone),
    )
