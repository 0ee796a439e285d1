"""events.list, events.instances and calendarList.list: filters, paging and sync tokens.

Paging follows https://developers.google.com/workspace/calendar/api/guides/sync: the result is
fixed when the first page is asked for; every page but the last carries ``nextPageToken``, only
the last carries ``nextSyncToken``. A page token is bound to the query that made it. Sync and
page tokens are opaque random strings kept here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from .accounts import ACCESS_ROLES, FakeAccount
from .calendar import FakeCalendar
from .errors import ApiError, full_sync_required, invalid, time_range_empty
from .events import Event, render, span
from .state import State
from .store import Stored
from .timeutil import TimeFormatError, format_timestamp, parse_datetime, zone

DEFAULT_PAGE, MAX_PAGE = 250, 2500
DEFAULT_LIST_PAGE, MAX_LIST_PAGE = 100, 250
# Parameters events.list refuses next to syncToken (discovery doc, syncToken).
SYNC_INCOMPATIBLE = (
    "iCalUID orderBy privateExtendedProperty q sharedExtendedProperty timeMin timeMax updatedMin"
).split()
DEFAULT_REMINDERS = [{"method": "popup", "minutes": 10}]

Since = Callable[[int, str], bool]


@dataclasses.dataclass
class SyncToken:
    calendar: FakeCalendar
    seq: int
    generation: int
    single_events: bool
    event_types: tuple[str, ...]


@dataclasses.dataclass
class ListSyncToken:
    account: FakeAccount
    seq: int


@dataclasses.dataclass(frozen=True)
class Result:
    """A list result, fixed when its first page was asked for."""

    key: tuple[Any, ...]
    items: list[Event]
    sync_token: str | None = None


@dataclasses.dataclass(frozen=True)
class Cursor:
    """Where a page token points: asking twice for one token gives the same page."""

    result: Result
    offset: int = 0
    page: int = 0


def _key(kind: str, target: str, params: dict[str, Any]) -> tuple[Any, ...]:
    bound = tuple(
        sorted(
            (k, tuple(v) if isinstance(v, list) else v)
            for k, v in params.items()
            if k not in ("pageToken", "maxResults", "fields")
        )
    )
    return (kind, target, bound)


class Lister:
    """List operations of one fake, with the tokens they hand out."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._sync: dict[str, SyncToken] = {}
        self._list_sync: dict[str, ListSyncToken] = {}
        self._cursors: dict[str, Cursor] = {}

    # -- paging ----------------------------------------------------------------------------

    def _cursor(self, key: tuple[Any, ...], params: dict[str, Any]) -> Cursor | None:
        token = params.get("pageToken")
        if token is None:
            return None
        cursor = self._cursors.get(token)
        if cursor is None or cursor.result.key != key:
            raise invalid("Invalid page token value.", location="pageToken")
        return cursor

    def _page(self, cursor: Cursor, page_size: int) -> tuple[list[Event], dict[str, str]]:
        result, short = cursor.result, self._state.short_pages
        if short:
            page_size = 0 if cursor.page % 3 == 1 else max(1, page_size // 2)
        items = result.items[cursor.offset : cursor.offset + page_size]
        following = Cursor(result, cursor.offset + len(items), cursor.page + 1)
        if following.offset < len(result.items) or (short and following.page % 3 == 1):
            token = secrets.token_urlsafe(24)
            self._cursors[token] = following
            return items, {"nextPageToken": token}
        if result.sync_token is not None:
            return items, {"nextSyncToken": result.sync_token}
        return items, {}

    # -- events.list -----------------------------------------------------------------------

    def events(self, calendar: FakeCalendar, role: str, params: dict[str, Any]) -> dict[str, Any]:
        """events.list on ``calendar`` for a reader with ``role``.

        Raises:
            ApiError: 400 for parameters Google refuses, 410 for an expired sync token.
        """
        key = _key("events", calendar.id, params)
        page_size = min(params.get("maxResults", DEFAULT_PAGE), MAX_PAGE)
        tz = response_zone(calendar, params)
        cursor = self._cursor(key, params)
        if cursor is None:
            since = self._check_list(calendar, params)
            items = self._select(calendar, params, since)
            rendered = [
                render(
                    item,
                    tz=tz,
                    calendar_id=calendar.id,
                    max_attendees=params.get("maxAttendees"),
                    minimal=item["status"] == "cancelled",
                    busy_only=role == "freeBusyReader",
                )
                for item in items
            ]
            sync_token = secrets.token_urlsafe(24)
            self._sync[sync_token] = SyncToken(
                calendar,
                self._state.seq,
                calendar.sync_generation,
                bool(params.get("singleEvents")),
                tuple(sorted(params.get("eventTypes") or ())),
            )
            cursor = Cursor(Result(key, rendered, sync_token))
        items, tokens = self._page(cursor, page_size)
        return {**_collection(calendar, role), **tokens, "items": items}

    def _check_list(self, calendar: FakeCalendar, params: dict[str, Any]) -> Since | None:
        single = bool(params.get("singleEvents"))
        if params.get("orderBy") == "startTime" and not single:
            raise invalid(
                "The requested ordering is not available for the particular query.",
                location="orderBy",
            )
        if "timeMin" in params and "timeMax" in params and params["timeMin"] >= params["timeMax"]:
            raise time_range_empty("timeMax")
        token_text = params.get("syncToken")
        if token_text is None:
            if "updatedMin" in params:
                updated_min: dt.datetime = params["updatedMin"]
                return lambda seq, updated: parse_datetime(updated) >= updated_min
            return None
        for name in SYNC_INCOMPATIBLE:
            if name in params:
                raise invalid(f"The parameter {name} cannot be used with syncToken.", location=name)
        if params.get("showDeleted") is False:
            raise invalid(
                "showDeleted=false cannot be used with syncToken.", location="showDeleted"
            )
        token = self._sync.get(token_text)
        if (
            token is None
            or token.calendar is not calendar
            or token.generation != calendar.sync_generation
        ):
            raise full_sync_required()
        if token.single_events != single:
            raise invalid(
                "singleEvents must match the request that produced the sync token.",
                location="singleEvents",
            )
        if token.event_types != tuple(sorted(params.get("eventTypes") or ())):
            raise invalid(
                "eventTypes must match the request that produced the sync token.",
                location="eventTypes",
            )
        floor = token.seq
        return lambda seq, updated: seq > floor

    def _select(
        self, calendar: FakeCalendar, params: dict[str, Any], since: Since | None
    ) -> list[Event]:
        store = calendar.store
        single = bool(params.get("singleEvents"))
        show_deleted = bool(params.get("showDeleted")) or since is not None
        until: dt.datetime | None = params.get("timeMax")
        chosen: list[Event] = []

        def changed(s: Stored) -> bool:
            return since is None or since(s.seq, s.data["updated"])

        for stored in store.stored():
            if stored.is_exception:
                if single:
                    continue  # reached through its series
                master = store.master(stored.data["recurringEventId"])
                live_series = master is not None and not master.cancelled
                if changed(stored) and (not stored.cancelled or show_deleted or live_series):
                    chosen.append(stored.data)
            elif stored.is_master and single:
                if stored.cancelled:
                    continue  # its instances come back as ghosts on incremental sync
                series_changed = since is not None and changed(stored)
                for instance in store.instances(stored, until=until):
                    if since is not None and not series_changed:
                        if instance.exception is None or not changed(instance.exception):
                            continue
                    if instance.data["status"] != "cancelled" or show_deleted:
                        chosen.append(instance.data)
            elif changed(stored) and (not stored.cancelled or show_deleted):
                chosen.append(stored.data)
        if single and since is not None:
            seen = {e["id"] for e in chosen}
            chosen.extend(
                g.data
                for g in store.ghosts()
                if since(g.seq, g.data["updated"]) and g.data["id"] not in seen
            )
        chosen = [e for e in chosen if _matches(e, params, calendar, single)]
        if params.get("orderBy") == "startTime":
            chosen.sort(key=lambda e: (span(e, calendar.store.tz)[0], e["id"]))
        elif params.get("orderBy") == "updated":
            chosen.sort(key=lambda e: (e["updated"], e["id"]))
        return chosen

    # -- events.instances ------------------------------------------------------------------

    def instances(
        self, calendar: FakeCalendar, role: str, event_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """events.instances: the occurrences of one series (``timeMin`` is inclusive here).

        Raises:
            ApiError: 404 unknown event, 400 bad parameters.
        """
        key = _key("instances", f"{calendar.id}/{event_id}", params)
        page_size = min(params.get("maxResults", DEFAULT_PAGE), MAX_PAGE)
        tz = response_zone(calendar, params)
        cursor = self._cursor(key, params)
        if cursor is None:
            store = calendar.store
            stored = store.master(event_id)
            if stored is None:
                single = store.get(event_id)
                if single is None:
                    raise ApiError(404, "notFound")
                candidates = [single]
            else:
                candidates = [i.data for i in store.instances(stored, until=params.get("timeMax"))]
            items = []
            for event in candidates:
                start, end = span(event, store.tz)
                if "timeMin" in params and end < params["timeMin"]:
                    continue
                if "timeMax" in params and start >= params["timeMax"]:
                    continue
                if event["status"] == "cancelled" and not params.get("showDeleted"):
                    continue
                if "originalStart" in params and not _same_original(event, params["originalStart"]):
                    continue
                items.append(
                    render(
                        event,
                        tz=tz,
                        calendar_id=calendar.id,
                        max_attendees=params.get("maxAttendees"),
                        minimal=event["status"] == "cancelled",
                        busy_only=role == "freeBusyReader",
                    )
                )
            cursor = Cursor(Result(key, items))
        items, tokens = self._page(cursor, page_size)
        return {**_collection(calendar, role), **tokens, "items": items}

    # -- calendarList.list -----------------------------------------------------------------

    def calendar_list(self, account: FakeAccount, params: dict[str, Any]) -> dict[str, Any]:
        """calendarList.list for ``account``.

        Raises:
            ApiError: 400 bad parameters, 410 unknown sync token.
        """
        key = _key("calendarList", account.email, params)
        page_size = min(params.get("maxResults", DEFAULT_LIST_PAGE), MAX_LIST_PAGE)
        cursor = self._cursor(key, params)
        if cursor is None:
            floor = -1
            token_text = params.get("syncToken")
            if token_text is not None:
                for name in ("showDeleted", "showHidden"):
                    if params.get(name) is False:
                        raise invalid(f"{name}=false cannot be used with syncToken.", location=name)
                if "minAccessRole" in params:
                    raise invalid(
                        "minAccessRole cannot be used with syncToken.", location="minAccessRole"
                    )
                token = self._list_sync.get(token_text)
                if token is None or token.account is not account:
                    raise full_sync_required()
                floor = token.seq
            minimum = ACCESS_ROLES.index(params.get("minAccessRole", "freeBusyReader"))
            items = []
            for entry in account.entries():
                if entry.seq <= floor or ACCESS_ROLES.index(entry.access_role) < minimum:
                    continue
                if entry.deleted:
                    if token_text is not None or params.get("showDeleted"):
                        items.append(
                            {
                                "kind": "calendar#calendarListEntry",
                                "etag": State.etag(entry.seq),
                                "id": entry.calendar.id,
                                "deleted": True,
                            }
                        )
                    continue
                items.append(list_entry(entry.calendar, entry.access_role, entry.seq))
            sync_token = secrets.token_urlsafe(24)
            self._list_sync[sync_token] = ListSyncToken(account, self._state.seq)
            cursor = Cursor(Result(key, items, sync_token))
        items, tokens = self._page(cursor, page_size)
        return {
            "kind": "calendar#calendarList",
            "etag": State.etag(self._state.seq),
            **tokens,
            "items": items,
        }


def response_zone(calendar: FakeCalendar, params: dict[str, Any]) -> ZoneInfo:
    name = params.get("timeZone")
    if name is None:
        return calendar.store.tz
    try:
        return zone(name)
    except TimeFormatError:
        raise invalid(f"Invalid time zone: {name}", location="timeZone") from None


def _collection(calendar: FakeCalendar, role: str) -> dict[str, Any]:
    return {
        "kind": "calendar#events",
        "etag": calendar.etag,
        "summary": calendar.summary,
        "updated": format_timestamp(calendar.updated),
        "timeZone": calendar.time_zone,
        "accessRole": role,
        "defaultReminders": list(DEFAULT_REMINDERS) if role in ("owner", "writer") else [],
    }


def list_entry(calendar: FakeCalendar, role: str, seq: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kind": "calendar#calendarListEntry",
        "etag": State.etag(seq),
        "id": calendar.id,
        "summary": calendar.summary,
        "timeZone": calendar.time_zone,
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": role,
        "defaultReminders": list(DEFAULT_REMINDERS) if role in ("owner", "writer") else [],
    }
    if calendar.primary and role == "owner":
        entry["primary"] = True
    return entry


def _matches(event: Event, params: dict[str, Any], calendar: FakeCalendar, single: bool) -> bool:
    store = calendar.store
    types = params.get("eventTypes")
    if types and event.get("eventType", "default") not in types:
        return False
    if "iCalUID" in params and event.get("iCalUID") != params["iCalUID"]:
        return False
    for param, scope in (
        ("privateExtendedProperty", "private"),
        ("sharedExtendedProperty", "shared"),
    ):
        props = (event.get("extendedProperties") or {}).get(scope) or {}
        for constraint in params.get(param) or ():
            name, _, value = constraint.partition("=")
            if props.get(name) != value:
                return False
    if "q" in params and not _text_match(event, params["q"]):
        return False
    low, high = params.get("timeMin"), params.get("timeMax")
    if low is None and high is None:
        return True
    master = store.master(event["id"])
    if master is not None and not single:
        return any(
            _overlaps(i.data, low, high, store.tz)
            for i in store.instances(master, until=high)
            if i.data["status"] != "cancelled"
        )
    return _overlaps(event, low, high, store.tz)


def _overlaps(
    event: Event, low: dt.datetime | None, high: dt.datetime | None, tz: dt.tzinfo
) -> bool:
    start, end = span(event, tz)
    return (low is None or end > low) and (high is None or start < high)


def _text_match(event: Event, query: str) -> bool:
    haystack = [event.get(k) or "" for k in ("summary", "description", "location")]
    for person in [event.get("organizer") or {}, *(event.get("attendees") or [])]:
        haystack += [person.get("email") or "", person.get("displayName") or ""]
    text = " ".join(haystack).lower()
    return all(word in text for word in query.lower().split())


def _same_original(event: Event, original: str) -> bool:
    value = event.get("originalStartTime") or event["start"]
    try:
        if "date" in value:
            return bool(value["date"] == original)
        return parse_datetime(value["dateTime"]) == parse_datetime(original)
    except TimeFormatError:
        return False
