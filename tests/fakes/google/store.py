"""One calendar's events: insert, update, patch, delete, and recurring series with exceptions.

What is stored: one-off events, series masters (with ``recurrence``) and exceptions (an
instance that was changed or cancelled, stored under its instance id with ``recurringEventId``
and ``originalStartTime``). Deleting never removes anything: the event becomes a
``status: "cancelled"`` tombstone (https://developers.google.com/workspace/calendar/api/v3/reference/events).

Every modification takes a new change number from :class:`~.state.State`; incremental sync
returns what changed after the number a sync token holds. When a change to a series master
makes instances vanish (series deleted, rule shortened, EXDATE added), each vanished instance
is kept as a *ghost* tombstone with that change number, so a ``singleEvents=true`` incremental
sync reports it as cancelled.

All methods expect the caller to hold the state lock.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import itertools
import secrets
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

from . import recurrence
from .errors import ApiError, invalid, not_found
from .events import (
    EVENT_ID,
    EVENT_TYPES,
    Event,
    check_event,
    merge_patch,
    series_zone,
    stored_when,
)
from .state import State
from .timeutil import format_timestamp

_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"
# Server fields an update keeps from the stored event.
_KEPT_ON_UPDATE = (
    "kind id htmlLink created creator organizer iCalUID eventType recurringEventId"
    " originalStartTime"
).split()
_TIMING = ("start", "end", "recurrence")


@dataclasses.dataclass
class Stored:
    """A stored event (one-off, master or exception) and the change number of its last change."""

    data: Event
    seq: int
    order: int

    @property
    def is_master(self) -> bool:
        return "recurrence" in self.data

    @property
    def is_exception(self) -> bool:
        return "recurringEventId" in self.data

    @property
    def cancelled(self) -> bool:
        return bool(self.data["status"] == "cancelled")


@dataclasses.dataclass
class Ghost:
    """An instance that vanished from a series, as a cancelled instance."""

    data: Event
    seq: int


@dataclasses.dataclass(frozen=True)
class Instance:
    """One occurrence of a series: computed from the master, or its stored exception."""

    id: str
    data: Event
    exception: Stored | None


def instance_id(series_id: str, occurrence: recurrence.Occurrence) -> str:
    """``{seriesId}_{YYYYMMDDTHHMMSSZ}`` (UTC) if timed, ``{seriesId}_{YYYYMMDD}`` if all-day."""
    if isinstance(occurrence, dt.datetime):
        return f"{series_id}_{occurrence.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    return f"{series_id}_{occurrence:%Y%m%d}"


class EventStore:
    """The events of one calendar.

    Args:
        state: the shared state (clock and change numbers).
        calendar_id: the calendar's id (for ``htmlLink`` and ``self`` flags).
        time_zone: the calendar's zone.
        organizer: the ``organizer`` of events created here.
        creator_email: the ``creator`` of events created here.
        on_change: called after every modification.
    """

    def __init__(
        self,
        state: State,
        calendar_id: str,
        time_zone: str,
        *,
        organizer: dict[str, object],
        creator_email: str,
        on_change: Callable[[], None],
    ) -> None:
        self._state = state
        self.calendar_id = calendar_id
        self.tz = ZoneInfo(time_zone)
        self._organizer = organizer
        self._creator = {"email": creator_email, "self": True}
        self._on_change = on_change
        self._events: dict[str, Stored] = {}
        self._ghosts: dict[str, Ghost] = {}
        self._order = itertools.count()

    # -- reading ---------------------------------------------------------------------------

    def stored(self) -> list[Stored]:
        """Every stored event (tombstones too), in creation order."""
        return sorted(self._events.values(), key=lambda s: s.order)

    def ghosts(self) -> list[Ghost]:
        return list(self._ghosts.values())

    def get(self, event_id: str) -> Event | None:
        """The stored event or the instance with that id (tombstones too), else None."""
        stored = self._events.get(event_id)
        if stored is not None:
            return stored.data
        instance = self.instance(event_id)
        return None if instance is None else instance.data

    def master(self, event_id: str) -> Stored | None:
        stored = self._events.get(event_id)
        return stored if stored is not None and stored.is_master else None

    def instances(self, master: Stored, *, until: dt.datetime | None = None) -> Iterator[Instance]:
        """The occurrences of a series in order, exceptions in place of their occurrence."""
        data = master.data
        tz = series_zone(data, self.tz)
        start, end = stored_when(data["start"]), stored_when(data["end"])
        duration = end.utc(tz) - start.utc(tz)
        first: recurrence.Occurrence = start.day or start.utc(tz).astimezone(tz)
        cancelled = master.cancelled
        for occurrence in recurrence.occurrences(data["recurrence"], first, tz, until=until):
            iid = instance_id(data["id"], occurrence)
            exception = self._events.get(iid)
            if exception is not None and exception.data.get("recurringEventId") == data["id"]:
                yield Instance(iid, exception.data, exception)
            else:
                computed = self._computed(data, iid, occurrence, duration)
                if cancelled:
                    computed["status"] = "cancelled"
                yield Instance(iid, computed, None)

    def instance(self, event_id: str) -> Instance | None:
        """The instance with that id, if it names an occurrence of a stored series."""
        series_id, sep, suffix = event_id.rpartition("_")
        master = self.master(series_id) if sep else None
        if master is None:
            return None
        try:
            if len(suffix) == 8:
                moment = dt.datetime.strptime(suffix, "%Y%m%d").replace(tzinfo=dt.UTC)
                until = moment + dt.timedelta(days=2)
            else:
                moment = dt.datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
                until = moment + dt.timedelta(seconds=1)
        except ValueError:
            return None
        for candidate in self.instances(master, until=until):
            if candidate.id == event_id:
                return candidate
        return None

    def _computed(
        self,
        master: Event,
        iid: str,
        occurrence: recurrence.Occurrence,
        duration: dt.timedelta,
    ) -> Event:
        data = {k: v for k, v in master.items() if k != "recurrence"}
        data["id"] = iid
        data["recurringEventId"] = master["id"]
        if isinstance(occurrence, dt.datetime):
            begin = occurrence.astimezone(dt.UTC)
            start = {"dateTime": f"{begin:%Y-%m-%dT%H:%M:%SZ}"}
            end = {"dateTime": f"{begin + duration:%Y-%m-%dT%H:%M:%SZ}"}
        else:
            start = {"date": occurrence.isoformat()}
            end = {"date": (occurrence + dt.timedelta(days=duration.days)).isoformat()}
        for value, original in ((start, master["start"]), (end, master["end"])):
            if "timeZone" in original:
                value["timeZone"] = original["timeZone"]
        data["start"], data["end"], data["originalStartTime"] = start, end, dict(start)
        return data

    def _instance_map(self, stored: Stored | None) -> dict[str, Event]:
        if stored is None or not stored.is_master or stored.cancelled:
            return {}
        return {i.id: i.data for i in self.instances(stored)}

    # -- writing ---------------------------------------------------------------------------

    def insert(self, body: object, *, allow_any_type: bool = False) -> Event:
        """events.insert.

        Args:
            body: the request body.
            allow_any_type: also accept types the API refuses to create (``fromGmail``); for
                changes "made in the UI".

        Raises:
            ApiError: 400 invalid body or id, 409 duplicate id or iCalUID.
        """
        if not isinstance(body, dict):
            raise ApiError(400, "parseError", "Parse Error")
        fields = check_event(body, instance=False, calendar_tz=self.tz)
        event_id = body.get("id")
        if event_id is None:
            event_id = "".join(secrets.choice(_BASE32HEX) for _ in range(26))
        elif not isinstance(event_id, str) or not EVENT_ID.match(event_id):
            raise invalid("Invalid resource id value.")
        if event_id in self._events:
            raise ApiError(409, "duplicate")
        ical_uid = body.get("iCalUID")
        if ical_uid is not None:
            if not isinstance(ical_uid, str) or not ical_uid:
                raise invalid("Invalid iCalUID value.")
            if any(
                s.data["iCalUID"] == ical_uid for s in self._events.values() if not s.is_exception
            ):
                raise ApiError(409, "duplicate")
        event_type = body.get("eventType") or "default"
        if event_type not in EVENT_TYPES:
            raise invalid(f"Invalid event type: {event_type!r}")
        if event_type == "fromGmail" and not allow_any_type:
            raise invalid("Events of type fromGmail cannot be created.")
        link = base64.urlsafe_b64encode(f"{event_id} {self.calendar_id}".encode()).decode()
        data: Event = {
            "kind": "calendar#event",
            "id": event_id,
            "status": "confirmed",
            "htmlLink": "https://www.google.com/calendar/event?eid=" + link.rstrip("="),
            "created": format_timestamp(self._state.now()),
            "creator": dict(self._creator),
            "organizer": dict(self._organizer),
            "iCalUID": ical_uid or f"{event_id}@google.com",
            "sequence": 0,
            "reminders": {"useDefault": True},
            "eventType": event_type,
        }
        data.update(fields)
        stored = Stored(data, self._touch(data), next(self._order))
        self._events[event_id] = stored
        for iid in self._instance_map(stored):
            self._ghosts.pop(iid, None)
        self._on_change()
        return data

    def update(self, event_id: str, body: object, *, patch: bool, if_match: str | None) -> Event:
        """events.patch (``patch=True``) or events.update, on events and instance ids alike.

        Raises:
            ApiError: 404 unknown id, 412 stale If-Match, 400 invalid body.
        """
        target = self._locate(event_id)
        current = target.data
        _check_if_match(current, if_match)
        if not isinstance(body, dict):
            raise ApiError(400, "parseError", "Parse Error")
        if body.get("eventType") is not None and body["eventType"] != current["eventType"]:
            raise invalid("The event type cannot be changed.")
        if body.get("id") is not None and body["id"] != current["id"]:
            raise invalid("The event id cannot be changed.")
        if patch:
            merged = merge_patch(current, body)
        else:
            merged = dict(body)
            if merged.get("status") is None:
                merged["status"] = "cancelled" if current["status"] == "cancelled" else "confirmed"
        fields = check_event(merged, instance="recurringEventId" in current, calendar_tz=self.tz)
        data: Event = {k: copy.deepcopy(current[k]) for k in _KEPT_ON_UPDATE if k in current}
        data["status"] = "confirmed"
        data["reminders"] = {"useDefault": True}
        data.update(fields)
        supplied = body.get("sequence")
        if isinstance(supplied, int) and supplied < current["sequence"]:
            raise invalid(
                "Invalid sequence value. The specified sequence number is below the current"
                " sequence number of the resource."
            )
        moved = any(data.get(k) != current.get(k) for k in _TIMING)
        data["sequence"] = max(supplied or 0, current["sequence"] + (1 if moved else 0))
        self._replace(target, data)
        return data

    def delete(self, event_id: str, *, if_match: str | None) -> None:
        """events.delete: the event (or instance) becomes a cancelled tombstone.

        Raises:
            ApiError: 404 unknown id, 410 already deleted, 412 stale If-Match.
        """
        target = self._locate(event_id)
        if target.data["status"] == "cancelled":
            raise ApiError(410, "deleted")
        _check_if_match(target.data, if_match)
        data = copy.deepcopy(target.data)
        data["status"] = "cancelled"
        self._replace(target, data)

    def _locate(self, event_id: str) -> Stored | Instance:
        stored = self._events.get(event_id)
        if stored is not None:
            return stored
        instance = self.instance(event_id)
        if instance is None:
            raise not_found()
        return instance

    def _replace(self, target: Stored | Instance, data: Event) -> None:
        """Store ``data`` in place of ``target``, keeping exceptions and ghosts consistent."""
        if isinstance(target, Instance):
            self._events[data["id"]] = Stored(data, self._touch(data), next(self._order))
            self._on_change()
            return
        before = self._instance_map(target)
        target.data = data
        target.seq = self._touch(data)
        if target.is_master and target.cancelled:
            for other in self._events.values():
                if other.data.get("recurringEventId") == data["id"] and not other.cancelled:
                    other.data = dict(other.data, status="cancelled")
                    other.seq = self._touch(other.data)
        after = self._instance_map(target)
        ghost_seq = self._state.next_seq() if before.keys() - after.keys() else 0
        for iid in before.keys() - after.keys():
            ghost = dict(before[iid], status="cancelled")
            ghost["etag"] = State.etag(ghost_seq)
            ghost["updated"] = data["updated"]
            self._ghosts[iid] = Ghost(ghost, ghost_seq)
        for iid in after:
            self._ghosts.pop(iid, None)
        self._on_change()

    def _touch(self, data: Event) -> int:
        seq = self._state.next_seq()
        data["etag"] = State.etag(seq)
        data["updated"] = format_timestamp(self._state.now())
        return seq


def _check_if_match(event: Event, if_match: str | None) -> None:
    """Versioning (https://developers.google.com/workspace/calendar/api/guides/version-resources)."""
    if if_match is None:
        return
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags or event["etag"] in tags:
        return
    raise ApiError(412, "conditionNotMet", location_type="header", location="If-Match")
