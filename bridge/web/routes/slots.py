"""``/providers/{slug}/slots``: the free slots of a service (public)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from bridge import clock
from bridge.booking import providers, services
from bridge.booking import slots as slot_search
from bridge.errors import NotFound, ValidationFailed
from bridge.web.deps import ReadSession
from bridge.web.schemas import Slot, Slots, SlotWarning, error_responses
from bridge.web.timerange import BOUND_HELP, MAX_RANGE, display_zone, slot_window

router = APIRouter(tags=["slots"], responses=error_responses(404, 422))


@router.get("/providers/{slug}/slots")
def list_slots(
    slug: str,
    session: ReadSession,
    service: Annotated[int, Query(description="The service's id.")],
    start: Annotated[str | None, Query(description=f"{BOUND_HELP} Default: now.")] = None,
    end: Annotated[
        str | None,
        Query(
            description=f"{BOUND_HELP} Default: a week after start. At most {MAX_RANGE.days} "
            "days after start."
        ),
    ] = None,
    tz: Annotated[
        str | None,
        Query(description="IANA zone to render times in. Default: the provider's zone."),
    ] = None,
) -> Slots:
    """Free slots of a service whose start lies in ``[start, end)``.

    The answer is an object, so that warnings and explanations can be added later.
    """
    provider = providers.get_provider(session, slug)
    try:
        offered = services.get_service(session, provider.id, service)
    except NotFound:
        raise ValidationFailed({"service": f"no service {service} for this provider"}) from None
    if not offered.active:
        raise ValidationFailed({"service": "this service is not offered any more"})
    zone = display_zone(tz, provider.time_zone)
    now = clock.now()
    window = slot_window(start, end, ZoneInfo(provider.time_zone), now)
    found = slot_search.find_slots(session, provider, offered, window, now)
    warnings = []
    horizon_end = now + dt.timedelta(days=offered.horizon_days)
    if window.end > horizon_end:
        warnings.append(
            SlotWarning(
                code="beyond_horizon",
                message=f"this service can be booked at most {offered.horizon_days} days ahead, "
                f"until {horizon_end.astimezone(zone).isoformat()}",
            )
        )
    return Slots(
        slots=[Slot(start=s.start.astimezone(zone), end=s.end.astimezone(zone)) for s in found],
        time_zone=zone.key,
        range=Slot(start=window.start.astimezone(zone), end=window.end.astimezone(zone)),
        warnings=warnings,
    )
