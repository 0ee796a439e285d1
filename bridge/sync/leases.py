"""Leases: how one worker among many claims a calendar or an outbox row, and retry timing.

A lease is an owner name and an expiry on the row. Claiming is one conditional ``UPDATE``
(``WHERE id = ? AND (lease_until IS NULL OR lease_until < now)``), which works the same on
SQLite and PostgreSQL: of two workers only one sees a changed row. A worker that dies keeps
its lease until it expires; then anyone may claim the row again, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, cast

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.orm import Session

from bridge.settings import Settings
from bridge.store.sync_models import ExternalCalendar, OutboxItem

Leased = type[ExternalCalendar] | type[OutboxItem]


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def claim(
    session: Session, table: Leased, row_id: int, owner: str, now: dt.datetime, length: dt.timedelta
) -> bool:
    """Claim ``row_id`` for ``owner`` until ``now + length`` unless someone holds it.

    Returns:
        Whether the lease is now ``owner``'s.
    """
    result = session.execute(
        update(table)
        .where(table.id == row_id, or_(table.lease_until.is_(None), table.lease_until < now))
        .values(lease_owner=owner, lease_until=now + length)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def renew(
    session: Session, table: Leased, row_id: int, owner: str, now: dt.datetime, length: dt.timedelta
) -> bool:
    """Extend ``owner``'s lease on ``row_id``; false if it is no longer theirs."""
    result = session.execute(
        update(table)
        .where(table.id == row_id, table.lease_owner == owner)
        .values(lease_until=now + length)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def release(session: Session, table: Leased, row_id: int, owner: str) -> None:
    """Give up ``owner``'s lease on ``row_id`` (nothing happens if someone else holds it)."""
    session.execute(
        update(table)
        .where(table.id == row_id, table.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def retry_delay(
    attempts: int,
    settings: Settings,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempts + 1``: exponential backoff with full jitter.

    Args:
        attempts: failures so far (1 after the first).
        settings: ``sync_retry_interval`` is the base, ``sync_max_backoff`` the cap.
        retry_after: the server's hint; the delay is never shorter.
        rng: the random source (tests pass a seeded one).

    Returns:
        A delay in ``[0, min(cap, base * 2**attempts)]``, raised to ``retry_after`` if given.
    """
    ceiling = min(settings.sync_max_backoff, settings.sync_retry_interval * 2 ** min(attempts, 30))
    delay = (rng or random).uniform(0, max(ceiling, 0.0))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
