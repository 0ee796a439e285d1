"""Demo data that ``bridge serve`` creates on an empty embedded database.

The demo provider is an ordinary provider: a random password (its login) and an API token are made
for it and returned once, in clear, for ``bridge serve`` to print; only their hashes are stored.
"""

from __future__ import annotations

import dataclasses
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.booking import providers, services, tokens
from bridge.store.models import Provider, Service

DEMO_SLUG = "demo"
DEMO_TIME_ZONE = "Europe/Berlin"
CONSULTATION = services.ServiceSpec(
    name="Consultation", duration_minutes=60, buffer_after_minutes=10
)


@dataclasses.dataclass(frozen=True)
class DemoSeed:
    """What :func:`seed_demo` made; ``password`` and ``api_token`` exist nowhere else in clear."""

    provider: Provider
    services: tuple[Service, ...]
    password: str
    api_token: str


def has_providers(session: Session) -> bool:
    return session.scalar(select(Provider.id).limit(1)) is not None


def seed_demo(session: Session) -> DemoSeed:
    """Create the demo provider with two services, weekday hours, a password and an API token.

    Args:
        session: a write session; the caller commits.

    Returns:
        The provider and services, with the clear password and token secret.

    Raises:
        ValidationFailed: the slug ``demo`` is taken.
    """
    password = secrets.token_urlsafe(12)
    provider = providers.create_provider(
        session,
        slug=DEMO_SLUG,
        name="Demo Practice",
        email="demo@example.org",
        time_zone=DEMO_TIME_ZONE,
        password=password,
    )
    consultation = services.create_service(session, provider.id, CONSULTATION)
    issued = tokens.create_token(session, provider=provider, label="demo")
    default_service = services.list_services(session, provider.id, active_only=False)[0]
    return DemoSeed(provider, (default_service, consultation), password, issued.secret)


def seed_demo_if_empty(session: Session) -> DemoSeed | None:
    """Seed the demo when the database has no provider at all, else do nothing."""
    if has_providers(session):
        return None
    return seed_demo(session)
