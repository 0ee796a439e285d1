"""What an outbox row means, decided by a pure function of three small views.

The plan never looks at the remote side: what the remote side did is the inbound pull's
business (and :mod:`.policy`'s when both sides changed). Rules:

====================================  ===========================  ==========================
booking                               mirror in this calendar      action
====================================  ===========================  ==========================
cancelled                             live                         Delete (at the mirror's etag)
cancelled                             none or deleted              Nothing
confirmed, calendar is a destination  none or deleted              Create (idempotent)
confirmed, calendar is a destination  live, behind the booking     Update (at the mirror's etag)
confirmed, calendar is a destination  live, up to date             Nothing
confirmed, not a destination, future  live                         Delete (moved elsewhere)
confirmed, not a destination, past    any                          Nothing (kept as a record)
====================================  ===========================  ==========================
"""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True, slots=True)
class BookingView:
    """The booking as the plan needs it."""

    id: int
    version: int
    confirmed: bool
    end: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class MirrorView:
    """The booking's mirror in the calendar (``live``: not deleted)."""

    remote_id: str
    etag: str | None
    booking_version: int
    live: bool


@dataclasses.dataclass(frozen=True, slots=True)
class CalendarView:
    """The calendar's role."""

    is_destination: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Create:
    """Write the booking's event (the connector derives its id from the booking UID)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Update:
    """Rewrite the event, if it is still at ``etag``."""

    remote_id: str
    etag: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Delete:
    """Delete the event, if it is still at ``etag``."""

    remote_id: str
    etag: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Nothing:
    """Nothing to write; ``reason`` says why (for logs)."""

    reason: str


Action = Create | Update | Delete | Nothing


def plan(
    booking: BookingView, mirror: MirrorView | None, calendar: CalendarView, now: dt.datetime
) -> Action:
    """The action that makes ``calendar``'s copy of ``booking`` match it (see the table above).

    Args:
        booking: the booking as it is now.
        mirror: its mirror in the calendar, if one was ever written.
        calendar: the calendar's role.
        now: decides whether a booking is past.

    Returns:
        One of :class:`Create`, :class:`Update`, :class:`Delete`, :class:`Nothing`.
    """
    live = mirror is not None and mirror.live
    if not booking.confirmed:
        if mirror is not None and live:
            return Delete(mirror.remote_id, mirror.etag)
        return Nothing("cancelled and not in the calendar")
    if not calendar.is_destination:
        if mirror is not None and live and booking.end > now:
            return Delete(mirror.remote_id, mirror.etag)
        return Nothing("not a destination calendar")
    if mirror is None or not live:
        return Create()
    if mirror.booking_version < booking.version:
        return Update(mirror.remote_id, mirror.etag)
    return Nothing("up to date")
