"""One JSON shape for every error, and the one place :mod:`bridge.errors` become HTTP statuses.

Every error response, whatever raised it, has this body::

    {"error": {"code": "validation_error", "message": "client.email: required",
               "fields": {"client.email": "required"}}}

- request validation (pydantic): 422 ``validation_error``, ``fields`` keyed by field path
- ``ValidationFailed``: 422 ``validation_error`` with its ``fields``
- ``NotFound``: 404 ``not_found``
- ``SlotUnavailable``: 409 ``slot_unavailable``; ``InvalidStateChange``: 409 ``invalid_state``
- ``CalendarUnavailable``: 503 ``calendar_unavailable`` (a conflict calendar cannot be read now:
  no other slot would do better, so it is not a 409 that invites picking another time)
- ``Unauthenticated``: 401 ``unauthenticated``, with ``WWW-Authenticate: Bearer``
- ``Forbidden``: 403 ``forbidden``
- an unknown route or method: 404 ``not_found`` or 405 ``method_not_allowed``
- anything else: 500 ``internal_error``, logged with its traceback; the body says nothing of it

Field paths leave out where the value came from (``body``, ``query``, ``path``) and write list
positions as ``[i]``: ``client.email``, ``hours[2].start``, ``tz``.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge import errors

logger = logging.getLogger(__name__)

_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
_OFFSET_EXAMPLE = "needs a UTC offset, e.g. 2026-06-01T09:00:00+02:00"


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The JSON error body every failure uses."""
    body = {"error": {"code": code, "message": message, "fields": dict(fields or {})}}
    return JSONResponse(body, status_code=status, headers=headers)


def _summary(fields: Mapping[str, str]) -> str:
    return "; ".join(f"{path}: {message}" for path, message in fields.items())


def field_path(loc: Sequence[int | str]) -> str:
    """``("body", "hours", 2, "start")`` -> ``"hours[2].start"``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "body"


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind == "missing":
        return "required"
    if kind == "timezone_aware":
        return _OFFSET_EXAMPLE
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "value_error" and "error" in context:
        return str(context["error"])
    if kind in {"model_attributes_type", "dict_type"} and tuple(error["loc"]) == ("body",):
        return "expected a JSON object (sent with Content-Type: application/json)"
    return str(error["msg"])


def validation_fields(problems: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Pydantic's error list as field path -> message (the first message per field)."""
    fields: dict[str, str] = {}
    for problem in problems:
        if problem["type"] == "json_invalid":
            reason = (problem.get("ctx") or {}).get("error", "malformed")
            position = problem["loc"][-1] if len(problem["loc"]) > 1 else "?"
            fields.setdefault("body", f"not valid JSON: {reason} (at character {position})")
            continue
        fields.setdefault(field_path(problem["loc"]), _message(problem))
    return fields


async def _on_request_validation(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover - registered by class
        raise exc
    fields = validation_fields(exc.errors())
    return error_response(422, "validation_error", _summary(fields), fields)


async def _on_bridge_error(_request: Request, exc: Exception) -> Response:
    if isinstance(exc, errors.ValidationFailed):
        return error_response(422, "validation_error", _summary(exc.fields), exc.fields)
    if isinstance(exc, errors.NotFound):
        return error_response(404, "not_found", str(exc))
    if isinstance(exc, errors.CalendarUnavailable):
        return error_response(503, exc.code, str(exc))
    if isinstance(exc, errors.Conflict):
        return error_response(409, exc.code, str(exc))
    if isinstance(exc, errors.Unauthenticated):
        return error_response(
            401, "unauthenticated", str(exc), headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(exc, errors.Forbidden):
        return error_response(403, "forbidden", str(exc))
    # A BridgeError with no meaning for a client (e.g. ConfigError) is a server fault.
    logger.error("Unhandled %s: %s", type(exc).__name__, exc)
    return _internal_error()


async def _on_http_exception(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered by class
        raise exc
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else http.HTTPStatus(status).phrase
    return error_response(status, _HTTP_CODES.get(status, "http_error"), message, None, exc.headers)


def _internal_error() -> JSONResponse:
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


class UnexpectedErrors:
    """Answer an exception no handler took with a 500 in the JSON shape, logged once.

    Starlette's own last-resort handler re-raises after answering, so the server logs the
    traceback a second time; this middleware sits inside it and keeps the exception.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if started:  # Too late to answer; let the server log and close the connection.
                raise
            logger.exception("Unexpected error in %s %s", scope["method"], scope["path"])
            await _internal_error()(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers and the last-resort middleware on ``app``."""
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(errors.BridgeError, _on_bridge_error)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_middleware(UnexpectedErrors)
