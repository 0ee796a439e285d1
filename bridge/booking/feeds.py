"""Secret ICS feed links: per provider one live token per kind, created on demand.

A token is 256 random bits (``secrets.token_urlsafe(32)``), the last part of
``/feeds/<token>.ics``. It is stored twice: as its SHA-256, by which the feed route finds it (a
copy of the database reveals no link), and encrypted with the ``feed-tokens`` key of
:mod:`bridge.keys`, so that an existing link can be shown again. When that key is gone the link
keeps working but cannot be shown: :attr:`FeedLink.secret` is None and rotating makes a new one.

Kinds: ``full`` (service and the client's first name) and ``busy`` (times only); see
:mod:`bridge.feeds` for what each shows. Rotating replaces the token (the old link stops working at
once); revoking ends it, and the next request for a link makes a new one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import clock, keys
from bridge.booking.secrets import hash_secret
from bridge.store import Store
from bridge.store.models import FeedToken, Provider

log = logging.getLogger(__name__)

FeedKind = Literal["full", "busy"]
KINDS: tuple[FeedKind, ...] = get_args(FeedKind)


@dataclasses.dataclass(frozen=True)
class FeedLink:
    """A provider's live feed token of one kind.

    Attributes:
        secret: the token, or None when it cannot be shown again (see :attr:`problem`).
        problem: why the token cannot be shown, or None.
    """

    kind: FeedKind
    token_id: int
    created_at: dt.datetime
    secret: str | None
    problem: str | None = None


def _live(session: Session, provider_id: int, kind: FeedKind) -> FeedToken | None:
    return session.scalar(
        select(FeedToken)
        .where(
            FeedToken.provider_id == provider_id,
            FeedToken.kind == kind,
            FeedToken.revoked_at.is_(None),
        )
        .order_by(FeedToken.id.desc())
        .limit(1)
    )


def _issue(session: Session, provider: Provider, kind: FeedKind, keyring: keys.Keyring) -> FeedLink:
    secret = secrets.token_urlsafe(32)
    row = FeedToken(
        provider_id=provider.id,
        kind=kind,
        token_hash=hash_secret(secret),
        token_encrypted=keyring.encrypt(keys.FEED_TOKENS, secret),
    )
    session.add(row)
    session.flush()
    log.info("Created %s feed token %s of provider %s", kind, row.id, provider.slug)
    return FeedLink(kind, row.id, row.created_at, secret)


def _reveal(row: FeedToken, keyring: keys.Keyring) -> FeedLink:
    kind: FeedKind = "busy" if row.kind == "busy" else "full"
    try:
        secret = keyring.decrypt(keys.FEED_TOKENS, row.token_encrypted)
    except keys.UndecryptableSecret:
        log.info(
            "Feed token %s cannot be decrypted with the secret keys from %s",
            row.id,
            keyring.source,
        )
        problem = (
            f"the {kind} feed link cannot be shown again: it was encrypted with a secret key "
            f"that is no longer configured ({keyring.source}). The link still works; rotate "
            "it to get a new one (the old link then stops working)"
        )
        return FeedLink(kind, row.id, row.created_at, None, problem)
    if not keyring.is_current(keys.FEED_TOKENS, row.token_encrypted):
        row.token_encrypted = keyring.encrypt(keys.FEED_TOKENS, secret)
    return FeedLink(kind, row.id, row.created_at, secret)


def ensure(session: Session, provider: Provider, kind: FeedKind, keyring: keys.Keyring) -> FeedLink:
    """The live link of ``kind``, created when there is none (in a write transaction).

    A token encrypted with an older key is re-encrypted with the newest one on the way.
    """
    Store.lock_provider(session, provider.id)  # two first requests must not make two links
    row = _live(session, provider.id, kind)
    if row is None:
        return _issue(session, provider, kind, keyring)
    return _reveal(row, keyring)


def rotate(session: Session, provider: Provider, kind: FeedKind, keyring: keys.Keyring) -> FeedLink:
    """Replace the live token of ``kind`` (if any) with a new one; the old link stops at once."""
    revoke(session, provider, kind)
    return _issue(session, provider, kind, keyring)


def revoke(session: Session, provider: Provider, kind: FeedKind) -> int:
    """End the live link of ``kind``; returns how many tokens were revoked (0 or 1)."""
    Store.lock_provider(session, provider.id)
    rows = session.scalars(
        select(FeedToken).where(
            FeedToken.provider_id == provider.id,
            FeedToken.kind == kind,
            FeedToken.revoked_at.is_(None),
        )
    ).all()
    now = clock.now()
    for row in rows:
        row.revoked_at = now
        log.info("Revoked %s feed token %s of provider %s", kind, row.id, provider.slug)
    session.flush()
    return len(rows)


def find_live(session: Session, secret: str) -> FeedToken | None:
    """The unrevoked feed token for ``secret``, or None."""
    return session.scalar(
        select(FeedToken).where(
            FeedToken.token_hash == hash_secret(secret), FeedToken.revoked_at.is_(None)
        )
    )
