"""The Calendar API v3 routes under ``/calendar/v3/``: routing, auth, scopes, access roles."""

from __future__ import annotations

import dataclasses
import json
import logging
import urllib.parse
from collections.abc import Callable
from typing import Any

from . import fields, freebusy, params
from .accounts import FakeAccount
from .calendar import FakeCalendar
from .errors import ApiError, insufficient_scopes, not_found
from .events import Event, render
from .listing import Lister, list_entry, response_zone
from .oauth import SCOPE_PREFIX, OAuth
from .push import Push
from .state import State
from .wire import RecordedRequest, Response

logger = logging.getLogger(__name__)

PREFIX = "/calendar/v3/"


def _scopes(*names: str) -> frozenset[str]:
    return frozenset(SCOPE_PREFIX + n for n in names)


_READ = _scopes("calendar", "calendar.readonly", "calendar.events", "calendar.events.readonly")
_WRITE = _scopes("calendar", "calendar.events")
_LIST = _scopes(
    "calendar", "calendar.readonly", "calendar.calendarlist", "calendar.calendarlist.readonly"
)
_FREEBUSY = _READ | _scopes("calendar.freebusy", "calendar.events.freebusy")
SCOPES = {
    "events.list": _READ,
    "events.get": _READ,
    "events.instances": _READ,
    "events.watch": _READ,
    "events.insert": _WRITE,
    "events.patch": _WRITE,
    "events.update": _WRITE,
    "events.delete": _WRITE,
    "channels.stop": _READ | _LIST,
    "calendarList.list": _LIST,
    "calendarList.get": _LIST,
    "calendars.get": _LIST,
    "freebusy.query": _FREEBUSY,
}
_WRITERS = ("owner", "writer")
_EVENT_METHODS = {
    "GET": "events.get",
    "PATCH": "events.patch",
    "PUT": "events.update",
    "DELETE": "events.delete",
}


def route(method: str, segments: list[str]) -> tuple[str, list[str]] | None:
    """The API method a request names, and its path arguments."""
    if any(not s for s in segments):
        return None
    match segments:
        case ["calendars", calendar_id, "events"] if method in ("GET", "POST"):
            return ("events.list" if method == "GET" else "events.insert"), [calendar_id]
        case ["calendars", calendar_id, "events", "watch"] if method == "POST":
            return "events.watch", [calendar_id]
        case ["calendars", calendar_id, "events", event_id] if method in _EVENT_METHODS:
            return _EVENT_METHODS[method], [calendar_id, event_id]
        case ["calendars", calendar_id, "events", event_id, "instances"] if method == "GET":
            return "events.instances", [calendar_id, event_id]
        case ["channels", "stop"] if method == "POST":
            return "channels.stop", []
        case ["users", "me", "calendarList"] if method == "GET":
            return "calendarList.list", []
        case ["users", "me", "calendarList", calendar_id] if method == "GET":
            return "calendarList.get", [calendar_id]
        case ["calendars", calendar_id] if method == "GET":
            return "calendars.get", [calendar_id]
        case ["freeBusy"] if method == "POST":
            return "freebusy.query", []
    return None


@dataclasses.dataclass(frozen=True)
class Call:
    """One API call: who makes it, its typed parameters, the request, the path arguments."""

    account: FakeAccount
    query: dict[str, Any]
    request: RecordedRequest
    calendar_id: str = ""
    event_id: str = ""


def _body(request: RecordedRequest) -> Any:
    if not request.body.strip():
        return {}
    try:
        return json.loads(request.body)
    except ValueError:
        raise ApiError(400, "parseError", "Parse Error") from None


