"""``GET /oauth/{kind}/callback``: where the authorisation server sends the account holder back.

The answer is a small HTML page for the person in the browser: "Connected <account>" with the
calendars and what they do, or what went wrong (400) and what to do next. It never shows a
token or a traceback; the query's ``code`` and ``state`` are redacted from the access log
(:mod:`bridge.web.access_log`).
"""

from __future__ import annotations

import html
import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from bridge import oauth
from bridge.store.sync_models import Connection
from bridge.web.sync_deps import (
    SchedulerDep,
    app_keyring,
    ask_for_pull,
    newly_watched,
    sync_engine,
)

logger = logging.getLogger(__name__)

router = APIRouter(tags=["connections"], include_in_schema=False)  # for browsers

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}
_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;
line-height:1.5}}</style></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A minimal HTML page; ``title`` is escaped here, ``body`` must be escaped by the caller."""
    text = _PAGE.format(title=html.escape(title), body=body)
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


def _error_page(problem: str, status: int = 400) -> HTMLResponse:
    return page(
        "Could not connect the calendar",
        f"<p>{html.escape(problem)}.</p><p>Nothing was connected. You can close this window.</p>",
        status,
    )


def _connected_page(connection: Connection) -> HTMLResponse:
    rows = []
    for calendar in connection.calendars:
        roles = []
        if calendar.check_conflicts:
            roles.append("blocks your booking page when busy")
        if calendar.is_destination:
            roles.append("receives your bookings")
        what = "; ".join(roles) or "not synced (turn it on in your settings)"
        rows.append(f"<li><b>{html.escape(calendar.name)}</b>: {html.escape(what)}</li>")
    body = (
        f"<p>{html.escape(oauth.title(connection.kind))} account "
        f"<b>{html.escape(connection.account)}</b> is connected.</p>"
        f"<ul>{''.join(rows)}</ul>"
        "<p>The first sync runs now. You can close this window.</p>"
    )
    return page(f"Connected {connection.account}", body)


@router.get(
    "/oauth/{kind}/callback",
    response_class=HTMLResponse,
    responses={400: {"content": {"text/html": {}}, "description": "The connection failed."}},
)
def oauth_callback(
    kind: str,
    request: Request,
    scheduler: SchedulerDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    """Finish connecting a calendar account (the authorisation server redirects here)."""
    if kind not in oauth.kinds():
        raise HTTPException(404)
    store = request.app.state.store
    settings = request.app.state.settings
    try:
        if error is not None:
            raise oauth.decline_consent(store, kind=kind, state=state, reason=error)
        if not code or not state:
            raise oauth.OAuthStateInvalid(
                "the link is missing its code or state; start connecting again"
            )
        keyring = app_keyring(request)
        engine = sync_engine(request, keyring)
        connection = oauth.complete_consent(
            store,
            keyring,
            settings,
            kind=kind,
            state=state,
            code=code,
            request_pull=lambda calendar_id: ask_for_pull(engine, scheduler, calendar_id),
        )
    except oauth.OAuthError as exc:
        logger.info("A %s consent callback failed: %s", kind, exc)
        return _error_page(str(exc))
    except HTTPException as exc:  # no secret key configured
        return _error_page(str(exc.detail), exc.status_code)
    newly_watched(scheduler)
    return _connected_page(connection)
