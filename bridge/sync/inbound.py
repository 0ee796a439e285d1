"""Applying one page of a pull: our own events vs foreign events.

A change is *ours* when its remote id is a mirror in this calendar, when its ``marker`` is a
booking UID of the provider, or when its ``ident`` (iCalendar UID) is a booking UID or
``<remote id of one of our mirrors>@…`` — tools that copy events between calendars keep the
UID and drop our marker. Ours never becomes busy time and never a booking; mirrors are handed
to :mod:`.mirrors`, copies are ignored. Foreign events count only in calendars that check
conflicts (:mod:`.busytime`).

A page is applied in one transaction, which first takes the provider's lock: accepting a
remote move or cancellation changes bookings, and bookings are changed under that lock only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.connectors.base import PullPage, RemoteChange, RemoteDeletion, SkippedEvent
from bridge.connectors.base import RemoteEvent as Change
from bridge.store import Store
from bridge.store.models import Booking
from bridge.store.sync_models import NOTICE_SKIPPED_EVENT, ExternalCalendar, Mirror
from bridge.sync import busytime, mirrors
from bridge.sync.notices import add_once_per_remote_id
from bridge.sync.policy import ConflictPolicy
from bridge.sync.scope import Scope

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Counts:
    """What applying changes did, summed over the pages of a pull."""

    applied: int = 0
    skipped: int = 0
    busy_events: int = 0
    rescheduled: int = 0
    held: int = 0
    seen_mirrors: set[str] = dataclasses.field(default_factory=set)

    def mirror(self, result: mirrors.Result) -> None:
        """Count what happened to one of our events."""
        if result is mirrors.Result.RESCHEDULED:
            self.rescheduled += 1
        elif result is mirrors.Result.HELD:
            self.held += 1


def _ours(session: Session, scope: Scope, changes: Iterable[RemoteChange]) -> set[str]:
    """Remote ids of changes that are copies of our events (markers and idents)."""
    candidates: dict[str, list[str]] = {}
    for change in changes:
        if isinstance(change, Change):
            for value in (change.marker, change.ident):
                if value:
                    candidates.setdefault(value, []).append(change.remote_id)
    if not candidates:
        return set()
    uids = set(
        session.scalars(
            select(Booking.uid).where(
                Booking.provider_id == scope.provider_id, Booking.uid.in_(list(candidates))
            )
        )
    )
    prefixes = {value.split("@", 1)[0]: value for value in candidates if "@" in value}
    mirrored = set()
    if prefixes:
        mirrored = set(
            session.scalars(
                select(Mirror.remote_id)
                .join(ExternalCalendar, ExternalCalendar.id == Mirror.calendar_id)
                .where(
                    ExternalCalendar.provider_id == scope.provider_id,
                    Mirror.remote_id.in_(list(prefixes)),
                )
            )
        )
    ours: set[str] = set()
    for value, remote_ids in candidates.items():
        if value in uids or (value.split("@", 1)[0] in mirrored and "@" in value):
            ours.update(remote_ids)
    return ours


def apply_changes(
    session: Session,
    scope: Scope,
    changes: list[RemoteChange],
    generation: int | None,
    policy: ConflictPolicy,
    counts: Counts,
) -> None:
    """Apply pulled changes in the caller's transaction (which holds the provider's lock)."""
    remote_ids = [change.remote_id for change in changes]
    known = {
        m.remote_id: m
        for m in session.scalars(
            select(Mirror).where(
                Mirror.calendar_id == scope.calendar_id, Mirror.remote_id.in_(remote_ids)
            )
        )
    }
    ours = _ours(session, scope, changes)
    for change in changes:
        counts.applied += 1
        try:
            with session.begin_nested():
                _apply(
                    session,
                    scope,
                    change,
                    known.get(change.remote_id),
                    ours,
                    generation,
                    policy,
                    counts,
                )
        except Exception as exc:  # one bad event never stops the rest of the pull
            log.exception(
                "Could not apply change %s of calendar %s (provider %s)",
                change.remote_id,
                scope.calendar_id,
                scope.provider_id,
            )
            record_skipped(
                session, scope, [SkippedEvent(change.remote_id, f"internal error: {exc!r}")], counts
            )


def _apply(
    session: Session,
    scope: Scope,
    change: RemoteChange,
    mirror: Mirror | None,
    ours: set[str],
    generation: int | None,
    policy: ConflictPolicy,
    counts: Counts,
) -> None:
    if mirror is not None:
        counts.seen_mirrors.add(change.remote_id)
        if isinstance(change, RemoteDeletion):
            counts.mirror(mirrors.remote_deleted(session, scope, mirror, policy))
        else:
            counts.mirror(mirrors.remote_changed(session, scope, mirror, change, policy))
    elif change.remote_id in ours:
        # A copy of one of our events: never busy time (forget it if it was before).
        if scope.check_conflicts:
            busytime.forget(session, scope, change.remote_id)
    elif not scope.check_conflicts:
        return
    elif isinstance(change, RemoteDeletion):
        busytime.store_deletion(session, scope, change, generation)
    elif busytime.store_event(session, scope, change, generation):
        counts.busy_events += 1


def record_skipped(
    session: Session, scope: Scope, skipped: Iterable[SkippedEvent], counts: Counts
) -> None:
    """One ``skipped_event`` notice per remote event the connector could not read."""
    for item in skipped:
        counts.skipped += 1
        log.warning(
            "Skipped event %s of calendar %s (provider %s): %s",
            item.remote_id,
            scope.calendar_id,
            scope.provider_id,
            item.reason,
        )
        add_once_per_remote_id(
            session,
            scope.provider_id,
            NOTICE_SKIPPED_EVENT,
            f"An event in {scope.calendar_name} could not be read and is not taken into "
            f"account: {item.reason}",
            calendar_id=scope.calendar_id,
            remote_id=item.remote_id,
            detail={"reason": item.reason},
        )


def apply_page(
    session: Session,
    scope: Scope,
    page: PullPage,
    generation: int | None,
    policy: ConflictPolicy,
    counts: Counts,
) -> None:
    """Apply one page of a pull in the caller's write transaction.

    Args:
        session: a write session; the provider's lock is taken here.
        scope: the calendar.
        page: the connector's page.
        generation: the full pull's generation, or ``None`` for an incremental pull.
        policy: the conflict rule.
        counts: summed up in place.
    """
    Store.lock_provider(session, scope.provider_id)
    apply_changes(session, scope, list(page.changes), generation, policy, counts)
    record_skipped(session, scope, page.skipped, counts)
    session.flush()
