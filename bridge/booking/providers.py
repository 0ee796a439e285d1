"""Providers: the people whose calendars the bridge keeps."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.booking import schedule, services
from bridge.booking.secrets import hash_password
from bridge.booking.validation import check_email, check_slug, check_text, check_time_zone
from bridge.dav import projection
from bridge.errors import NotFound, ValidationFailed
from bridge.store.models import Provider

MIN_PASSWORD_LENGTH = 8


def create_provider(
    session: Session,
    *,
    slug: str,
    name: str,
    email: str,
    time_zone: str,
    password: str | None = None,
) -> Provider:
    """Create a provider who is bookable at once.

    A new provider gets one 30-minute service and weekday 09:00-17:00 hours in their zone.

    Raises:
        ValidationFailed: a malformed field, a taken slug or a short password.
    """
    provider = Provider(
        slug=check_slug(slug),
        name=check_text(name, "name", max_length=200),
        email=check_email(email),
        time_zone=check_time_zone(time_zone),
    )
    if password is not None:
        provider.password_hash = hash_password(check_password(password))
    if session.scalar(select(Provider.id).where(Provider.slug == provider.slug)) is not None:
        raise ValidationFailed({"slug": f"{provider.slug!r} is already taken"})
    session.add(provider)
    session.flush()
    services.create_service(session, provider.id, services.DEFAULT_SERVICE)
    schedule.set_weekly_hours(session, provider.id, schedule.WEEKDAYS_9_TO_5)
    projection.provider_collections(session, provider.id)
    return provider


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": f"at least {MIN_PASSWORD_LENGTH} characters"})
    return password


def update_provider(
    session: Session,
    provider: Provider,
    *,
    name: str | None = None,
    email: str | None = None,
    time_zone: str | None = None,
) -> Provider:
    if name is not None:
        provider.name = check_text(name, "name", max_length=200)
    if email is not None:
        provider.email = check_email(email)
    if time_zone is not None:
        provider.time_zone = check_time_zone(time_zone)
    session.flush()
    return provider


def set_password(session: Session, provider: Provider, password: str) -> None:
    provider.password_hash = hash_password(check_password(password))
    session.flush()


def get_provider(session: Session, slug: str) -> Provider:
    provider = session.scalar(select(Provider).where(Provider.slug == slug))
    if provider is None:
        raise NotFound("provider", slug)
    return provider


def list_providers(session: Session) -> list[Provider]:
    return list(session.scalars(select(Provider).order_by(Provider.slug)))
