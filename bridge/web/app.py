"""The FastAPI application: the REST API, feeds, CalDAV, OAuth callbacks and webhooks.

The REST API is under ``/api/v1``, the ICS feeds under ``/feeds``, CalDAV under ``/dav``, OAuth
callbacks under ``/oauth`` and push notifications under ``/hooks``.
``bridge serve`` builds it with :func:`create_app` after migrating the database; the app
itself neither migrates nor seeds anything, and neither starts nor stops the sync scheduler it
may be given. Only the OpenAPI document is served (``/api/v1/openapi.json``): the interactive
docs pages load their scripts from a CDN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

import bridge
from bridge.settings import Settings
from bridge.store import Store
from bridge.sync.engine import SyncEngine
from bridge.web import errors
from bridge.web.dav_mount import mount_dav
from bridge.web.routes import (
    app_passwords,
    blocked_times,
    bookings,
    connections,
    feeds,
    hooks,
    hours,
    oauth,
    overrides,
    providers,
    services,
    slots,
    tokens,
)

if TYPE_CHECKING:
    from bridge.jobs import SyncScheduler

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
    connections,
)

DESCRIPTION = """\
The booking API of the calendar bridge.

Authenticate with `Authorization: Bearer <token>`: an API token (`bat_…`, scoped to one
provider or admin; created with `bridge token create`) or, for one booking, the booking's manage
token (`bmt_…`, returned once when booking). Credentials of another provider get 404.

Every error has the body `{"error": {"code": …, "message": …, "fields": {…}}}`; `fields` maps a
field path such as `client.email` to its problem.
"""


def create_app(
    settings: Settings, store: Store, *, scheduler: SyncScheduler | None = None
) -> FastAPI:
    """Build the API over ``store`` (already migrated by the caller).

    Args:
        settings: the server's settings.
        store: the database the API reads and writes.
        scheduler: the sync scheduler of this process, if it runs one: its engine serves the
            sync routes, and webhooks and the API wake its pulls directly. Without it the
            routes build an engine on first use and leave pulls to whichever process schedules.
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
    app.state.scheduler = scheduler
    if scheduler is not None and isinstance(scheduler.engine, SyncEngine):
        app.state.sync_engine = scheduler.engine
    errors.install(app)
    connections.install(app)
    for module in ROUTES:
        app.include_router(module.router, prefix=API_PREFIX)
    mount_dav(app, store)  # CalDAV at /dav, /.well-known/caldav redirects there
    app.include_router(feeds.feed_router)  # /feeds/<token>.ics, outside the API
    app.include_router(oauth.router)  # /oauth/<kind>/callback
    app.include_router(hooks.router)  # /hooks/google
    return app
