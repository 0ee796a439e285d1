"""Google's errors as :mod:`bridge.connectors.errors`: the one translation of the Google connector.

Every call the connector and the consent module make to Google goes through
:func:`translated` (or :func:`translate` where the caller holds the exception), so the engine
sees only connector errors. Messages name the status and Google's reason code, never the
remote body (it may quote event data)::

    HttpError 401 (after google-auth's refresh and replay)      NeedsReauth
    HttpError 403 insufficientPermissions                       NeedsReauth (scope not granted)
    HttpError 403 rateLimitExceeded/userRateLimitExceeded, 429  RateLimited (Retry-After)
    HttpError 403 quotaExceeded/dailyLimitExceeded              RateLimited (an hour at least)
    HttpError 408, 409 conflict, 5xx                            Transient
    HttpError 410 fullSyncRequired/updatedMinTooLongAgo         CursorExpired
    HttpError 404, 410 deleted                                  RemoteNotFound
    HttpError 409 duplicate                                     DuplicateId (a RemoteRejected)
    HttpError 412                                               PreconditionFailed
    HttpError other 4xx                                         RemoteRejected
    RefreshError retryable                                      Transient
    RefreshError invalid_client/unauthorized_client             RemoteRejected (our OAuth client)
    RefreshError otherwise (invalid_grant, no refresh token)    NeedsReauth
    TransportError, timeouts, OSError, httplib2 and http.client
    errors (refused, reset, dropped connections)                Transient
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import http.client
import json
from collections.abc import Iterator, Mapping
from typing import Any

import httplib2
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from bridge import clock
from bridge.connectors.errors import (
    ConnectorError,
    CursorExpired,
    NeedsReauth,
    PreconditionFailed,
    RateLimited,
    RemoteNotFound,
    RemoteRejected,
    Transient,
)

# Google's anti-abuse limits ("Calendar usage limits exceeded") lift after hours, not seconds.
QUOTA_RETRY_AFTER = 3600.0

_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
_CURSOR_REASONS = frozenset({"fullSyncRequired", "updatedMinTooLongAgo"})
_CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})

# What the libraries raise for a failed exchange with the server (not for a bad answer).
_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    auth_exceptions.TransportError,
    httplib2.HttpLib2Error,
    http.client.HTTPException,
    OSError,  # socket timeouts, refused and reset connections, TLS failures
)
TRANSLATED: tuple[type[BaseException], ...] = (
    HttpError,
    auth_exceptions.RefreshError,
    *_NETWORK_ERRORS,
)


class DuplicateId(RemoteRejected):
    """409 ``duplicate``: an insert's client-chosen id exists (the connector reconciles)."""


def translate(exc: BaseException) -> ConnectorError:
    """The connector error for a Google client library or network exception.

    Args:
        exc: one of :data:`TRANSLATED`.

    Returns:
        The error to raise ``from exc``; an exception this module does not know becomes
        :class:`RemoteRejected`.
    """
    if isinstance(exc, HttpError):
        return _from_http_error(exc)
    if isinstance(exc, auth_exceptions.RefreshError):
        return _from_refresh_error(exc)
    if isinstance(exc, TimeoutError):
        return Transient("Google did not answer in time")
    if isinstance(exc, _NETWORK_ERRORS):
        return Transient(f"could not reach Google ({type(exc).__name__})")
    return RemoteRejected(f"unexpected error talking to Google ({type(exc).__name__})")


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Raise what :func:`translate` makes of any library or network error inside the block."""
    try:
        yield
    except TRANSLATED as exc:
        raise translate(exc) from exc


def reasons_of(content: bytes) -> tuple[str, ...]:
    """The ``errors[].reason`` codes of a Google error body (empty if it has none)."""
    try:
        data = json.loads(content.decode("utf-8"))
        errors = data["error"]["errors"]
        return tuple(str(e["reason"]) for e in errors if isinstance(e, dict) and "reason" in e)
    except (ValueError, KeyError, TypeError):
        return ()


def _from_http_error(exc: HttpError) -> ConnectorError:
    status = int(exc.resp.status)
    reasons = reasons_of(exc.content)
    reason = reasons[0] if reasons else "no reason given"
    what = f"Google answered {status} ({reason})"
    if status == 401:
        return NeedsReauth(f"{what}: the access to the calendar was revoked or has expired")
    if status == 403 and "insufficientPermissions" in reasons:
        return NeedsReauth(f"{what}: the calendar permission was not granted")
    if status == 429 or (status == 403 and _RATE_REASONS.intersection(reasons)):
        return RateLimited(what, retry_after=retry_after(exc.resp))
    if status == 403 and _QUOTA_REASONS.intersection(reasons):
        hinted = retry_after(exc.resp) or 0.0
        return RateLimited(what, retry_after=max(hinted, QUOTA_RETRY_AFTER))
    if status == 410 and _CURSOR_REASONS.intersection(reasons):
        return CursorExpired(what)
    if status in (404, 410):
        return RemoteNotFound(what)
    if status == 409 and "duplicate" in reasons:
        return DuplicateId(what)
    if status == 412:
        return PreconditionFailed(what)
    if status >= 500 or status == 408 or (status == 409 and "conflict" in reasons):
        return Transient(what, retry_after=retry_after(exc.resp))
    return RemoteRejected(what)


def _from_refresh_error(exc: auth_exceptions.RefreshError) -> ConnectorError:
    code = _oauth_error_code(exc)
    if exc.retryable:
        return Transient(f"Google's token endpoint failed ({code or 'temporarily'})")
    if code in _CLIENT_ERRORS:
        return RemoteRejected(f"Google refused the bridge's OAuth client ({code})")
    return NeedsReauth(
        f"Google refused to renew the access ({code or 'no usable refresh token'}): "
        "connect the calendar again"
    )


def _oauth_error_code(exc: auth_exceptions.RefreshError) -> str | None:
    # google-auth raises RefreshError(message, response_data); the data is the parsed body.
    for arg in exc.args[1:]:
        if isinstance(arg, Mapping) and isinstance(arg.get("error"), str):
            return str(arg["error"])
    if exc.args and isinstance(exc.args[0], str) and ":" in exc.args[0]:
        head = exc.args[0].split(":", 1)[0].strip()
        if head and head.replace("_", "").isalpha():
            return head
    return None


def retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), if any.

    Args:
        headers: response headers with lower-case names (an ``httplib2.Response``).
    """
    value = headers.get("retry-after")
    if value is None:
        return None
    text = str(value).strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - clock.now()).total_seconds(), 0.0)
