"""FakeGoogle: Google Calendar API v3 and Google's OAuth endpoints on 127.0.0.1.

Point the real clients at it::

    creds = Credentials(token=None, refresh_token=fake.issue_refresh_token(account),
                        token_uri=fake.token_uri, client_id=fake.client_id,
                        client_secret=fake.client_secret)
    service = build("calendar", "v3", credentials=creds, static_discovery=True,
                    cache_discovery=False, client_options={"api_endpoint": fake.api_endpoint})
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import urllib.parse
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from .accounts import FakeAccount
from .api import PREFIX, Api
from .calendar import FakeCalendar
from .errors import ApiError, OAuthError, auth_error, default_reason, full_sync_required
from .faults import FaultHandle, Faults
from .listing import Lister
from .oauth import OAuth
from .push import FakeChannel, Push
from .server import HttpServer
from .state import Clock, State
from .wire import RecordedRequest, Response

logger = logging.getLogger(__name__)

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
_OAUTH_FAULT_ERRORS = {
    429: "rate_limit_exceeded",
    500: "internal_failure",
    503: "temporarily_unavailable",
}


class FakeGoogle:
    """A faithful fake of Google Calendar API v3 and Google OAuth, as a real HTTP server.

    Args:
        client_id: the one registered OAuth client.
        client_secret: its secret.
        access_token_lifetime: seconds an access token lives.
        clock: the fake's "now" (aware UTC datetimes); the system clock by default.
    """

    def __init__(
        self,
        *,
        client_id: str = "fake-client-id.apps.googleusercontent.com",
        client_secret: str = "fake-client-secret",
        access_token_lifetime: int = 3600,
        clock: Clock | None = None,
    ) -> None:
        self._state = State(clock)
        self.client_id = client_id
        self.client_secret = client_secret
        self._oauth = OAuth(self._state, client_id, client_secret, access_token_lifetime)
        self._lister = Lister(self._state)
        self._push = Push(self._state)
        self._api = Api(self._state, self._oauth, self._lister, self._push)
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._server: HttpServer | None = None
        self._url: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread; returns when listening."""
        if self._server is not None:
            raise RuntimeError("FakeGoogle is already running")
        server = HttpServer(
            self._dispatch, self._record, self.faults, self._fault_answer, _faultable
        )
        self._url = f"http://127.0.0.1:{server.port}"
        self._state.api_endpoint = self.api_endpoint
        self._push.start()
        server.start()
        self._server = server
        logger.info("fake Google listening on %s", self._url)

    def stop(self) -> None:
        """Stop serving and notifying; closes every socket and joins every thread."""
        if self._server is None:
            return
        self._server.stop()
        self._server = None
        self._push.stop()

    def __enter__(self) -> FakeGoogle:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (only once started)."""
        if self._url is None:
            raise RuntimeError("FakeGoogle is not started")
        return self._url

    @property
    def api_endpoint(self) -> str:
        """The ``api_endpoint`` client option: the full base URL, ``…/calendar/v3/``."""
        return self.url + PREFIX

    @property
    def auth_uri(self) -> str:
        return self.url + "/o/oauth2/auth"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    @property
    def revoke_uri(self) -> str:
        return self.url + "/revoke"

    def client_config(self, redirect_uris: Sequence[str] = ()) -> dict[str, Any]:
        """A ``client_secrets``-style config for ``google_auth_oauthlib.flow.Flow``."""
        return {
            "web": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "auth_uri": self.auth_uri,
                "token_uri": self.token_uri,
                "redirect_uris": list(redirect_uris),
            }
        }

    # -- switches --------------------------------------------------------------------------

    @property
    def consenting_account(self) -> FakeAccount | None:
        """Who approves at the consent endpoint (None: the user denies, ``access_denied``)."""
        return self._state.consenting_account

    @consenting_account.setter
    def consenting_account(self, account: FakeAccount | None) -> None:
        self._state.consenting_account = account

    @property
    def notifications_enabled(self) -> bool:
        """False: watch channels send nothing (for tests of the polling fallback)."""
        return self._state.notifications_enabled

    @notifications_enabled.setter
    def notifications_enabled(self, value: bool) -> None:
        self._state.notifications_enabled = value

    @property
    def short_pages(self) -> bool:
        """True: list pages hold fewer items than asked, sometimes none, still with a token."""
        return self._state.short_pages

    @short_pages.setter
    def short_pages(self, value: bool) -> None:
        self._state.short_pages = value

    @property
    def redirect_uris(self) -> set[str] | None:
        """Registered redirect URIs; None (the default) accepts any absolute http(s) URI."""
        return self._oauth.redirect_uris

    @redirect_uris.setter
    def redirect_uris(self, value: set[str] | None) -> None:
        self._oauth.redirect_uris = value

    # -- accounts and calendars ------------------------------------------------------------

    def add_account(self, email: str, *, time_zone: str = "Europe/Berlin") -> FakeAccount:
        """Create an account and its primary calendar (whose id is the email).

        Raises:
            ValueError: the account or a calendar with that id exists.
        """
        with self._state.lock:
            if email in self._state.accounts or email in self._state.calendars:
                raise ValueError(f"{email} already exists")
            account = FakeAccount(self._state, email, time_zone=time_zone)
            self._state.accounts[email] = account
            return account

    def calendar(self, calendar_id: str) -> FakeCalendar:
        """The calendar with that id (deleted ones too).

        Raises:
            KeyError: no such calendar.
        """
        with self._state.lock:
            return self._state.calendars[calendar_id]

    # -- tokens ----------------------------------------------------------------------------

    def issue_refresh_token(
        self, account: FakeAccount, scopes: Sequence[str] = (CALENDAR_SCOPE,)
    ) -> str:
        """A refresh token for ``account``, as if it had consented (no consent flow needed)."""
        with self._state.lock:
            return self._oauth.issue_refresh_token(account, tuple(scopes))

    def issue_access_token(
        self,
        account: FakeAccount,
        scopes: Sequence[str] = (CALENDAR_SCOPE,),
        *,
        lifetime: int | None = None,
    ) -> str:
        """An access token for ``account`` (``lifetime`` seconds; the fake's default if None)."""
        with self._state.lock:
            return self._oauth.issue_access_token(account, tuple(scopes), lifetime=lifetime).token

    def revoke(self, refresh_token: str) -> None:
        """Revoke a token: refresh then gives 400 invalid_grant, its access tokens 401.

        Raises:
            KeyError: unknown or already revoked token.
        """
        with self._state.lock:
            if not self._oauth.revoke(refresh_token):
                raise KeyError(refresh_token)

    @property
    def consent_requests(self) -> list[dict[str, str]]:
        """The parameters of every request to the consent endpoint, in order."""
        return self._oauth.consent_requests

    # -- push ------------------------------------------------------------------------------

    @property
    def channels(self) -> list[FakeChannel]:
        """Every watch channel created, live, expired and stopped."""
        return self._push.channels

    def expire_channel(self, channel_id: str) -> None:
        """The channel expires now and sends nothing more.

        Raises:
            KeyError: no such channel.
        """
        self._push.expire(channel_id)

    def wait_for_notifications(self, timeout: float = 5.0) -> None:
        """Block until every queued push message has been delivered (or given up).

        Raises:
            TimeoutError: still busy after ``timeout`` seconds.
        """
        if not self._push.wait_idle(timeout):
            raise TimeoutError(f"push notifications still pending after {timeout} s")

    # -- clock and requests ----------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The fake's current time."""
        return self._state.now()

    def advance_clock(self, delta: dt.timedelta) -> None:
        """Move the fake's clock forward (expires access tokens, channels, auth codes)."""
        with self._state.lock:
            self._state.clock_offset += delta

    def clear_requests(self) -> None:
        with self._requests_lock:
            self.requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._requests_lock:
            self.requests.append(request)

    # -- routing ---------------------------------------------------------------------------

    def _dispatch(self, request: RecordedRequest) -> Response:
        if request.path.startswith(PREFIX):
            return self._api.handle(request)
        form = urllib.parse.parse_qs(request.body, keep_blank_values=True)
        try:
            with self._state.lock:
                if request.path == "/o/oauth2/auth" and request.method == "GET":
                    redirect = self._oauth.authorize(request.query)
                    return Response(302, None, {"Location": redirect.location})
                if request.path == "/token" and request.method == "POST":
                    answer = self._oauth.token(form, request.headers.get("authorization"))
                    return Response(200, answer, {"Cache-Control": "no-store"})
                if request.path == "/revoke" and request.method == "POST":
                    return Response(200, self._oauth.revoke_endpoint({**request.query, **form}))
        except OAuthError as exc:
            return Response(exc.code, exc.body())
        return Response(404, ApiError(404, "notFound").body())

    def _fault_answer(self, fault: FaultHandle, request: RecordedRequest) -> Response:
        status = fault.status or 500
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if request.path == "/token":
            code = fault.reason or _OAUTH_FAULT_ERRORS.get(status, "invalid_request")
            return Response(status, {"error": code, "error_description": "Injected fault"}, headers)
        listing = request.method == "GET" and request.path.endswith("/events")
        full_sync = fault.reason == "fullSyncRequired" or (
            fault.reason is None and status == 410 and listing
        )
        if status == 401 and fault.reason in (None, "authError"):
            error = auth_error()
        elif status == 410 and full_sync:
            error = full_sync_required()
        else:
            error = ApiError(status, fault.reason or default_reason(status))
        return Response(status, error.body(), {**error.headers, **headers})


def _faultable(path: str) -> bool:
    return path.startswith(PREFIX) or path == "/token"
