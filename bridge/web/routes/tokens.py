"""``/tokens``: list and revoke API tokens (a provider its own, an admin every one).

Tokens are created with ``bridge token create``; the secret is shown only then.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter
from sqlalchemy.orm import Session

from bridge.booking import tokens
from bridge.errors import Forbidden, Unauthenticated
from bridge.store.models import ApiToken, Provider
from bridge.web.auth import CurrentPrincipal, Principal
from bridge.web.deps import ReadSession, WriteSession
from bridge.web.schemas import TokenList, TokenOut, error_responses

logger = logging.getLogger(__name__)

router = APIRouter(tags=["tokens"], responses=error_responses(401, 403, 404, 422))


def _owner(session: Session, principal: Principal) -> Provider | None:
    """The provider whose tokens ``principal`` manages; None for an admin (all tokens)."""
    if principal.is_admin:
        return None
    if principal.kind != "provider" or principal.provider_id is None:
        raise Forbidden("managing tokens needs an API token")
    provider = session.get(Provider, principal.provider_id)
    if provider is None:  # deleted since the token was checked
        raise Unauthenticated("the bearer token is unknown or revoked")
    return provider


def _render(token: ApiToken) -> TokenOut:
    scope: Literal["admin", "provider"] = "admin" if token.is_admin else "provider"
    return TokenOut(
        id=token.id,
        label=token.label,
        scope=scope,
        provider=token.provider.slug if token.provider else None,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
    )


@router.get("/tokens")
def list_tokens(principal: CurrentPrincipal, session: ReadSession) -> TokenList:
    """Live (unrevoked) tokens: the caller's provider's, or every one for an admin."""
    found = tokens.list_tokens(session, provider=_owner(session, principal))
    return TokenList(tokens=[_render(t) for t in found])


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, principal: CurrentPrincipal, session: WriteSession) -> None:
    """Revoke a token at once; revoking a revoked token changes nothing."""
    tokens.revoke_token(session, token_id, provider=_owner(session, principal))
    logger.info("Revoked API token %s (%s)", token_id, principal.actor())
