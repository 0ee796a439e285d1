"""Errors of the fake, shaped exactly like Google's.

Two families, both rendered by the HTTP layer:

- :class:`ApiError` — a Calendar API error, rendered as
  ``{"error": {"errors": [{domain, reason, message, (locationType, location)}],
  "code", "message"}}``
  (https://developers.google.com/workspace/calendar/api/guides/errors).
- :class:`OAuthError` — an OAuth endpoint error, rendered as ``{"error", "error_description"}``.
"""

from __future__ import annotations

from typing import Any

FULL_SYNC_MESSAGE = "Sync token is no longer valid, a full sync is required."

# The domain Google uses for each reason; reasons not listed are "global".
_DOMAINS = {
    "rateLimitExceeded": "usageLimits",
    "userRateLimitExceeded": "usageLimits",
    "quotaExceeded": "usageLimits",
    "dailyLimitExceeded": "usageLimits",
    "fullSyncRequired": "calendar",
    "updatedMinTooLongAgo": "calendar",
    "timeRangeEmpty": "calendar",
    "forbiddenForNonOrganizer": "calendar",
    "requiredAccessLevel": "calendar",
    "eventTypeRestriction": "calendar",
}

_MESSAGES = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
    "dailyLimitExceeded": "Daily Limit Exceeded",
    "backendError": "Backend Error",
    "notFound": "Not Found",
    "deleted": "Resource has been deleted",
    "duplicate": "The requested identifier already exists.",
    "conflict": "Conflict",
    "conditionNotMet": "Precondition Failed",
    "fullSyncRequired": FULL_SYNC_MESSAGE,
    "updatedMinTooLongAgo": "The requested minimum modification time lies too far in the past.",
    "timeRangeEmpty": "The specified time range is empty.",
    "authError": "Invalid Credentials",
    "badRequest": "Bad Request",
    "insufficientPermissions": "Insufficient Permission",
    "requiredAccessLevel": "You need to have writer access to this calendar.",
}

_DEFAULT_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "rateLimitExceeded",
    404: "notFound",
    409: "conflict",
    410: "deleted",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
}


class ApiError(Exception):
    """A Calendar API error response.

    Args:
        code: HTTP status.
        reason: ``errors[0].reason``.
        message: ``errors[0].message``; a per-reason default when omitted.
        domain: ``errors[0].domain``; a per-reason default when omitted.
        location_type: ``errors[0].locationType`` ("parameter" or "header"), if any.
        location: ``errors[0].location``, if any.
        top_message: the top-level ``message``; ``message`` when omitted.
        status: the top-level ``status`` string some Google errors carry, if any.
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``).
    """

    def __init__(
        self,
        code: int,
        reason: str,
        message: str | None = None,
        *,
        domain: str | None = None,
        location_type: str | None = None,
        location: str | None = None,
        top_message: str | None = None,
        status: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = code
        self.reason = reason
        self.message = message or _MESSAGES.get(reason, reason)
        self.domain = domain or _DOMAINS.get(reason, "global")
        self.location_type = location_type
        self.location = location
        self.top_message = top_message or self.message
        self.status = status
        self.headers = dict(headers or {})
        super().__init__(f"{code} {self.reason}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        item: dict[str, Any] = {
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        }
        if self.location_type is not None:
            item["locationType"] = self.location_type
        if self.location is not None:
            item["location"] = self.location
        error: dict[str, Any] = {"errors": [item], "code": self.code, "message": self.top_message}
        if self.status is not None:
            error["status"] = self.status
        return {"error": error}


class OAuthError(Exception):
    """An OAuth 2.0 endpoint error (RFC 6749 section 5.2 shape)."""

    def __init__(self, code: int, error: str, description: str | None = None) -> None:
        self.code = code
        self.error = error
        self.description = description
        super().__init__(f"{code} {error}: {description}")

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        body: dict[str, Any] = {"error": self.error}
        if self.description is not None:
            body["error_description"] = self.description
        return body


def default_reason(code: int) -> str:
    """The reason Google most often gives for a status, for injected faults."""
    if code >= 500:
        return "backendError"
    return _DEFAULT_REASONS.get(code, "badRequest")


def not_found() -> ApiError:
    return ApiError(404, "notFound")


def invalid(message: str, *, location: str | None = None) -> ApiError:
    """400 ``invalid`` (a bad value in the body or a parameter)."""
    return ApiError(
        400,
        "invalid",
        message,
        location_type="parameter" if location else None,
        location=location,
    )


def required(message: str, *, location: str | None = None) -> ApiError:
    """400 ``required`` (a missing field or parameter)."""
    return ApiError(
        400,
        "required",
        message,
        location_type="parameter" if location else None,
        location=location,
    )


def invalid_parameter(name: str, message: str) -> ApiError:
    """400 ``invalidParameter`` for a query parameter of the wrong type or value."""
    return ApiError(400, "invalidParameter", message, location_type="parameter", location=name)


def time_range_empty(location: str | None = None) -> ApiError:
    return ApiError(
        400,
        "timeRangeEmpty",
        location_type="parameter" if location else None,
        location=location,
    )


def full_sync_required() -> ApiError:
    """410 ``fullSyncRequired`` with the documented body."""
    return ApiError(
        410,
        "fullSyncRequired",
        FULL_SYNC_MESSAGE,
        location_type="parameter",
        location="syncToken",
    )


def auth_error(*, missing: bool = False) -> ApiError:
    """401 for a missing, unknown, expired or revoked access token."""
    if missing:
        return ApiError(
            401,
            "required",
            "Login Required.",
            location_type="header",
            location="Authorization",
            top_message=(
                "Request is missing required authentication credential. Expected OAuth 2 access"
                " token, login cookie or other valid authentication credential."
            ),
            status="UNAUTHENTICATED",
            headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
        )
    return ApiError(
        401,
        "authError",
        "Invalid Credentials",
        location_type="header",
        location="Authorization",
        top_message=(
            "Request had invalid authentication credentials. Expected OAuth 2 access token,"
            " login cookie or other valid authentication credential."
        ),
        status="UNAUTHENTICATED",
        headers={
            "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        },
    )


def insufficient_scopes() -> ApiError:
    return ApiError(
        403,
        "insufficientPermissions",
        top_message="Request had insufficient authentication scopes.",
        status="PERMISSION_DENIED",
        headers={
            "WWW-Authenticate": (
                'Bearer realm="https://accounts.google.com/", error="insufficient_scope"'
            )
        },
    )
