"""``/providers/{slug}/blocked-times``: time the provider blocks for every service."""

from __future__ import annotations

import logging
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from bridge.booking import providers, schedule
from bridge.web.auth import CurrentPrincipal, require_provider
from bridge.web.deps import ReadSession, WriteSession
from bridge.web.schemas import BlockedTimeIn, BlockedTimeList, BlockedTimeOut, error_responses
from bridge.web.timerange import BOUND_HELP, open_range

logger = logging.getLogger(__name__)

router = APIRouter(tags=["blocked times"], responses=error_responses(401, 403, 404, 422))


@router.get("/providers/{slug}/blocked-times")
def list_blocked_times(
    slug: str,
    principal: CurrentPrincipal,
    session: ReadSession,
    start: Annotated[str | None, Query(description=BOUND_HELP)] = None,
    end: Annotated[str | None, Query(description=BOUND_HELP)] = None,
) -> BlockedTimeList:
    """Blocked times overlapping the range (all of them without one), in the provider's zone."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    zone = ZoneInfo(provider.time_zone)
    window = open_range(start, end, zone).as_interval()
    found = schedule.list_blocked_times(session, provider.id, window)
    return BlockedTimeList(blocked_times=[BlockedTimeOut.of(b, zone) for b in found])


@router.post("/providers/{slug}/blocked-times", status_code=201)
def add_blocked_time(
    slug: str, body: BlockedTimeIn, principal: CurrentPrincipal, session: WriteSession
) -> BlockedTimeOut:
    """Block ``[start, end)``; bookings already there stay."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    block = schedule.add_blocked_time(
        session, provider.id, body.start, body.end, summary=body.summary, source="api"
    )
    logger.info("Blocked time %s for provider %s (%s)", block.id, slug, principal.actor())
    return BlockedTimeOut.of(block, ZoneInfo(provider.time_zone))


@router.delete("/providers/{slug}/blocked-times/{block_id}", status_code=204)
def delete_blocked_time(
    slug: str, block_id: int, principal: CurrentPrincipal, session: WriteSession
) -> None:
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    schedule.delete_blocked_time(session, provider.id, block_id)
    logger.info("Deleted blocked time %s of provider %s (%s)", block_id, slug, principal.actor())
