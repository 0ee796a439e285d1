"""Per-device CalDAV passwords: labelled, shown once, revocable.

An app password is 120 random bits in six groups of four characters (easy to type on a phone),
stored as its SHA-256: high-entropy secrets need no slow hash, and CalDAV clients send the
password with every request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bridge import clock
from bridge.booking.secrets import hash_secret
from bridge.booking.validation import check_text
from bridge.errors import NotFound
from bridge.store.models import AppPassword, Provider

_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud and typed by hand
USE_RECORD_INTERVAL = dt.timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class IssuedAppPassword:
    app_password: AppPassword
    secret: str


def _new_secret() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(24))  # 24 x 5 bits = 120 bits
    return "-".join(raw[i : i + 4] for i in range(0, 24, 4))


def _normalise(secret: str) -> str:
    return secret.strip().lower().replace(" ", "")


def create(session: Session, provider: Provider, label: str) -> IssuedAppPassword:
    """Issue an app password for a device named ``label``."""
    secret = _new_secret()
    app_password = AppPassword(
        provider_id=provider.id,
        label=check_text(label, "label", max_length=200),
        password_hash=hash_secret(_normalise(secret)),
    )
    session.add(app_password)
    session.flush()
    return IssuedAppPassword(app_password, secret)


def list_live(session: Session, provider: Provider) -> list[AppPassword]:
    return list(
        session.scalars(
            select(AppPassword)
            .where(AppPassword.provider_id == provider.id, AppPassword.revoked_at.is_(None))
            .order_by(AppPassword.id)
        )
    )


def revoke(session: Session, provider: Provider, app_password_id: int) -> AppPassword:
    """Revoke one of ``provider``'s app passwords (revoking twice changes nothing).

    Raises:
        NotFound: no such app password of this provider.
    """
    app_password = session.get(AppPassword, app_password_id)
    if app_password is None or app_password.provider_id != provider.id:
        raise NotFound("app password", app_password_id)
    if app_password.revoked_at is None:
        app_password.revoked_at = clock.now()
    session.flush()
    return app_password


def find_live(session: Session, provider_id: int, secret: str) -> AppPassword | None:
    """The provider's unrevoked app password matching ``secret``, or None."""
    return session.scalar(
        select(AppPassword).where(
            AppPassword.provider_id == provider_id,
            AppPassword.password_hash == hash_secret(_normalise(secret)),
            AppPassword.revoked_at.is_(None),
        )
    )


def use_is_stale(app_password: AppPassword) -> bool:
    last = app_password.last_used_at
    return last is None or clock.now() - last > USE_RECORD_INTERVAL


def record_use(session: Session, app_password_id: int) -> None:
    session.execute(
        update(AppPassword)
        .where(AppPassword.id == app_password_id)
        .values(last_used_at=clock.now())
    )
