"""``/providers/{slug}/overrides``: changes to one local date's hours (provider or admin token).

``{"date": "2026-12-24", "available": false}`` is a day off; with ``start``/``end`` only those
hours are off; ``available: true`` with ``start``/``end`` adds extra hours to the day.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query

from bridge.booking import providers, schedule
from bridge.booking.validation import parse_clock
from bridge.errors import ValidationFailed
from bridge.web.auth import CurrentPrincipal, require_provider
from bridge.web.deps import ReadSession, WriteSession
from bridge.web.schemas import LocalDate, OverrideIn, OverrideList, OverrideOut, error_responses

logger = logging.getLogger(__name__)

router = APIRouter(tags=["working hours"], responses=error_responses(401, 403, 404, 422))


def _minutes(value: str | None, field: str) -> int | None:
    return None if value is None else parse_clock(value, field)


@router.get("/providers/{slug}/overrides")
def list_overrides(
    slug: str,
    principal: CurrentPrincipal,
    session: ReadSession,
    start: Annotated[LocalDate | None, Query(description="First date (inclusive).")] = None,
    end: Annotated[LocalDate | None, Query(description="Last date (inclusive).")] = None,
) -> OverrideList:
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    found = schedule.list_overrides(session, provider.id, start, end)
    return OverrideList(overrides=[OverrideOut.of(o) for o in found])


@router.post("/providers/{slug}/overrides", status_code=201)
def add_override(
    slug: str, body: OverrideIn, principal: CurrentPrincipal, session: WriteSession
) -> OverrideOut:
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    problems: dict[str, str] = {}
    minutes: dict[str, int | None] = {}
    for field, value in (("start", body.start), ("end", body.end)):
        try:
            minutes[field] = _minutes(value, field)
        except ValidationFailed as exc:
            problems.update(exc.fields)
    if problems:
        raise ValidationFailed(problems)
    override = schedule.add_override(
        session,
        provider.id,
        body.date,
        available=body.available,
        start_minute=minutes["start"],
        end_minute=minutes["end"],
    )
    logger.info(
        "Added a date override for %s to provider %s (%s)", body.date, slug, principal.actor()
    )
    return OverrideOut.of(override)


@router.delete("/providers/{slug}/overrides/{override_id}", status_code=204)
def delete_override(
    slug: str, override_id: int, principal: CurrentPrincipal, session: WriteSession
) -> None:
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    schedule.delete_override(session, provider.id, override_id)
    logger.info(
        "Deleted date override %s of provider %s (%s)", override_id, slug, principal.actor()
    )
