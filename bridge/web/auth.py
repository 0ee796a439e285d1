"""Bearer authentication and the API's access rules.

Two kinds of secret arrive as ``Authorization: Bearer <secret>``:

- API tokens (``bat_…``, :mod:`bridge.booking.tokens`), scoped to admin or to one provider;
- a booking's manage token (``bmt_…``), shown to the client once when they book; it acts on
  that one booking only.

The rules, applied by the helpers below once the route has loaded what it acts on:

- no credentials, or a secret nobody issued (or since revoked): 401 (:class:`Unauthenticated`);
- credentials that belong to another provider: 404 (:class:`NotFound`), so the API never
  confirms that another provider's things exist;
- credentials for the right provider but the wrong role (a provider token on an admin-only
  endpoint, a manage token on the provider's settings): 403 (:class:`Forbidden`).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bridge.booking import bookings, tokens
from bridge.booking.bookings import Actor
from bridge.booking.secrets import API_TOKEN_PREFIX, MANAGE_TOKEN_PREFIX
from bridge.errors import Forbidden, NotFound, Unauthenticated
from bridge.store import Store
from bridge.store.models import Provider
from bridge.web.deps import StoreDep

logger = logging.getLogger(__name__)

_bearer = HTTPBearer(
    auto_error=False,
    description="An API token (`bat_…`) or, for one booking, its manage token (`bmt_…`).",
)


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is calling: an admin, a provider (through one of their tokens) or a booking's client."""

    kind: Literal["admin", "provider", "client"]
    label: str
    provider_id: int | None = None
    booking_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    def actor(self) -> Actor:
        """The actor recorded in a booking's history for changes this principal makes."""
        return bookings.CLIENT if self.kind == "client" else Actor(self.kind, self.label)


def _principal_for(store: Store, secret: str) -> Principal | None:
    if secret.startswith(API_TOKEN_PREFIX):
        with store.read() as session:
            token = tokens.find_live(session, secret)
            if token is None:
                return None
            label = token.label or f"token-{token.id}"
            if token.is_admin:
                principal = Principal("admin", label)
            else:
                principal = Principal("provider", label, provider_id=token.provider_id)
            stale = tokens.use_is_stale(token)
        if stale:
            with store.write() as session:
                tokens.record_use(session, token.id)
        return principal
    if secret.startswith(MANAGE_TOKEN_PREFIX):
        with store.read() as session:
            booking = bookings.find_by_manage_token(session, secret)
            if booking is None:
                return None
            return Principal(
                "client", "manage token", provider_id=booking.provider_id, booking_id=booking.id
            )
    return None


def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    store: StoreDep,
) -> Principal | None:
    """The caller, or None when no bearer credentials were sent.

    Raises:
        Unauthenticated: a secret was sent but is not a live token.
    """
    if credentials is None:
        return None
    principal = _principal_for(store, credentials.credentials)
    if principal is None:
        logger.info(
            "Rejected an unknown or revoked bearer secret on %s %s",
            request.method,
            request.url.path,
        )
        raise Unauthenticated("the bearer token is unknown or revoked")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def current_principal(principal: OptionalPrincipal) -> Principal:
    """The caller.

    Raises:
        Unauthenticated: no bearer credentials, or not a live token.
    """
    if principal is None:
        raise Unauthenticated("this endpoint needs an 'Authorization: Bearer <token>' header")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_admin(principal: Principal) -> None:
    """Allow admins only.

    Raises:
        Forbidden: ``principal`` does not hold an admin token.
    """
    if not principal.is_admin:
        raise Forbidden("this endpoint needs an admin token")


def require_provider(principal: Principal, provider: Provider) -> None:
    """Allow admins and ``provider``'s own API tokens.

    Raises:
        NotFound: the credentials belong to another provider (or to a booking of one).
        Forbidden: a manage token of one of ``provider``'s bookings.
    """
    if principal.is_admin:
        return
    if principal.provider_id != provider.id:
        raise NotFound("provider", provider.slug)
    if principal.kind != "provider":
        raise Forbidden("a booking's manage token cannot be used here; use an API token")


def booking_actor(principal: Principal, provider: Provider, booking_id: int) -> Actor:
    """The actor for a change to one booking, if ``principal`` may make it.

    Admins, ``provider``'s API tokens and the booking's own manage token qualify.

    Raises:
        NotFound: the credentials belong to another provider or to another booking.
    """
    if not principal.is_admin and (
        principal.provider_id != provider.id
        or (principal.kind == "client" and principal.booking_id != booking_id)
    ):
        raise NotFound("booking", booking_id)
    return principal.actor()
