"""``/providers/{slug}/services``: what a provider offers.

Listing active services is public; creating, changing, deactivating and listing inactive ones
need the provider's token or an admin token. Services are deactivated, never deleted: bookings
refer to them.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query

from bridge.booking import providers, services
from bridge.booking.services import ServiceSpec
from bridge.errors import Unauthenticated
from bridge.web.auth import CurrentPrincipal, OptionalPrincipal, require_provider
from bridge.web.deps import ReadSession, WriteSession
from bridge.web.schemas import (
    ServiceCreate,
    ServiceList,
    ServiceOut,
    ServiceUpdate,
    error_responses,
)

logger = logging.getLogger(__name__)

router = APIRouter(tags=["services"], responses=error_responses(401, 403, 404, 422))


@router.get("/providers/{slug}/services")
def list_services(
    slug: str,
    principal: OptionalPrincipal,
    session: ReadSession,
    include_inactive: Annotated[
        bool, Query(description="Also list deactivated services (provider or admin token).")
    ] = False,
) -> ServiceList:
    """The services clients can book; with ``include_inactive``, all of them."""
    provider = providers.get_provider(session, slug)
    if include_inactive:
        if principal is None:
            raise Unauthenticated("include_inactive needs the provider's or an admin token")
        require_provider(principal, provider)
    found = services.list_services(session, provider.id, active_only=not include_inactive)
    return ServiceList(services=[ServiceOut.model_validate(s) for s in found])


@router.post("/providers/{slug}/services", status_code=201)
def create_service(
    slug: str, body: ServiceCreate, principal: CurrentPrincipal, session: WriteSession
) -> ServiceOut:
    """Add a service; fields left out take the defaults of a new provider's service."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    service = services.create_service(session, provider.id, ServiceSpec(**body.model_dump()))
    logger.info("Created service %s of provider %s (%s)", service.id, slug, principal.actor())
    return ServiceOut.model_validate(service)


@router.patch("/providers/{slug}/services/{service_id}")
def update_service(
    slug: str,
    service_id: int,
    body: ServiceUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
) -> ServiceOut:
    """Change a service; fields left out stay as they are. Existing bookings keep their times."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    service = services.update_service(
        session, provider.id, service_id, ServiceSpec(**body.model_dump())
    )
    logger.info("Updated service %s of provider %s (%s)", service_id, slug, principal.actor())
    return ServiceOut.model_validate(service)


@router.delete("/providers/{slug}/services/{service_id}", status_code=204)
def deactivate_service(
    slug: str, service_id: int, principal: CurrentPrincipal, session: WriteSession
) -> None:
    """Deactivate a service: it is no longer offered; its bookings stay."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    services.update_service(session, provider.id, service_id, ServiceSpec(active=False))
    logger.info("Deactivated service %s of provider %s (%s)", service_id, slug, principal.actor())
