"""Which conflict calendars the booking page cannot trust right now (fail closed).

A calendar that checks conflicts but is broken (its connection needs re-authorisation or is
in error, the calendar is in error), has never been synced, or was last synced longer than
``sync_stale_after`` ago may hide busy time; ``stale_calendar_policy`` decides what the
booking page does about it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.settings import Settings
from bridge.store.sync_models import CALENDAR_ERROR, CONNECTION_OK, ExternalCalendar


@dataclasses.dataclass(frozen=True)
class CalendarProblem:
    """A conflict calendar that may hide busy time, why, and since when."""

    calendar_id: int
    name: str
    account: str
    reason: str  # needs_reauth | error | stale | never_synced
    since: dt.datetime | None


def conflict_calendar_problems(
    session: Session, provider_id: int, now: dt.datetime, settings: Settings
) -> list[CalendarProblem]:
    """The provider's conflict calendars that are broken or stale, in calendar order."""
    stale_before = now - dt.timedelta(seconds=settings.sync_stale_after)
    problems = []
    calendars = session.scalars(
        select(ExternalCalendar)
        .where(
            ExternalCalendar.provider_id == provider_id,
            ExternalCalendar.check_conflicts.is_(True),
        )
        .order_by(ExternalCalendar.id)
    )
    for calendar in calendars:
        connection = calendar.connection
        reason: str | None = None
        since: dt.datetime | None = None
        if connection.status != CONNECTION_OK:
            reason, since = connection.status, connection.status_changed_at
        elif calendar.status == CALENDAR_ERROR:
            reason, since = "error", calendar.last_error_at
        elif calendar.last_synced_at is None:
            reason, since = "never_synced", calendar.created_at
        elif calendar.last_synced_at < stale_before:
            reason, since = "stale", calendar.last_synced_at
        if reason is not None:
            problems.append(
                CalendarProblem(calendar.id, calendar.name, connection.account, reason, since)
            )
    return problems
