"""The FastAPI application: the REST API under ``/api/v1`` and the ICS feeds under ``/feeds``.

``bridge serve`` builds it with :func:`create_app` after migrating the database; the app
itself neither migrates nor seeds anything. Only the OpenAPI document is served
(``/api/v1/openapi.json``): the interactive docs pages load their scripts from a CDN.
"""

from __future__ import annotations

from fastapi import FastAPI

import bridge
from bridge.settings import Settings
from bridge.store import Store
from bridge.web import errors
from bridge.web.dav_mount import mount_dav
from bridge.web.routes import (
    app_passwords,
    blocked_times,
    bookings,
    feeds,
    hours,
    overrides,
    providers,
    services,
    slots,
    tokens,
)

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1024 * 1024
ROUTES = (
    providers,
    services,
    hours,
    overrides,
    blocked_times,
    slots,
    bookings,
    tokens,
    feeds,
    app_passwords,
)

DESCRIPTION = """\
The booking API of the calendar bridge.

Authenticate with `Authorization: Bearer <token>`: an API token (`bat_…`, scoped to one
provider or admin; created with `bridge token create`) or, for one booking, the booking's manage
token (`bmt_…`, returned once when booking). Credentials of another provider get 404.

Every error has the body `{"error": {"code": …, "message": …, "fields": {…}}}`; `fields` maps a
field path such as `client.email` to its problem.
"""


def create_app(settings: Settings, store: Store) -> FastAPI:
    """Build the API over ``store`` (already migrated by the caller).

    Args:
        settings: the server's settings.
        store: the database the API reads and writes.
    """
    app = FastAPI(
        title="Calendar bridge",
        version=bridge.__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.settings = settings
    app.state.store = store
    errors.install(app)
    for module in ROUTES:
        app.include_router(module.router, prefix=API_PREFIX)
    mount_dav(app, store)  # CalDAV at /dav, /.well-known/caldav redirects there
    app.include_router(feeds.feed_router)  # /feeds/<token>.ics, outside the API
    return app
