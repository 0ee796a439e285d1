"""The execute phase of a drain: the connector calls for one outbox row, as an outcome.

Nothing here touches the database: :mod:`.drain` reads a :class:`Job` in the plan phase and
commits the :class:`Done` or :class:`Failed` this module returns. A ``412`` on update or delete
fetches the event and asks the conflict policy (:mod:`.policy`): with the default rule the
booking wins, so the write is retried at the fresh etag (or the event created again if it is
gone) and the provider learns what was overwritten. Connector errors become outcomes here,
in one place.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from bridge.connectors.base import Connector, OutboundEvent, WrittenEvent
from bridge.connectors.base import RemoteEvent as Change
from bridge.connectors.errors import (
    ConnectorError,
    NeedsReauth,
    PreconditionFailed,
    RemoteNotFound,
    RemoteRejected,
    Transient,
)
from bridge.sync.connections import CALENDAR_GONE
from bridge.sync.plan import Action, Create, Delete, Update
from bridge.sync.policy import Local, Outcome, Remote
from bridge.sync.runtime import Runtime

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Job:
    """What the plan phase read about one row."""

    item_id: int
    booking_id: int
    calendar_id: int
    connection_id: int
    provider_id: int
    claimed_version: int
    booking_version: int
    calendar: str
    client_name: str
    action: Action
    event: OutboundEvent | None
    mirror_times: tuple[dt.datetime | None, dt.datetime | None]


@dataclasses.dataclass(frozen=True)
class Done:
    """The row is done: what was written or deleted, and a conflict to tell about."""

    written: WrittenEvent | None = None
    deleted: bool = False
    conflict: str | None = None


@dataclasses.dataclass(frozen=True)
class Failed:
    """The row waits: ``retry``, ``reauth``, ``gone``, ``rejected`` or ``defer``."""

    kind: str  # retry | reauth | gone | rejected | defer
    message: str
    retry_after: float | None = None


def _remote_state(job: Job, current: Change | None) -> Remote:
    if current is None:
        return Remote.DELETED
    if (current.start, current.end) != job.mirror_times:
        return Remote.MOVED
    return Remote.EDITED


def _overwrote(job: Job, remote: Remote) -> str:
    what = "deleted" if remote is Remote.DELETED else "changed"
    return (
        f"The appointment of {job.client_name} was {what} in the external calendar while it "
        "also changed here; the booking system's version was written over it."
    )


def _update(
    runtime: Runtime, connector: Connector, job: Job, action: Update, event: OutboundEvent
) -> Done | Failed:
    try:
        return Done(
            written=connector.update_event(job.calendar, action.remote_id, event, etag=action.etag)
        )
    except RemoteNotFound:
        current = None
    except PreconditionFailed:
        current = connector.get_event(job.calendar, action.remote_id)
    remote = _remote_state(job, current)
    decision = runtime.policy(Local.CHANGED, remote)
    if decision.outcome is not Outcome.KEEP_LOCAL:
        return Failed("defer", "the event changed remotely; the next pull decides")
    conflict = _overwrote(job, remote) if decision.overwrites_remote else None
    if current is None:
        return Done(written=connector.create_event(job.calendar, event), conflict=conflict)
    written = connector.update_event(job.calendar, action.remote_id, event, etag=current.etag)
    return Done(written=written, conflict=conflict)


def _delete(runtime: Runtime, connector: Connector, job: Job, action: Delete) -> Done | Failed:
    try:
        connector.delete_event(job.calendar, action.remote_id, etag=action.etag)
        return Done(deleted=True)
    except RemoteNotFound:
        return Done(deleted=True)
    except PreconditionFailed:
        current = connector.get_event(job.calendar, action.remote_id)
    if current is None:
        return Done(deleted=True)
    remote = _remote_state(job, current)
    decision = runtime.policy(Local.CANCELLED, remote)
    if decision.outcome is not Outcome.KEEP_LOCAL:
        return Failed("defer", "the event changed remotely; the next pull decides")
    connector.delete_event(job.calendar, action.remote_id, etag=current.etag)
    return Done(
        deleted=True, conflict=_overwrote(job, remote) if decision.overwrites_remote else None
    )


def execute(runtime: Runtime, connector: Connector, job: Job) -> Done | Failed:
    """The execute phase: the connector calls of one row, errors turned into outcomes."""
    action, event = job.action, job.event
    try:
        if isinstance(action, Create) and event is not None:
            return Done(written=connector.create_event(job.calendar, event))
        if isinstance(action, Update) and event is not None:
            return _update(runtime, connector, job, action, event)
        if isinstance(action, Delete):
            return _delete(runtime, connector, job, action)
        return Done()
    except NeedsReauth as exc:
        return Failed("reauth", str(exc))
    except RemoteNotFound as exc:
        return Failed("gone", f"{CALENDAR_GONE} ({exc})")
    except RemoteRejected as exc:
        return Failed("rejected", str(exc))
    except Transient as exc:
        return Failed("retry", str(exc), exc.retry_after)
    except ConnectorError as exc:  # a second 412, an unexpected cursor error: try again later
        return Failed("retry", str(exc))
    except Exception as exc:  # a bug must not stop the other rows
        log.exception("Writing booking %s to calendar %s failed", job.booking_id, job.calendar_id)
        return Failed("retry", f"internal error: {exc!r}")