class Api:
    """Answers Calendar API requests (all under the state lock)."""

    def __init__(self, state: State, oauth: OAuth, lister: Lister, push: Push) -> None:
        self._state = state
        self._oauth = oauth
        self._lister = lister
        self._push = push
        self._handlers: dict[str, Callable[[Call], Response]] = {
            "events.list": self._list,
            "events.insert": self._insert,
            "events.watch": self._watch,
            "events.get": self._get,
            "events.patch": self._patch,
            "events.update": self._update,
            "events.delete": self._delete,
            "events.instances": self._instances,
            "channels.stop": self._stop,
            "calendarList.list": self._calendar_list,
            "calendarList.get": self._calendar_list_entry,
            "calendars.get": self._calendar_resource,
            "freebusy.query": self._freebusy,
        }

    def handle(self, request: RecordedRequest) -> Response:
        """Answer one request; API errors become Google's error bodies."""
        try:
            with self._state.lock:
                return self._handle(request)
        except ApiError as exc:
            logger.info(
                "fake Google: %s %s -> %d %s", request.method, request.path, exc.code, exc.reason
            )
            return Response(exc.code, exc.body(), exc.headers)

    def _handle(self, request: RecordedRequest) -> Response:
        segments = [urllib.parse.unquote(s) for s in request.path[len(PREFIX) :].split("/")]
        found = route(request.method, segments)
        if found is None:
            raise not_found()
        method, arguments = found
        token = self._oauth.authenticate(request.headers.get("authorization"))
        if not set(token.scopes) & SCOPES[method]:
            raise insufficient_scopes()
        query = params.parse(method, request.query)
        selection = fields.parse(query.pop("fields")) if "fields" in query else None
        call = Call(token.account, query, request, *arguments)
        response = self._handlers[method](call)
        if selection is not None and response.body is not None and response.status == 200:
            response.body = fields.apply(response.body, selection)
        logger.info("fake Google: %s %s -> %d", request.method, request.path, response.status)
        return response

    def _calendar(self, call: Call, *, write: bool = False) -> tuple[FakeCalendar, str]:
        account = call.account
        calendar_id = call.calendar_id
        found = account.access_role(account.email if calendar_id == "primary" else calendar_id)
        if found is None:
            raise not_found()
        if write and found[1] not in _WRITERS:
            raise ApiError(403, "requiredAccessLevel")
        return found

    def _event_response(
        self, calendar: FakeCalendar, role: str, event: Event, query: dict[str, Any]
    ) -> Response:
        tz = response_zone(calendar, query)
        body = render(
            event,
            tz=tz,
            calendar_id=calendar.id,
            max_attendees=query.get("maxAttendees"),
            busy_only=role == "freeBusyReader",
        )
        return Response(200, body, {"ETag": event["etag"]})

    # -- handlers --------------------------------------------------------------------------

    def _list(self, call: Call) -> Response:
        calendar, role = self._calendar(call)
        return Response(200, self._lister.events(calendar, role, call.query))

    def _instances(self, call: Call) -> Response:
        calendar, role = self._calendar(call)
        return Response(200, self._lister.instances(calendar, role, call.event_id, call.query))

    def _insert(self, call: Call) -> Response:
        calendar, role = self._calendar(call, write=True)
        event = calendar.store.insert(_body(call.request))
        return self._event_response(calendar, role, event, call.query)

    def _get(self, call: Call) -> Response:
        calendar, role = self._calendar(call)
        event = calendar.store.get(call.event_id)
        if event is None:
            raise not_found()
        if_none_match = call.request.headers.get("if-none-match")
        if if_none_match is not None:
            tags = [t.strip() for t in if_none_match.split(",")]
            if event["etag"] in tags or "*" in tags:
                return Response(304, None, {"ETag": event["etag"]})
        return self._event_response(calendar, role, event, call.query)

    def _patch(self, call: Call) -> Response:
        return self._change(call, patch=True)

    def _update(self, call: Call) -> Response:
        return self._change(call, patch=False)

    def _change(self, call: Call, *, patch: bool) -> Response:
        calendar, role = self._calendar(call, write=True)
        event = calendar.store.update(
            call.event_id,
            _body(call.request),
            patch=patch,
            if_match=call.request.headers.get("if-match"),
        )
        return self._event_response(calendar, role, event, call.query)

    def _delete(self, call: Call) -> Response:
        calendar, _ = self._calendar(call, write=True)
        calendar.store.delete(call.event_id, if_match=call.request.headers.get("if-match"))
        return Response(204)

    def _watch(self, call: Call) -> Response:
        calendar, _ = self._calendar(call)
        quoted = urllib.parse.quote(call.calendar_id, safe="")
        uri = f"{self._state.api_endpoint}calendars/{quoted}/events?alt=json"
        return Response(200, self._push.watch(call.account, calendar, _body(call.request), uri))

    def _stop(self, call: Call) -> Response:
        self._push.stop_channel(call.account, _body(call.request))
        return Response(204)

    def _calendar_list(self, call: Call) -> Response:
        return Response(200, self._lister.calendar_list(call.account, call.query))

    def _calendar_list_entry(self, call: Call) -> Response:
        calendar, role = self._calendar(call)
        return Response(200, list_entry(calendar, role, calendar.seq))

    def _calendar_resource(self, call: Call) -> Response:
        calendar, _ = self._calendar(call)
        body = {
            "kind": "calendar#calendar",
            "etag": calendar.etag,
            "id": calendar.id,
            "summary": calendar.summary,
            "timeZone": calendar.time_zone,
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
        return Response(200, body)

    def _freebusy(self, call: Call) -> Response:
        return Response(200, freebusy.query(call.account, _body(call.request)))
