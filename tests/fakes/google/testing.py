"""Pytest fixtures and helpers for driving the fake with the real Google client libraries.

Test modules import the fixtures they use (the fixture names are set explicitly, so the
imported names differ from them)::

    from tests.fakes.google.testing import fake_fixture, service_fixture  # noqa: F401
"""

from __future__ import annotations

import queue
import threading
import time
import types
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import google.auth._exponential_backoff
import googleapiclient.http
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from .accounts import FakeAccount
from .fake import FakeGoogle

EMAIL = "ada@example.com"


def credentials(fake: FakeGoogle, account: FakeAccount, **overrides: Any) -> Credentials:
    """User credentials as production builds them: a refresh token and the fake's token URI."""
    settings: dict[str, Any] = {
        "token": None,
        "refresh_token": fake.issue_refresh_token(account),
        "token_uri": fake.token_uri,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    settings.update(overrides)
    return Credentials(**settings)


def build_service(fake: FakeGoogle, creds: Credentials | None = None, **kwargs: Any) -> Any:
    """The real googleapiclient Calendar service, pointed at the fake."""
    if "http" not in kwargs:
        kwargs["credentials"] = creds
    return build(
        "calendar",
        "v3",
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": fake.api_endpoint},
        **kwargs,
    )


@pytest.fixture(name="no_backoff")
def no_backoff_fixture(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Skip the client libraries' retry sleeps; returns the sleeps they asked for.

    googleapiclient and google-auth hold the ``time`` module; replace that reference (never
    ``time.sleep`` itself, which would silence sleeping for the whole process).
    """
    sleeps: list[float] = []
    stand_in = types.SimpleNamespace(sleep=sleeps.append, time=time.time, monotonic=time.monotonic)
    monkeypatch.setattr(googleapiclient.http, "time", stand_in)
    monkeypatch.setattr(google.auth._exponential_backoff, "time", stand_in)
    return sleeps


@pytest.fixture(name="fake")
def fake_fixture() -> Iterator[FakeGoogle]:
    """A running fake (fresh per test)."""
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture(name="account")
def account_fixture(fake: FakeGoogle) -> FakeAccount:
    """The account the ``service`` fixture acts as (Europe/Berlin)."""
    return fake.add_account(EMAIL)


@pytest.fixture(name="make_service")
def make_service_fixture(fake: FakeGoogle, no_backoff: list[float]) -> Iterator[Callable[..., Any]]:
    """A factory of real Calendar services for an account (closed after the test)."""
    services: list[Any] = []

    def make(account: FakeAccount, creds: Credentials | None = None, **kwargs: Any) -> Any:
        if creds is None and "http" not in kwargs:
            creds = credentials(fake, account)
        service = build_service(fake, creds, **kwargs)
        services.append(service)
        return service

    yield make
    for service in services:
        service.close()


@pytest.fixture(name="service")
def service_fixture(make_service: Callable[..., Any], account: FakeAccount) -> Any:
    """A real Calendar service acting as ``account``."""
    return make_service(account)


@pytest.fixture(name="calendar")
def calendar_fixture(account: FakeAccount) -> Any:
    """The account's primary calendar."""
    return account.primary


@pytest.fixture(name="webhook")
def webhook_fixture() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def raw_http(service: Any) -> Any:
    """The service's authorised httplib2 transport, for requests the client library refuses."""
    return service._http


class WebhookReceiver:
    """A push-notification receiver: records every POST; answers scripted statuses (then 200)."""

    def __init__(self) -> None:
        self.messages: queue.Queue[dict[str, str]] = queue.Queue()
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                headers["body"] = body
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                headers["answered"] = str(status)
                receiver.messages.put(headers)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/google"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def next(self, timeout: float = 5.0) -> dict[str, str]:
        """The next message's headers (lower-case names, plus ``body`` and ``answered``)."""
        return self.messages.get(timeout=timeout)

    def drain(self) -> list[dict[str, str]]:
        """Every message received so far and not yet taken."""
        found = []
        while True:
            try:
                found.append(self.messages.get_nowait())
            except queue.Empty:
                return found


def timed(
    start: str = "2026-03-02T10:00:00+01:00", end: str = "2026-03-02T11:00:00+01:00", **fields: Any
) -> dict[str, Any]:
    """An event body with a timed start and end (offsets, no time zone)."""
    return {"start": {"dateTime": start}, "end": {"dateTime": end}, **fields}


def list_all(
    service: Any, calendar_id: str = "primary", **params: Any
) -> tuple[list[Any], str, int]:
    """Page through events.list like a sync client: (items, nextSyncToken, pages).

    Checks the paging contract on the way: every page but the last has ``nextPageToken`` and no
    ``nextSyncToken``; the last has ``nextSyncToken`` only.
    """
    items: list[Any] = []
    pages = 0
    page_token = None
    while True:
        extra: dict[str, str] = {"pageToken": page_token} if page_token else {}
        answer = service.events().list(calendarId=calendar_id, **params, **extra).execute()
        pages += 1
        items.extend(answer["items"])
        if "nextPageToken" in answer:
            assert "nextSyncToken" not in answer
            page_token = answer["nextPageToken"]
            continue
        return items, answer["nextSyncToken"], pages
