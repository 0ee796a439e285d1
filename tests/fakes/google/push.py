"""Push notifications: events.watch, channels.stop and the notifier that POSTs to webhooks.

Per https://developers.google.com/workspace/calendar/api/guides/push: a new channel gets a
``sync`` message at once; afterwards every change of the watched calendar sends ``exists``
(``not_exists`` when the calendar is deleted). A message is a POST with an empty body and
``X-Goog-*`` headers; 500/502/503/504 (or no answer) are retried a few times with backoff.

Messages are numbered when queued (under the state lock) and delivered by one notifier thread,
never from a request thread and never with the lock held.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import logging
import queue
import re
import threading
import urllib.parse
from typing import Any

from .accounts import FakeAccount
from .calendar import FakeCalendar
from .errors import ApiError, invalid, not_found, required
from .state import State
from .timeutil import format_http_date, from_millis, to_millis

logger = logging.getLogger(__name__)

DEFAULT_TTL = 604800
RETRY_STATUSES = (500, 502, 503, 504)
MAX_RETRIES = 3
RETRY_BACKOFF = 0.02  # seconds, doubled per retry
DELIVERY_TIMEOUT = 5.0
_CHANNEL_ID = re.compile(r"^[A-Za-z0-9\-_+/=]{1,64}$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"


@dataclasses.dataclass(eq=False)
class FakeChannel:
    """A watch channel on a calendar's events collection."""

    id: str
    resource_id: str
    calendar_id: str
    address: str
    token: str | None
    expiration: dt.datetime
    resource_uri: str
    account_email: str
    calendar: FakeCalendar = dataclasses.field(repr=False)
    stopped: bool = False
    messages_sent: int = 0
    next_number: int = 1

    def live(self, now: dt.datetime) -> bool:
        return not self.stopped and now < self.expiration and not self.calendar.deleted


@dataclasses.dataclass(frozen=True)
class _Message:
    channel: FakeChannel
    state: str
    number: int


