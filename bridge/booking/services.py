"""Services a provider offers: duration, buffers, notice, horizon and slot step."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.booking.validation import MAX_BUFFER_MINUTES, check_text
from bridge.errors import NotFound, ValidationFailed
from bridge.store.models import Service


@dataclasses.dataclass(frozen=True)
class ServiceSpec:
    """Every field a service has; ``None`` in an update means "leave as is"."""

    name: str | None = None
    duration_minutes: int | None = None
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None
    min_notice_minutes: int | None = None
    horizon_days: int | None = None
    slot_step_minutes: int | None = None
    active: bool | None = None


DEFAULT_SERVICE = ServiceSpec(
    name="Appointment",
    duration_minutes=30,
    buffer_before_minutes=0,
    buffer_after_minutes=0,
    min_notice_minutes=120,
    horizon_days=60,
    slot_step_minutes=30,
    active=True,
)

_LIMITS = {
    "duration_minutes": (5, 1440),
    "buffer_before_minutes": (0, MAX_BUFFER_MINUTES),
    "buffer_after_minutes": (0, MAX_BUFFER_MINUTES),
    "min_notice_minutes": (0, 60 * 24 * 365),
    "horizon_days": (1, 730),
    "slot_step_minutes": (5, 1440),
}


def _apply(service: Service, spec: ServiceSpec) -> None:
    problems: dict[str, str] = {}
    if spec.name is not None:
        service.name = check_text(spec.name, "name", max_length=200)
    for field, (low, high) in _LIMITS.items():
        value = getattr(spec, field)
        if value is None:
            continue
        if not low <= value <= high:
            problems[field] = f"must be between {low} and {high}"
        else:
            setattr(service, field, value)
    if spec.active is not None:
        service.active = spec.active
    if problems:
        raise ValidationFailed(problems)


def create_service(session: Session, provider_id: int, spec: ServiceSpec) -> Service:
    """Create a service; fields left ``None`` take :data:`DEFAULT_SERVICE`'s values.

    Raises:
        ValidationFailed: a value is out of range.
    """
    merged = dataclasses.replace(
        DEFAULT_SERVICE,
        **{k: v for k, v in dataclasses.asdict(spec).items() if v is not None},
    )
    service = Service(provider_id=provider_id)
    _apply(service, merged)
    if spec.slot_step_minutes is None:
        # A step defaulting to the duration gives back-to-back slots.
        service.slot_step_minutes = service.duration_minutes
    session.add(service)
    session.flush()
    return service


def update_service(
    session: Session, provider_id: int, service_id: int, spec: ServiceSpec
) -> Service:
    service = get_service(session, provider_id, service_id)
    _apply(service, spec)
    session.flush()
    return service


def get_service(session: Session, provider_id: int, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None or service.provider_id != provider_id:
        raise NotFound("service", service_id)
    return service


def list_services(session: Session, provider_id: int, *, active_only: bool) -> list[Service]:
    query = select(Service).where(Service.provider_id == provider_id).order_by(Service.id)
    if active_only:
        query = query.where(Service.active.is_(True))
    return list(session.scalars(query))
