"""``/providers/{slug}/hours``: the weekly working hours (provider or admin token)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy.orm import Session

from bridge import availability
from bridge.booking import providers, schedule
from bridge.booking.validation import format_clock, parse_clock
from bridge.errors import ValidationFailed
from bridge.store.models import Provider
from bridge.web.auth import CurrentPrincipal, require_provider
from bridge.web.deps import ReadSession, WriteSession
from bridge.web.schemas import WEEKDAYS, HoursIn, HoursOut, WeeklyPeriod, error_responses

logger = logging.getLogger(__name__)

router = APIRouter(tags=["working hours"], responses=error_responses(401, 403, 404, 422))


def _hours_of(session: Session, provider: Provider) -> HoursOut:
    return HoursOut(
        hours=[
            WeeklyPeriod(
                weekday=WEEKDAYS[period.weekday],
                start=format_clock(period.start_minute),
                end=format_clock(period.end_minute),
            )
            for period in schedule.get_weekly_hours(session, provider.id)
        ],
        time_zone=provider.time_zone,
    )


def _parse(periods: list[WeeklyPeriod]) -> list[availability.WeeklyHours]:
    problems: dict[str, str] = {}
    parsed = []
    for index, period in enumerate(periods):
        minutes = []
        for field, value in (("start", period.start), ("end", period.end)):
            try:
                minutes.append(parse_clock(value, f"hours[{index}].{field}"))
            except ValidationFailed as exc:
                problems.update(exc.fields)
        if len(minutes) == 2:
            weekday = WEEKDAYS.index(period.weekday)
            parsed.append(availability.WeeklyHours(weekday, minutes[0], minutes[1]))
    if problems:
        raise ValidationFailed(problems)
    return parsed


@router.get("/providers/{slug}/hours")
def get_hours(slug: str, principal: CurrentPrincipal, session: ReadSession) -> HoursOut:
    """The weekly hours, as local wall-clock times in the provider's zone."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    return _hours_of(session, provider)


@router.put("/providers/{slug}/hours")
def replace_hours(
    slug: str, body: HoursIn, principal: CurrentPrincipal, session: WriteSession
) -> HoursOut:
    """Replace the weekly hours (overlapping periods of a day are merged); ``24:00`` is midnight.

    With ``time_zone`` the provider's zone changes too, and the hours are read in the new zone.
    """
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    periods = _parse(body.hours)
    if body.time_zone is not None:
        providers.update_provider(session, provider, time_zone=body.time_zone)
    schedule.set_weekly_hours(session, provider.id, periods)
    logger.info(
        "Replaced the weekly hours of provider %s: %d periods (%s)",
        slug,
        len(periods),
        principal.actor(),
    )
    return _hours_of(session, provider)
