"""Busy time imported from external calendars, as the sync connectors will store it.

Rows last at most :data:`~bridge.store.models.MAX_ROW_LENGTH` (a CHECK constraint), which keeps
the slots query a tight index range; longer busy time (a week's holiday) is stored in pieces.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bridge.availability import Interval
from bridge.dav import projection
from bridge.errors import ValidationFailed
from bridge.store.models import MAX_ROW_LENGTH, BusyInterval


def pieces(interval: Interval) -> list[Interval]:
    """Split ``interval`` into consecutive pieces no longer than a row may be."""
    if interval.start.tzinfo is None or interval.end.tzinfo is None:
        raise ValidationFailed({"start": "busy time needs aware datetimes"})
    result = []
    start = interval.start
    while start < interval.end:
        end = min(start + MAX_ROW_LENGTH, interval.end)
        result.append(Interval(start, end))
        start = end
    return result


def replace_remote_busy(
    session: Session,
    provider_id: int,
    source: str,
    remote_id: str,
    intervals: Iterable[Interval],
) -> int:
    """Make ``intervals`` the busy time of one remote event; return the number of rows stored.

    Args:
        source: the external calendar the event lives in (e.g. ``google:<calendar id>``).
        remote_id: the event's id there; its previous rows are replaced.
        intervals: the event's busy time (all occurrences of a series), possibly empty.
    """
    removed_ids = list(
        session.scalars(
            delete(BusyInterval)
            .where(
                BusyInterval.provider_id == provider_id,
                BusyInterval.source == source,
                BusyInterval.remote_id == remote_id,
            )
            .returning(BusyInterval.id)
        )
    )
    rows = [
        BusyInterval(
            provider_id=provider_id,
            source=source,
            remote_id=remote_id,
            start_at=piece.start,
            end_at=piece.end,
        )
        for interval in intervals
        for piece in pieces(interval)
    ]
    session.add_all(rows)
    session.flush()
    projection.project_busy(session, provider_id, added=rows, removed_ids=removed_ids)
    return len(rows)