class Push:
    """Channels of one fake and their notifier thread."""

    def __init__(self, state: State) -> None:
        self._state = state
        self.channels: list[FakeChannel] = []
        self._queue: queue.Queue[_Message | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._idle = threading.Condition()
        state.add_listener(self._on_change)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="fake-google-notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued message is delivered or given up; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    # -- API -------------------------------------------------------------------------------

    def watch(
        self, account: FakeAccount, calendar: FakeCalendar, body: object, resource_uri: str
    ) -> dict[str, Any]:
        """events.watch (caller holds the state lock).

        Raises:
            ApiError: 400 for a bad or duplicate channel.
        """
        if not isinstance(body, dict):
            raise ApiError(400, "parseError", "Parse Error")
        channel_id = body.get("id")
        if not channel_id:
            raise required("Missing channel id.")
        if not isinstance(channel_id, str) or not _CHANNEL_ID.match(channel_id):
            raise invalid(f"Invalid channel id: {channel_id!r}")
        if str(body.get("type", "")).lower() not in ("web_hook", "webhook"):
            raise invalid(f"Unknown channel type: {body.get('type')!r}")
        address = body.get("address")
        if not isinstance(address, str) or not address:
            raise required("Missing address.")
        parts = urllib.parse.urlsplit(address)
        if not (
            parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
        ):
            raise ApiError(
                400, "push.webhookUrlNotHttps", f"WebHook callback must be HTTPS: {address}"
            )
        token = body.get("token")
        if token is not None and (not isinstance(token, str) or len(token) > 256):
            raise invalid("Invalid channel token.")
        now = self._state.now()
        if any(c.id == channel_id and c.live(now) for c in self.channels):
            raise ApiError(400, "channelIdNotUnique", "Channel id not unique")
        try:
            ttl = int((body.get("params") or {}).get("ttl", DEFAULT_TTL))
            expiration = now + dt.timedelta(seconds=ttl)
            if body.get("expiration") is not None:
                expiration = min(expiration, from_millis(int(body["expiration"])))
        except (TypeError, ValueError, AttributeError):
            raise invalid("Invalid channel expiration or ttl.") from None
        if expiration <= now:
            raise invalid("Channel expiration must be in the future.")
        channel = FakeChannel(
            id=channel_id,
            resource_id=calendar.resource_id,
            calendar_id=calendar.id,
            address=address,
            token=token,
            expiration=expiration,
            resource_uri=resource_uri,
            account_email=account.email,
            calendar=calendar,
        )
        self.channels.append(channel)
        self._enqueue(channel, "sync")
        answer: dict[str, Any] = {
            "kind": "api#channel",
            "id": channel.id,
            "resourceId": channel.resource_id,
            "resourceUri": channel.resource_uri,
        }
        if token is not None:
            answer["token"] = token
        answer["expiration"] = str(to_millis(expiration))
        return answer

    def stop_channel(self, account: FakeAccount, body: object) -> None:
        """channels.stop (caller holds the state lock).

        Raises:
            ApiError: 404 for an unknown or already stopped channel.
        """
        if not isinstance(body, dict):
            raise ApiError(400, "parseError", "Parse Error")
        for channel in self.channels:
            if (
                channel.id == body.get("id")
                and channel.resource_id == body.get("resourceId")
                and channel.account_email == account.email
                and not channel.stopped
            ):
                channel.stopped = True
                return
        raise not_found()

    def expire(self, channel_id: str) -> None:
        """Expire a channel now: it sends nothing more.

        Raises:
            KeyError: no such channel.
        """
        with self._state.lock:
            matches = [c for c in self.channels if c.id == channel_id]
            if not matches:
                raise KeyError(channel_id)
            for channel in matches:
                channel.expiration = min(channel.expiration, self._state.now())

    # -- delivery --------------------------------------------------------------------------

    def _on_change(self, calendar: FakeCalendar, resource_state: str) -> None:
        now = self._state.now()
        for channel in self.channels:
            alive = not channel.stopped and now < channel.expiration
            if channel.calendar is calendar and alive:
                self._enqueue(channel, resource_state)

    def _enqueue(self, channel: FakeChannel, resource_state: str) -> None:
        if not self._state.notifications_enabled:
            return
        number = channel.next_number
        channel.next_number += 1
        with self._idle:
            self._pending += 1
        self._queue.put(_Message(channel, resource_state, number))

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            try:
                if not self._stopping.is_set():
                    self._deliver(message)
            except Exception:  # the notifier must outlive a bad webhook
                logger.exception("fake Google: notification to %s failed", message.channel.address)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver(self, message: _Message) -> None:
        channel = message.channel
        with self._state.lock:
            deliverable = message.state == "not_exists" or channel.live(self._state.now())
            headers = {
                "X-Goog-Channel-ID": channel.id,
                "X-Goog-Channel-Expiration": format_http_date(channel.expiration),
                "X-Goog-Message-Number": str(message.number),
                "X-Goog-Resource-ID": channel.resource_id,
                "X-Goog-Resource-URI": channel.resource_uri,
                "X-Goog-Resource-State": message.state,
                "User-Agent": _USER_AGENT,
                "Content-Length": "0",
            }
            if channel.token is not None:
                headers["X-Goog-Channel-Token"] = channel.token
        if not deliverable or channel.stopped:
            return
        for attempt in range(MAX_RETRIES + 1):
            status = self._post(channel.address, headers)
            logger.info(
                "fake Google: %s message %d to channel %s -> %s",
                message.state,
                message.number,
                channel.id,
                status,
            )
            if status is not None and status not in RETRY_STATUSES:
                if 200 <= status < 300 or status == 102:
                    with self._state.lock:
                        channel.messages_sent += 1
                return
            if attempt < MAX_RETRIES and self._stopping.wait(RETRY_BACKOFF * 2**attempt):
                return

    def _post(self, address: str, headers: dict[str, str]) -> int | None:
        parts = urllib.parse.urlsplit(address)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = connection_class(parts.hostname or "", parts.port, timeout=DELIVERY_TIMEOUT)
        try:
            connection.request("POST", path, body=b"", headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except OSError as exc:
            logger.info("fake Google: webhook %s unreachable: %s", address, exc)
            return None
        finally:
            connection.close()
