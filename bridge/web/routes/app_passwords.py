"""``/providers/{slug}/app-passwords``: CalDAV passwords for devices, one per device.

The provider's API token or an admin token. The password is in the answer to ``POST`` only;
listings show label, creation and last use, never the secret.
"""

from __future__ import annotations

import datetime as dt
import logging

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from bridge.booking import app_passwords, providers
from bridge.store.models import AppPassword
from bridge.web.auth import CurrentPrincipal, require_provider
from bridge.web.deps import ReadSession, WriteSession
from bridge.web.schemas import RequestBody, error_responses

logger = logging.getLogger(__name__)

router = APIRouter(tags=["app passwords"], responses=error_responses(401, 403, 404, 422))


class AppPasswordIn(RequestBody):
    label: str = Field(examples=["iPhone"], description="The device it is for.")


class AppPasswordOut(BaseModel):
    id: int
    label: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None

    @classmethod
    def of(cls, item: AppPassword) -> AppPasswordOut:
        return cls(
            id=item.id,
            label=item.label,
            created_at=item.created_at,
            last_used_at=item.last_used_at,
        )


class AppPasswordCreated(AppPasswordOut):
    username: str = Field(description="The CalDAV user name: the provider's slug.")
    password: str = Field(description="Shown in this answer only.")


class AppPasswordList(BaseModel):
    app_passwords: list[AppPasswordOut]


@router.get("/providers/{slug}/app-passwords")
def list_app_passwords(
    slug: str, principal: CurrentPrincipal, session: ReadSession
) -> AppPasswordList:
    """Live app passwords: id, label, created, last used (never the secret)."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    found = app_passwords.list_live(session, provider)
    return AppPasswordList(app_passwords=[AppPasswordOut.of(item) for item in found])


@router.post("/providers/{slug}/app-passwords", status_code=201)
def create_app_password(
    slug: str,
    body: AppPasswordIn,
    principal: CurrentPrincipal,
    session: WriteSession,
    response: Response,
) -> AppPasswordCreated:
    """Create an app password; the answer is the only place its secret appears."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    issued = app_passwords.create(session, provider, body.label)
    item = issued.app_password
    logger.info("Created app password %s of provider %s (%s)", item.id, slug, principal.actor())
    response.headers["Cache-Control"] = "no-store"
    return AppPasswordCreated(
        **AppPasswordOut.of(item).model_dump(), username=provider.slug, password=issued.secret
    )


@router.delete("/providers/{slug}/app-passwords/{app_password_id}", status_code=204)
def revoke_app_password(
    slug: str, app_password_id: int, principal: CurrentPrincipal, session: WriteSession
) -> None:
    """Revoke an app password: devices using it can no longer sign in."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    app_passwords.revoke(session, provider, app_password_id)
    logger.info(
        "Revoked app password %s of provider %s (%s)", app_password_id, slug, principal.actor()
    )
