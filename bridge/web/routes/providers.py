"""``/providers``: create, list, read and update providers.

Creating and listing need an admin token; a provider's own token may read and edit its record.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from bridge.booking import providers
from bridge.web.auth import CurrentPrincipal, require_admin, require_provider
from bridge.web.deps import ReadSession, WriteSession
from bridge.web.schemas import (
    ProviderCreate,
    ProviderList,
    ProviderOut,
    ProviderUpdate,
    error_responses,
)

logger = logging.getLogger(__name__)

router = APIRouter(tags=["providers"], responses=error_responses(401, 403, 404, 422))


@router.post("/providers", status_code=201)
def create_provider(
    body: ProviderCreate,
    principal: CurrentPrincipal,
    session: WriteSession,
    request: Request,
    response: Response,
) -> ProviderOut:
    """Create a provider, bookable at once: one 30-minute service, weekdays 09:00-17:00."""
    require_admin(principal)
    provider = providers.create_provider(
        session,
        slug=body.slug,
        name=body.name,
        email=body.email,
        time_zone=body.time_zone,
        password=body.password,
    )
    logger.info("Created provider %s (%s)", provider.slug, principal.actor())
    response.headers["Location"] = str(request.app.url_path_for("get_provider", slug=provider.slug))
    return ProviderOut.of(provider)


@router.get("/providers")
def list_providers(principal: CurrentPrincipal, session: ReadSession) -> ProviderList:
    require_admin(principal)
    return ProviderList(providers=[ProviderOut.of(p) for p in providers.list_providers(session)])


@router.get("/providers/{slug}")
def get_provider(slug: str, principal: CurrentPrincipal, session: ReadSession) -> ProviderOut:
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    return ProviderOut.of(provider)


@router.patch("/providers/{slug}")
def update_provider(
    slug: str, body: ProviderUpdate, principal: CurrentPrincipal, session: WriteSession
) -> ProviderOut:
    """Change name, email or time zone; fields left out stay as they are."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    providers.update_provider(
        session, provider, name=body.name, email=body.email, time_zone=body.time_zone
    )
    logger.info("Updated provider %s (%s)", slug, principal.actor())
    return ProviderOut.of(provider)
