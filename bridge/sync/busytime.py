"""Foreign events of a conflict calendar: stored as :class:`RemoteEvent` rows, busy time derived.

A series and its exceptions form one group, keyed by the master's remote id; all of the
group's busy time is stored under that id, so it is replaced as a whole whenever any member
changes (a moved occurrence may arrive before or after its master). Rules:

- ``BUSY`` blocks, ``FREE`` never, ``UNANSWERED`` as ``settings.unanswered_invitations`` says;
  an exception blocks (or not) on its own;
- an all-day event blocks whole days in the *provider's* zone, from local midnight to local
  midnight (so a day is 23 or 25 hours on DST change days);
- a series occurrence that an exception replaces (same normalised original start) counts only
  through the exception; a cancelled exception removes its occurrence;
- busy time is kept between one day before now and ``recurrence_horizon_days`` ahead; groups
  cut at the far end remember ``expanded_until`` and :func:`extend` rolls them forward.

A series that cannot be expanded blocks its first occurrence only and leaves a
``skipped_event`` notice: one bad event never stops a pull, and it fails closed.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bridge.availability import Interval
from bridge.booking.busy import replace_remote_busy
from bridge.connectors.base import EventTime, RemoteDeletion
from bridge.connectors.base import RemoteEvent as Change
from bridge.store.sync_models import NOTICE_SKIPPED_EVENT, RemoteEvent
from bridge.sync.notices import add_once_per_remote_id
from bridge.sync.recurrence import RecurrenceError, expand, occurrence_key
from bridge.sync.scope import Scope

log = logging.getLogger(__name__)


def _row(session: Session, scope: Scope, remote_id: str) -> RemoteEvent | None:
    return session.scalar(
        select(RemoteEvent).where(
            RemoteEvent.calendar_id == scope.calendar_id, RemoteEvent.remote_id == remote_id
        )
    )


def _set_times(row: RemoteEvent, start: EventTime, end: EventTime) -> None:
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        row.start_at, row.end_at = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
        row.start_date = row.end_date = None
    else:
        start_day = start.date() if isinstance(start, dt.datetime) else start
        end_day = end.date() if isinstance(end, dt.datetime) else end
        row.start_date, row.end_date = start_day, max(end_day, start_day + dt.timedelta(days=1))
        row.start_at = row.end_at = None


def _times(row: RemoteEvent) -> tuple[EventTime, EventTime] | None:
    if row.start_at is not None and row.end_at is not None:
        return row.start_at, row.end_at
    if row.start_date is not None and row.end_date is not None:
        return row.start_date, row.end_date
    return None


def _interval(scope: Scope, start: EventTime, end: EventTime) -> Interval | None:
    if not isinstance(start, dt.datetime):
        start = dt.datetime.combine(start, dt.time(0), tzinfo=scope.provider_zone)
    if not isinstance(end, dt.datetime):
        end = dt.datetime.combine(end, dt.time(0), tzinfo=scope.provider_zone)
    begin = max(start.astimezone(dt.UTC), scope.window_start)
    finish = min(end.astimezone(dt.UTC), scope.window_end)
    return Interval(begin, finish) if begin < finish else None


def store_event(session: Session, scope: Scope, event: Change, generation: int | None) -> bool:
    """Store a foreign event (new or changed) and refresh its group's busy time.

    Args:
        generation: the full pull's generation that saw the event, if this is a full pull.

    Returns:
        Whether the event itself blocks time.
    """
    row = _row(session, scope, event.remote_id)
    if row is None:
        row = RemoteEvent(calendar_id=scope.calendar_id, remote_id=event.remote_id)
        session.add(row)
    row.series_remote_id = event.series_id
    row.original_start = (
        occurrence_key(event.original_start) if event.original_start is not None else None
    )
    row.cancelled = False
    _set_times(row, event.start, event.end)
    row.time_zone = event.time_zone
    row.recurrence = list(event.recurrence) or None
    row.blocks = str(event.blocks)
    if generation is not None:
        row.seen_generation = generation
    session.flush()
    refresh(session, scope, event.series_id or event.remote_id)
    return scope.blocks(row.blocks)


def store_deletion(
    session: Session, scope: Scope, deletion: RemoteDeletion, generation: int | None
) -> None:
    """Apply the deletion of a foreign event, or of one occurrence of a series."""
    row = _row(session, scope, deletion.remote_id)
    series_id = deletion.series_id or (row.series_remote_id if row is not None else None)
    if series_id is None:
        forget(session, scope, deletion.remote_id)
        return
    # A cancelled occurrence: keep it as a cancelled exception, so that the series' own
    # occurrence at that start stays out, whichever arrives first.
    if row is None:
        row = RemoteEvent(calendar_id=scope.calendar_id, remote_id=deletion.remote_id)
        session.add(row)
    row.series_remote_id = series_id
    if deletion.original_start is not None:
        row.original_start = occurrence_key(deletion.original_start)
    row.cancelled = True
    if generation is not None:
        row.seen_generation = generation
    session.flush()
    refresh(session, scope, series_id)


def forget(session: Session, scope: Scope, remote_id: str) -> None:
    """Forget a foreign event (a series with its exceptions) and its busy time."""
    row = _row(session, scope, remote_id)
    if row is not None and row.series_remote_id is not None:
        session.delete(row)
        session.flush()
        refresh(session, scope, row.series_remote_id)
        return
    session.execute(
        delete(RemoteEvent).where(
            RemoteEvent.calendar_id == scope.calendar_id,
            or_(RemoteEvent.remote_id == remote_id, RemoteEvent.series_remote_id == remote_id),
        )
    )
    replace_remote_busy(session, scope.provider_id, scope.source, remote_id, [])


def refresh(session: Session, scope: Scope, group_id: str) -> int:
    """Recompute the busy time of one group (a single event, or a series with its exceptions).

    Returns:
        The number of busy rows stored.
    """
    rows = list(
        session.scalars(
            select(RemoteEvent).where(
                RemoteEvent.calendar_id == scope.calendar_id,
                or_(RemoteEvent.remote_id == group_id, RemoteEvent.series_remote_id == group_id),
            )
        )
    )
    master = next((r for r in rows if r.remote_id == group_id), None)
    exceptions = [r for r in rows if r.series_remote_id == group_id and r is not master]
    intervals: list[Interval | None] = []
    if master is not None:
        intervals += _master_intervals(session, scope, master, exceptions)
    for exception in exceptions:
        times = _times(exception)
        if not exception.cancelled and times is not None and scope.blocks(exception.blocks):
            intervals.append(_interval(scope, *times))
    return replace_remote_busy(
        session, scope.provider_id, scope.source, group_id, [i for i in intervals if i]
    )


def _master_intervals(
    session: Session, scope: Scope, master: RemoteEvent, exceptions: list[RemoteEvent]
) -> list[Interval | None]:
    times = _times(master)
    master.expanded_until = None
    if times is None or master.cancelled or not scope.blocks(master.blocks):
        return []
    start, end = times
    if not master.recurrence:
        end_instant = end if isinstance(end, dt.datetime) else None
        if end_instant is None or end_instant > scope.window_end:
            master.expanded_until = scope.window_end
        return [_interval(scope, start, end)]
    master.expanded_until = scope.window_end
    replaced = {e.original_start for e in exceptions if e.original_start is not None}
    try:
        occurrences = expand(
            start, end, master.recurrence, master.time_zone, scope.window_start, scope.window_end
        )
    except RecurrenceError as exc:
        log.warning(
            "Cannot expand series %s of calendar %s (provider %s): %s; blocking its first "
            "occurrence only",
            master.remote_id,
            scope.calendar_id,
            scope.provider_id,
            exc,
        )
        add_once_per_remote_id(
            session,
            scope.provider_id,
            NOTICE_SKIPPED_EVENT,
            f"A recurring event in {scope.calendar_name} could not be read ({exc}); only its "
            "first occurrence blocks time.",
            calendar_id=scope.calendar_id,
            remote_id=master.remote_id,
            detail={"reason": str(exc)},
        )
        return [_interval(scope, start, end)]
    return [_interval(scope, o.start, o.end) for o in occurrences if o.key not in replaced]


def sweep(session: Session, scope: Scope, generation: int) -> int:
    """After a full pull: forget the events it did not see.

    Returns:
        The number of events forgotten.
    """
    stale = list(
        session.scalars(
            select(RemoteEvent).where(
                RemoteEvent.calendar_id == scope.calendar_id,
                RemoteEvent.seen_generation < generation,
            )
        )
    )
    groups = {row.series_remote_id or row.remote_id for row in stale}
    for row in stale:
        session.delete(row)
    session.flush()
    for group_id in sorted(groups):
        refresh(session, scope, group_id)
    if stale:
        log.info(
            "Full pull of calendar %s (provider %s) swept %s events no longer there",
            scope.calendar_id,
            scope.provider_id,
            len(stale),
        )
    return len(stale)


def extend(session: Session, scope: Scope) -> int:
    """Roll the busy time of series (and long events) forward to the current horizon.

    Returns:
        The number of groups re-expanded.
    """
    due = list(
        session.scalars(
            select(RemoteEvent.remote_id).where(
                RemoteEvent.calendar_id == scope.calendar_id,
                RemoteEvent.series_remote_id.is_(None),
                RemoteEvent.expanded_until.is_not(None),
                RemoteEvent.expanded_until < scope.window_end - dt.timedelta(days=1),
            )
        )
    )
    for remote_id in due:
        refresh(session, scope, remote_id)
    return len(due)
