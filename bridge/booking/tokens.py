"""REST API tokens: 256 random bits, shown once, stored hashed, scoped to a provider or admin."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bridge import clock
from bridge.booking.secrets import API_TOKEN_PREFIX, hash_secret, new_secret
from bridge.booking.validation import check_text
from bridge.errors import NotFound
from bridge.store.models import ApiToken, Provider

USE_RECORD_INTERVAL = dt.timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


def create_token(session: Session, *, provider: Provider | None, label: str = "") -> IssuedToken:
    """Issue a token for ``provider``, or an admin token when ``provider`` is None."""
    secret = new_secret(API_TOKEN_PREFIX)
    token = ApiToken(
        token_hash=hash_secret(secret),
        label=check_text(label, "label", max_length=200, required=False),
        provider_id=provider.id if provider else None,
        is_admin=provider is None,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


def find_live(session: Session, secret: str) -> ApiToken | None:
    """The unrevoked token for ``secret``, or None."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def use_is_stale(token: ApiToken) -> bool:
    """Whether ``last_used_at`` is older than :data:`USE_RECORD_INTERVAL`.

    Recording every use would turn every authenticated read into a write (and, on SQLite, queue
    it behind every other writer); "last used" to the minute is all anyone needs.
    """
    return token.last_used_at is None or clock.now() - token.last_used_at > USE_RECORD_INTERVAL


def record_use(session: Session, token_id: int) -> None:
    session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=clock.now())
    )


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The live token for ``secret`` or None; its use is recorded if the session commits."""
    token = find_live(session, secret)
    if token is not None and use_is_stale(token):
        token.last_used_at = clock.now()
    return token


def list_tokens(session: Session, *, provider: Provider | None) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)
    if provider is not None:
        query = query.where(ApiToken.provider_id == provider.id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, *, provider: Provider | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (provider is not None and token.provider_id != provider.id):
        raise NotFound("token", token_id)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
    session.flush()
    return token
