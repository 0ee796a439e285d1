"""Google Calendar (API v3) behind the connector interface.

One :class:`GoogleConnector` per job and thread: httplib2 is not thread-safe, so each instance
owns its own ``httplib2.Http`` (with ``connector_timeout``) wrapped in a google-auth
``AuthorizedHttp``, which adds the bearer token, renews it ahead of expiry and replays a request
once after a 401. Nothing retries beyond that (``num_retries`` stays 0): backing off is the sync
engine's job. Errors become :mod:`bridge.connectors.errors` in :mod:`.google_errors`;
resources become value types in :mod:`.google_events`.

Requests: https://developers.google.com/workspace/calendar/api/v3/reference (events.list with
sync tokens per https://developers.google.com/workspace/calendar/api/guides/sync).
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import google_auth_httplib2
import httplib2
from googleapiclient.discovery import build

from bridge import clock
from bridge.availability import Interval
from bridge.connectors import google_events
from bridge.connectors.base import (
    CalendarInfo,
    Connector,
    OutboundEvent,
    PullPage,
    PushChannel,
    RemoteChange,
    RemoteEvent,
    SkippedEvent,
    WrittenEvent,
)
from bridge.connectors.errors import (
    ConnectorError,
    PreconditionFailed,
    RemoteNotFound,
    RemoteRejected,
    Transient,
)
from bridge.connectors.google_errors import TRANSLATED, DuplicateId, translate, translated
from bridge.connectors.google_tokens import GoogleTokens
from bridge.errors import ConfigError
from bridge.settings import Settings

logger = logging.getLogger(__name__)

PAGE_SIZE = 250
"""``maxResults`` of events.list (Google's default; the cap is 2500)."""

CALENDAR_LIST_PAGE_SIZE = 250
REFRESH_MARGIN = dt.timedelta(minutes=5)
""":meth:`GoogleConnector.refresh_access` renews a token that expires sooner than this."""

_WRITABLE_ROLES = frozenset({"owner", "writer"})


def from_credentials(settings: Settings, credentials: str) -> GoogleConnector:
    """Build a connector from a connection's stored credentials (the JSON of :mod:`.google_tokens`).

    Raises:
        ConfigError: Google's OAuth client is not configured.
        NeedsReauth: the credentials are unusable.
    """
    return GoogleConnector(settings, GoogleTokens.from_json(credentials))


class GoogleConnector(Connector):
    """One Google account, through its OAuth tokens.

    Args:
        settings: the OAuth client, the endpoints and ``connector_timeout``.
        tokens: the account's tokens.

    Raises:
        ConfigError: ``google_client_id`` or ``google_client_secret`` is not set.
    """

    kind: ClassVar[str] = "google"
    supports_push: ClassVar[bool] = True

    def __init__(self, settings: Settings, tokens: GoogleTokens) -> None:
        if not settings.google_enabled:
            raise ConfigError(
                "google_client_id", "settings", "Google's OAuth client is not configured"
            )
        self._settings = settings
        self._initial = tokens
        self._credentials = tokens.to_google(settings)
        self._http = self._authorized_http(settings.connector_timeout)
        # Close the keep-alive sockets with the connector, whoever forgets to call close().
        self._finalizer = weakref.finalize(self, self._http.close)
        self._service: Any = build(
            "calendar",
            "v3",
            http=self._http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": settings.google_api_endpoint},
        )

    def __repr__(self) -> str:
        return f"GoogleConnector(endpoint={self._settings.google_api_endpoint!r})"

    def close(self) -> None:
        """Close the connections this connector keeps open (it must not be used afterwards)."""
        self._finalizer()

    # -- the account ---------------------------------------------------------------------

    def account(self) -> str:
        for entry in self._calendar_list():
            if entry.get("primary"):
                return str(entry["id"])
        raise RemoteRejected("the Google account has no primary calendar")

    def list_calendars(self) -> list[CalendarInfo]:
        calendars = []
        for entry in self._calendar_list():
            calendars.append(
                CalendarInfo(
                    remote_id=str(entry["id"]),
                    name=str(entry.get("summaryOverride") or entry.get("summary") or entry["id"]),
                    time_zone=entry.get("timeZone"),
                    primary=bool(entry.get("primary")),
                    writable=entry.get("accessRole") in _WRITABLE_ROLES,
                )
            )
        return calendars

    def _calendar_list(self) -> Iterator[Mapping[str, Any]]:
        lists = self._service.calendarList()
        request = lists.list(maxResults=CALENDAR_LIST_PAGE_SIZE, showHidden=True)
        while request is not None:
            answer = self._execute(request, "calendarList.list", "-")
            for entry in answer.get("items", []):
                if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                    yield entry
            request = lists.list_next(request, answer)

    # -- reading -------------------------------------------------------------------------

    def pull(self, calendar: str, cursor: str | None) -> Iterator[PullPage]:
        events = self._service.events()
        # showDeleted=false is refused with a sync token (deletions always come then); a full
        # pull leaves deleted events out, except cancelled occurrences of live series.
        options: dict[str, Any] = {"singleEvents": False, "maxResults": PAGE_SIZE}
        if cursor is None:
            options["showDeleted"] = False
        else:
            options["showDeleted"] = True
            options["syncToken"] = cursor
        request = events.list(calendarId=calendar, **options)
        what = "events.list" if cursor is None else "events.list (incremental)"
        while request is not None:
            answer = self._execute(request, what, calendar)
            request = events.list_next(request, answer)
            yield self._page(calendar, answer, last=request is None)

    @staticmethod
    def _page(calendar: str, answer: Mapping[str, Any], *, last: bool) -> PullPage:
        zone = answer.get("timeZone")
        calendar_zone = zone if isinstance(zone, str) else None
        changes: list[RemoteChange] = []
        skipped: list[SkippedEvent] = []
        for item in answer.get("items", []):
            remote_id = str(item.get("id", "")) if isinstance(item, Mapping) else ""
            try:
                if not isinstance(item, Mapping):
                    raise google_events.Unmappable("the item is not an object")
                changes.append(google_events.to_change(item, calendar_zone))
            except google_events.Unmappable as exc:
                logger.warning("Google calendar %s: skipped event %s: %s", calendar, remote_id, exc)
                skipped.append(SkippedEvent(remote_id, str(exc)))
        cursor = answer.get("nextSyncToken") if last else None
        return PullPage(changes, skipped, cursor if isinstance(cursor, str) else None)

    def get_event(self, calendar: str, remote_id: str) -> RemoteEvent | None:
        item = self._fetch(calendar, remote_id)
        if item is None or item.get("status") == "cancelled":
            return None
        try:
            return google_events.to_event(item, None)
        except google_events.Unmappable as exc:
            raise RemoteRejected(f"the Google event cannot be read: {exc}") from None

    def _fetch(self, calendar: str, remote_id: str) -> Mapping[str, Any] | None:
        """The event resource (tombstones too), or None if unknown in a calendar that exists."""
        request = self._service.events().get(calendarId=calendar, eventId=remote_id)
        try:
            item: Mapping[str, Any] = self._execute(request, "events.get", calendar, remote_id)
        except RemoteNotFound:
            # 404 names no culprit: the event, or the whole calendar?
            self._check_calendar(calendar)
            return None
        return item

    def _check_calendar(self, calendar: str) -> None:
        request = self._service.events().list(calendarId=calendar, maxResults=1)
        self._execute(request, "events.list (calendar check)", calendar)

    # -- writing -------------------------------------------------------------------------

    def create_event(self, calendar: str, event: OutboundEvent) -> WrittenEvent:
        body = google_events.insert_body(event)
        remote_id = body["id"]
        request = self._service.events().insert(calendarId=calendar, body=body, sendUpdates="none")
        try:
            item = self._execute(request, "events.insert", calendar, remote_id)
        except DuplicateId:
            # An earlier attempt got through (its answer was lost), or the booking's event was
            # deleted and its tombstone keeps the id: make that event match, undeleting it.
            return self._reconcile(calendar, remote_id, event)
        return google_events.written(item, event)

    def _reconcile(self, calendar: str, remote_id: str, event: OutboundEvent) -> WrittenEvent:
        existing = self._fetch(calendar, remote_id)
        if existing is None:
            # A tombstone old enough to be purged between the insert and the get.
            raise Transient("the Google event vanished while it was being re-created")
        if google_events.matches(existing, event):
            return google_events.written(existing, event)
        body = {**google_events.write_body(event), "status": "confirmed"}
        etag = existing.get("etag")
        try:
            item = self._patch(calendar, remote_id, body, etag if isinstance(etag, str) else None)
        except PreconditionFailed as exc:
            raise Transient("the Google event changed while it was being re-created") from exc
        return google_events.written(item, event)

    def update_event(
        self, calendar: str, remote_id: str, event: OutboundEvent, *, etag: str | None
    ) -> WrittenEvent:
        item = self._patch(calendar, remote_id, google_events.write_body(event), etag)
        if item.get("status") == "cancelled":
            # Patching a tombstone succeeds but leaves it deleted: the event is gone.
            raise RemoteNotFound("the Google event was deleted")
        return google_events.written(item, event)

    def _patch(
        self, calendar: str, remote_id: str, body: Mapping[str, Any], etag: str | None
    ) -> Mapping[str, Any]:
        request = self._service.events().patch(
            calendarId=calendar, eventId=remote_id, body=dict(body), sendUpdates="none"
        )
        if etag is not None:
            request.headers["If-Match"] = etag
        item: Mapping[str, Any] = self._execute(request, "events.patch", calendar, remote_id)
        return item

    def delete_event(self, calendar: str, remote_id: str, *, etag: str | None) -> None:
        request = self._service.events().delete(
            calendarId=calendar, eventId=remote_id, sendUpdates="none"
        )
        if etag is not None:
            request.headers["If-Match"] = etag
        try:
            self._execute(request, "events.delete", calendar, remote_id, empty=True)
        except RemoteNotFound:
            return  # 404, or 410 "deleted": already gone
        except PreconditionFailed:
            # A deleted event has a new etag too: a stale etag on a tombstone is no conflict.
            item = self._fetch(calendar, remote_id)
            if item is None or item.get("status") == "cancelled":
                return
            raise

    # -- free/busy -----------------------------------------------------------------------

    def free_busy(
        self, calendars: Sequence[str], window: Interval, *, timeout: float
    ) -> dict[str, list[Interval]]:
        if not calendars:
            return {}
        body = {
            "timeMin": _rfc3339(window.start),
            "timeMax": _rfc3339(window.end),
            "timeZone": "UTC",
            "items": [{"id": calendar} for calendar in calendars],
        }
        http = self._authorized_http(timeout)
        try:
            request = self._service.freebusy().query(body=body)
            answer = self._execute(request, "freebusy.query", ",".join(calendars), http=http)
        finally:
            http.close()
        found = answer.get("calendars")
        if not isinstance(found, Mapping):
            raise Transient("Google's free/busy answer has no calendars")
        result: dict[str, list[Interval]] = {}
        for calendar in calendars:
            entry = found.get(calendar)
            if not isinstance(entry, Mapping) or entry.get("errors"):
                raise Transient(f"Google could not tell the busy time of calendar {calendar}")
            try:
                result[calendar] = [_interval(period) for period in entry.get("busy", [])]
            except (KeyError, TypeError, ValueError) as exc:
                raise Transient(f"Google's free/busy answer is unreadable ({exc})") from None
        return result

    # -- push ----------------------------------------------------------------------------

    def start_channel(
        self, calendar: str, *, address: str, channel_id: str, token: str, ttl: dt.timedelta
    ) -> PushChannel:
        seconds = max(int(ttl.total_seconds()), 1)
        body = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
            "params": {"ttl": str(seconds)},
        }
        request = self._service.events().watch(calendarId=calendar, body=body)
        answer = self._execute(request, "events.watch", calendar, channel_id)
        resource_id = answer.get("resourceId")
        if not isinstance(resource_id, str):
            raise RemoteRejected("Google's watch answer has no resourceId")
        try:
            expires_at = dt.datetime.fromtimestamp(int(answer["expiration"]) / 1000, tz=dt.UTC)
        except (KeyError, TypeError, ValueError):
            expires_at = clock.now() + dt.timedelta(seconds=seconds)
        return PushChannel(str(answer.get("id", channel_id)), resource_id, expires_at)

    def stop_channel(self, channel: PushChannel) -> None:
        body = {"id": channel.channel_id, "resourceId": channel.resource_id}
        request = self._service.channels().stop(body=body)
        try:
            self._execute(request, "channels.stop", "-", channel.channel_id, empty=True)
        except RemoteNotFound:
            return

    # -- tokens --------------------------------------------------------------------------

    def refresh_access(self) -> None:
        credentials = self._credentials
        expiry = credentials.expiry  # naive UTC, google-auth's convention
        soon = (clock.now() + REFRESH_MARGIN).replace(tzinfo=None)
        if credentials.token and expiry is not None and expiry > soon:
            return
        http = httplib2.Http(timeout=self._settings.connector_timeout)
        outcome = "ok"
        try:
            with translated():
                credentials.refresh(google_auth_httplib2.Request(http))  # type: ignore[no-untyped-call]
        except ConnectorError as exc:
            outcome = type(exc).__name__
            raise
        finally:
            http.close()
            logger.info("Google token refresh -> %s", outcome)

    def credentials(self) -> str | None:
        current = GoogleTokens.from_google(self._credentials)
        unchanged = (
            current.access_token == self._initial.access_token
            and current.refresh_token == self._initial.refresh_token
        )
        return None if unchanged else current.to_json()

    # -- plumbing ------------------------------------------------------------------------

    def _authorized_http(self, timeout: float) -> Any:
        return google_auth_httplib2.AuthorizedHttp(
            self._credentials, http=httplib2.Http(timeout=timeout)
        )

    def _execute(
        self,
        request: Any,
        what: str,
        calendar: str,
        remote_id: str | None = None,
        *,
        http: Any = None,
        empty: bool = False,
    ) -> dict[str, Any]:
        """Run one API request, log it, and translate its failure.

        Args:
            request: the client library's request.
            what: the method's name, for the log.
            calendar: the calendar it concerns, for the log.
            remote_id: the event or channel it concerns, for the log.
            http: a transport other than the connector's own.
            empty: the method answers with no body (delete, channels.stop).

        Returns:
            The JSON answer (``{}`` for an empty one).

        Raises:
            The errors of :mod:`.google_errors`.
        """
        outcome = "ok"
        try:
            answer = request.execute(http=http, num_retries=0)
            if empty:
                return {}
            if not isinstance(answer, dict):
                # The library hands back a 2xx body that is not JSON (a proxy's page) as text.
                raise Transient("Google's answer was not JSON")
            return answer
        except TRANSLATED as exc:
            error = translate(exc)
            outcome = type(error).__name__
            raise error from exc
        except BaseException as exc:
            outcome = type(exc).__name__
            raise
        finally:
            logger.info(
                "Google %s calendar=%s id=%s -> %s", what, calendar, remote_id or "-", outcome
            )


def _rfc3339(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("free/busy windows need aware datetimes")
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _interval(period: Mapping[str, Any]) -> Interval:
    start = dt.datetime.fromisoformat(period["start"]).astimezone(dt.UTC)
    end = dt.datetime.fromisoformat(period["end"]).astimezone(dt.UTC)
    return Interval(start, end)
