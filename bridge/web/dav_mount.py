"""CalDAV inside the web app: Radicale at ``/dav``, and the discovery redirects around it.

Radicale runs in the same process and port as the API (WSGI, through ``a2wsgi``), built once
with the bridge's plugins over the app's live :class:`~bridge.store.Store`:

- ``/dav/<slug>/`` is a provider's principal; ``/dav/<slug>/bookings/`` and
  ``/dav/<slug>/busy/`` their calendars (see :mod:`radicale_plugins.storage`);
- ``/.well-known/caldav`` (any method) answers 301 to ``/dav/`` (RFC 6764); PROPFIND and
  REPORT on ``/`` answer 308 to ``/dav/`` (method and body kept), for clients given only the
  server's address; ``GET /`` stays whatever the app serves;
- ``X-Script-Name``, ``X-Remote-User``, ``X-Remote-Addr`` and ``X-Forwarded-*`` are dropped
  before Radicale sees them: Radicale builds hrefs and identities from them, and no trusted
  proxy is configured;
- bodies over :data:`MAX_CONTENT_LENGTH` get 413 (Radicale checks the length only in its own
  server); the API's smaller body limit does not apply under ``/dav``;
- failed logins and errors are not delayed (``[auth] delay``, ``[server] delay_on_error``):
  sleeping worker threads would only help an attacker tie them up; brute force is the job of
  a rate limiter in front of ``/dav``.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

import radicale.config
from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from radicale import types
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bridge.store import Store
from radicale_plugins import app as dav_app
from radicale_plugins.storage import registry

log = logging.getLogger(__name__)

DAV_PREFIX = "/dav"
MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # a whole calendar imported in one PUT
MAX_RESOURCE_SIZE = 4 * 1024 * 1024  # one event (with attachments)
REALM = "Calendar bridge (user name: your provider slug)"
_UNTRUSTED = frozenset({"HTTP_X_SCRIPT_NAME", "HTTP_X_REMOTE_USER", "HTTP_X_REMOTE_ADDR"})
_WELL_KNOWN = frozenset({"/.well-known/caldav", "/.well-known/caldav/"})
_ROOT_METHODS = frozenset({"PROPFIND", "REPORT"})

WSGIApp = Callable[[dict[str, Any], types.WSGIStartResponse], Iterable[bytes]]


def radicale_configuration(
    store_key: str,
    *,
    max_content_length: int = MAX_CONTENT_LENGTH,
    max_resource_size: int = MAX_RESOURCE_SIZE,
) -> radicale.config.Configuration:
    """Radicale's configuration for the mounted server (the same as ``config/radicale.conf``)."""
    configuration = radicale.config.load()
    configuration.update(
        {
            "server": {
                "max_content_length": str(max_content_length),
                "max_resource_size": str(max_resource_size),
                "delay_on_error": "0",
            },
            "auth": {
                "type": "radicale_plugins.auth",
                "delay": "0",
                "realm": REALM,
                "lc_username": "True",
            },
            "rights": {
                "type": "radicale_plugins.rights",
                "permit_delete_collection": "False",
                "permit_overwrite_collection": "False",
            },
            "storage": {"type": "radicale_plugins.storage", "bridge_database_url": store_key},
            "web": {"type": "none"},
            "sharing": {"type": "none"},
            "hook": {"type": "none"},
        },
        "bridge.web.dav_mount",
    )
    return configuration


class UntrustedHeaders:
    """WSGI wrapper: drop proxy headers nobody vouches for, and refuse over-large bodies."""

    def __init__(self, app: WSGIApp, max_content_length: int) -> None:
        self.app = app
        self.max_content_length = max_content_length

    def __call__(
        self, environ: dict[str, Any], start_response: types.WSGIStartResponse
    ) -> Iterable[bytes]:
        for key in [k for k in environ if k in _UNTRUSTED or k.startswith("HTTP_X_FORWARDED_")]:
            del environ[key]
        environ.pop("REMOTE_USER", None)
        length = environ.get("CONTENT_LENGTH") or ""
        if length:
            if not length.isdigit():
                return self._answer(start_response, "400 Bad Request", "Bad Content-Length.")
            if int(length) > self.max_content_length:
                return self._too_large(start_response)
        elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Radicale reads CONTENT_LENGTH bytes: give it the body with its length.
            body: bytes = environ["wsgi.input"].read(self.max_content_length + 1)
            if len(body) > self.max_content_length:
                return self._too_large(start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _too_large(self, start_response: types.WSGIStartResponse) -> Iterable[bytes]:
        return self._answer(
            start_response,
            "413 Content Too Large",
            f"Request body too large: at most {self.max_content_length} bytes.",
        )

    @staticmethod
    def _answer(start_response: types.WSGIStartResponse, status: str, text: str) -> Iterable[bytes]:
        body = text.encode()
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


class DiscoveryRedirects:
    """ASGI middleware: ``/.well-known/caldav`` and PROPFIND/REPORT on ``/`` lead to ``/dav/``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            status = None
            if path in _WELL_KNOWN:
                status = 301
            elif path == "/" and method in _ROOT_METHODS:
                status = 308
            if status is not None:
                location = f"{scope.get('root_path', '')}{DAV_PREFIX}/"
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [
                            (b"location", location.encode("latin-1")),
                            (b"content-length", b"0"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


def mount_dav(
    app: FastAPI,
    store: Store,
    *,
    max_content_length: int = MAX_CONTENT_LENGTH,
    max_resource_size: int = MAX_RESOURCE_SIZE,
) -> None:
    """Mount Radicale over ``store`` at :data:`DAV_PREFIX` and add the discovery redirects."""
    key = registry.register(store)
    configuration = radicale_configuration(
        key, max_content_length=max_content_length, max_resource_size=max_resource_size
    )
    if logging.getLogger("radicale").level == logging.NOTSET:
        # One line per request at INFO is Radicale's default; the bridge logs what matters.
        logging.getLogger("radicale").setLevel(logging.WARNING)
    radicale_app = UntrustedHeaders(dav_app.Application(configuration), max_content_length)
    wsgi: ASGIApp = WSGIMiddleware(radicale_app)  # type: ignore[arg-type, assignment]
    asgi = RequestBodyLimitMiddleware(wsgi, max_body_size=max_content_length)
    app.mount(DAV_PREFIX, asgi)
    app.add_middleware(DiscoveryRedirects)
    log.info("CalDAV is served under %s/", DAV_PREFIX)
