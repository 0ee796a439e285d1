"""The one translation of Google's errors (pure: exceptions built by hand)."""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import json

import httplib2
import pytest
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
from bridge.connectors.google_errors import (
    QUOTA_RETRY_AFTER,
    DuplicateId,
    retry_after,
    translate,
    translated,
)

SECRET_DETAIL = "Dentist appointment with Dr. Ramsay"


def http_error(status: int, reason: str | None = None, **headers: str) -> HttpError:
    body: object = {
        "error": {
            "errors": [{"domain": "global", "reason": reason, "message": SECRET_DETAIL}],
            "code": status,
            "message": SECRET_DETAIL,
        }
    }
    content = json.dumps(body).encode() if reason else b"<html>Bad Gateway</html>"
    return HttpError(httplib2.Response({"status": status, **headers}), content)


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (401, "authError", NeedsReauth),
        (403, "insufficientPermissions", NeedsReauth),
        (403, "rateLimitExceeded", RateLimited),
        (403, "userRateLimitExceeded", RateLimited),
        (429, "rateLimitExceeded", RateLimited),
        (403, "quotaExceeded", RateLimited),
        (403, "forbiddenForNonOrganizer", RemoteRejected),
        (410, "fullSyncRequired", CursorExpired),
        (410, "updatedMinTooLongAgo", CursorExpired),
        (410, "deleted", RemoteNotFound),
        (404, "notFound", RemoteNotFound),
        (409, "duplicate", DuplicateId),
        (409, "conflict", Transient),
        (412, "conditionNotMet", PreconditionFailed),
        (400, "timeRangeEmpty", RemoteRejected),
        (408, None, Transient),
        (500, "backendError", Transient),
        (502, None, Transient),
        (503, None, Transient),
    ],
)
def test_http_errors(status: int, reason: str | None, expected: type[ConnectorError]) -> None:
    error = translate(http_error(status, reason))

    assert type(error) is expected
    assert str(status) in str(error)
    assert SECRET_DETAIL not in str(error)


def test_a_duplicate_is_a_remote_rejection_for_whoever_does_not_reconcile() -> None:
    assert isinstance(translate(http_error(409, "duplicate")), RemoteRejected)


def test_rate_limits_carry_the_servers_hint() -> None:
    error = translate(http_error(429, "rateLimitExceeded", **{"retry-after": "17"}))

    assert isinstance(error, RateLimited) and error.retry_after == 17


def test_exhausted_quota_waits_at_least_an_hour_or_longer_if_told() -> None:
    short = translate(http_error(403, "quotaExceeded", **{"retry-after": "60"}))
    long = translate(http_error(403, "quotaExceeded", **{"retry-after": "7200"}))

    assert isinstance(short, RateLimited) and short.retry_after == QUOTA_RETRY_AFTER
    assert isinstance(long, RateLimited) and long.retry_after == 7200


def test_server_errors_keep_a_retry_hint() -> None:
    error = translate(http_error(503, "backendError", **{"retry-after": "5"}))

    assert type(error) is Transient and error.retry_after == 5


def refresh_error(*args: object, retryable: bool = False) -> auth_exceptions.RefreshError:
    return auth_exceptions.RefreshError(*args, retryable=retryable)  # type: ignore[no-untyped-call]


def transport_error() -> auth_exceptions.TransportError:
    return auth_exceptions.TransportError("connection refused")  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            refresh_error(
                "invalid_grant: Token has been expired or revoked.",
                {"error": "invalid_grant", "error_description": "Token has been expired"},
            ),
            NeedsReauth,
        ),
        (refresh_error("invalid_grant: Bad Request"), NeedsReauth),
        (
            refresh_error(
                "The credentials do not contain the necessary fields need to refresh the access "
                "token. You must specify refresh_token, token_uri, client_id, and client_secret."
            ),
            NeedsReauth,
        ),
        (
            refresh_error("invalid_client: Unauthorized", {"error": "invalid_client"}),
            RemoteRejected,
        ),
        (
            refresh_error("internal_failure", {"error": "internal_failure"}, retryable=True),
            Transient,
        ),
        (transport_error(), Transient),
        (TimeoutError("timed out"), Transient),
        (ConnectionRefusedError(111, "Connection refused"), Transient),
        (ConnectionResetError(104, "Connection reset by peer"), Transient),
        (http.client.RemoteDisconnected("Remote end closed connection"), Transient),
        (httplib2.ServerNotFoundError("Unable to find the server"), Transient),
    ],
)
def test_library_and_network_errors(exc: BaseException, expected: type[Exception]) -> None:
    assert type(translate(exc)) is expected


def test_translated_raises_from_the_original() -> None:
    original = TimeoutError("timed out")

    with pytest.raises(Transient) as raised, translated():
        raise original
    assert raised.value.__cause__ is original


def test_translated_leaves_other_errors_alone() -> None:
    with pytest.raises(KeyError), translated():
        raise KeyError("ours")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), ("0", 0.0), ("-5", 0.0), ("1.5", 1.5), ("soon", None), (None, None)],
)
def test_retry_after_in_seconds(value: str | None, seconds: float | None) -> None:
    headers = {} if value is None else {"retry-after": value}

    assert retry_after(headers) == seconds


def test_retry_after_as_an_http_date() -> None:
    now = dt.datetime(2026, 6, 1, 6, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=90), usegmt=True)
    earlier = email.utils.format_datetime(now - dt.timedelta(seconds=90), usegmt=True)

    with clock.frozen(now):
        assert retry_after({"retry-after": later}) == 90
        assert retry_after({"retry-after": earlier}) == 0
