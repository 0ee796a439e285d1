"""Notices: what the provider should see about the sync (conflicts, skipped events, breakers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import clock
from bridge.store.sync_models import SyncNotice


def add_notice(
    session: Session,
    provider_id: int,
    kind: str,
    message: str,
    *,
    calendar_id: int | None = None,
    booking_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> SyncNotice:
    """Record a notice in the caller's transaction."""
    notice = SyncNotice(
        provider_id=provider_id,
        calendar_id=calendar_id,
        booking_id=booking_id,
        kind=kind,
        message=message,
        detail=detail,
        created_at=clock.now(),
    )
    session.add(notice)
    return notice


def open_notices(session: Session, provider_id: int, kind: str | None = None) -> list[SyncNotice]:
    """Unresolved notices of a provider, oldest first."""
    query = select(SyncNotice).where(
        SyncNotice.provider_id == provider_id, SyncNotice.resolved_at.is_(None)
    )
    if kind is not None:
        query = query.where(SyncNotice.kind == kind)
    return list(session.scalars(query.order_by(SyncNotice.id)))


def add_once_per_remote_id(
    session: Session,
    provider_id: int,
    kind: str,
    message: str,
    *,
    calendar_id: int,
    remote_id: str,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Record a notice about one remote event unless an open one of that kind exists.

    Returns:
        Whether a notice was added.
    """
    existing = session.scalars(
        select(SyncNotice.detail).where(
            SyncNotice.calendar_id == calendar_id,
            SyncNotice.kind == kind,
            SyncNotice.resolved_at.is_(None),
        )
    )
    if any(isinstance(d, dict) and d.get("remote_id") == remote_id for d in existing):
        return False
    add_notice(
        session,
        provider_id,
        kind,
        message,
        calendar_id=calendar_id,
        detail={**(detail or {}), "remote_id": remote_id},
    )
    return True
