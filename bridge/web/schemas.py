"""Request and response bodies of the API.

Requests refuse unknown fields, so a misspelt field is an error rather than silently ignored.
Instants are RFC 3339 strings with an offset; responses render booking-side times in the
provider's zone (slots in the requested zone) and record timestamps (``created_at`` …) in UTC.
Lists come wrapped in an object (``{"bookings": [...]}``) so that fields can be added later.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from bridge.booking.validation import format_clock
from bridge.store.models import BlockedTime, Booking, BookingChange, DateOverride, Provider

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)  # index 0 is Monday, as in the store

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_time_text(value: object) -> object:
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _DATE_TIME.match(value)):
        return value
    raise ValueError("expected an RFC 3339 date-time with offset, e.g. 2026-06-01T09:00:00+02:00")


def _date_text(value: object) -> object:
    if isinstance(value, dt.date) or (isinstance(value, str) and _DATE.fullmatch(value)):
        return value
    raise ValueError("expected a date YYYY-MM-DD")


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_date_time_text),
    Field(examples=["2026-06-01T09:00:00+02:00"]),
]
"""An RFC 3339 date-time with an offset; a naive time is refused."""

LocalDate = Annotated[dt.date, BeforeValidator(_date_text), Field(examples=["2026-12-24"])]
ClockTime = Annotated[
    str, Field(description="Local wall-clock time HH:MM, 00:00 to 24:00.", examples=["09:00"])
]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors -------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(examples=["validation_error"])
    message: str
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Field path (e.g. `client.email`, `hours[0].start`) to its problem.",
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting the error shape for ``statuses``."""
    return {status: {"model": ErrorBody} for status in statuses}


# -- providers ----------------------------------------------------------------------------------


class ProviderCreate(RequestBody):
    slug: str = Field(examples=["dr-smith"])
    name: str
    email: str
    time_zone: str = Field(examples=["Europe/Berlin"])
    password: str | None = Field(default=None, description="For CalDAV; at least 8 characters.")


class ProviderUpdate(RequestBody):
    name: str | None = None
    email: str | None = None
    time_zone: str | None = None


class ProviderOut(BaseModel):
    slug: str
    name: str
    email: str
    time_zone: str
    has_password: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, provider: Provider) -> ProviderOut:
        return cls(
            slug=provider.slug,
            name=provider.name,
            email=provider.email,
            time_zone=provider.time_zone,
            has_password=provider.password_hash is not None,
            created_at=provider.created_at,
            updated_at=provider.updated_at,
        )


class ProviderList(BaseModel):
    providers: list[ProviderOut]


# -- services -----------------------------------------------------------------------------------


class ServiceCreate(RequestBody):
    name: str = Field(examples=["Consultation"])
    duration_minutes: int | None = Field(default=None, description="Default 30.")
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None
    min_notice_minutes: int | None = Field(default=None, description="Default 120.")
    horizon_days: int | None = Field(default=None, description="Default 60.")
    slot_step_minutes: int | None = Field(default=None, description="Default: the duration.")


class ServiceUpdate(RequestBody):
    name: str | None = None
    duration_minutes: int | None = None
    buffer_before_minutes: int | None = None
    buffer_after_minutes: int | None = None
    min_notice_minutes: int | None = None
    horizon_days: int | None = None
    slot_step_minutes: int | None = None
    active: bool | None = None


class ServiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    slot_step_minutes: int
    active: bool


class ServiceList(BaseModel):
    services: list[ServiceOut]


# -- working hours, overrides, blocked times ----------------------------------------------------


class WeeklyPeriod(RequestBody):
    weekday: Weekday
    start: ClockTime
    end: ClockTime


class HoursIn(RequestBody):
    """New weekly hours, replacing all of them; with ``time_zone``, the provider's new zone."""

    hours: list[WeeklyPeriod]
    time_zone: str | None = Field(default=None, examples=["Europe/Berlin"])


class HoursOut(BaseModel):
    hours: list[WeeklyPeriod]
    time_zone: str = Field(description="The provider's zone, which the hours are in.")


class OverrideIn(RequestBody):
    date: LocalDate
    available: bool = Field(
        description="false without start/end: the day off; false with them: those hours off; "
        "true (start/end required): extra hours."
    )
    start: ClockTime | None = None
    end: ClockTime | None = None


class OverrideOut(BaseModel):
    id: int
    date: dt.date
    available: bool
    start: str | None
    end: str | None

    @classmethod
    def of(cls, override: DateOverride) -> OverrideOut:
        return cls(
            id=override.id,
            date=override.date,
            available=override.available,
            start=None if override.start_minute is None else format_clock(override.start_minute),
            end=None if override.end_minute is None else format_clock(override.end_minute),
        )


class OverrideList(BaseModel):
    overrides: list[OverrideOut]


class BlockedTimeIn(RequestBody):
    start: Instant
    end: Instant
    summary: str | None = None


class BlockedTimeOut(BaseModel):
    id: int
    start: dt.datetime
    end: dt.datetime
    summary: str | None
    source: str

    @classmethod
    def of(cls, block: BlockedTime, zone: ZoneInfo) -> BlockedTimeOut:
        return cls(
            id=block.id,
            start=block.start_at.astimezone(zone),
            end=block.end_at.astimezone(zone),
            summary=block.summary,
            source=block.source,
        )


class BlockedTimeList(BaseModel):
    blocked_times: list[BlockedTimeOut]


# -- slots --------------------------------------------------------------------------------------


class Slot(BaseModel):
    start: dt.datetime
    end: dt.datetime


class SlotWarning(BaseModel):
    code: str = Field(examples=["beyond_horizon"])
    message: str


class Slots(BaseModel):
    slots: list[Slot]
    time_zone: str = Field(description="The zone the times are rendered in.")
    range: Slot = Field(description="The window searched: a slot's start lies in it.")
    warnings: list[SlotWarning] = Field(
        description="`beyond_horizon`: the range reaches past the booking horizon. "
        "`calendar_unavailable`: a conflict calendar is broken or stale (the message names it "
        "and why); under the default policy no slot is offered until it syncs again."
    )


class CalendarRefOut(BaseModel):
    id: int = Field(description="The external calendar's id in the bridge.")
    name: str
    account: str = Field(description="The connected account the calendar belongs to.")


class SlotReason(BaseModel):
    """Why a candidate start is not offered; only the fields that name the cause are present."""

    code: str = Field(
        description="`outside_working_hours`, `date_override`, `min_notice`, `beyond_horizon`, "
        "`booking`, `blocked_time`, `busy` (an external calendar) or `calendar_unavailable`.",
        examples=["busy"],
    )
    message: str
    booking_id: int | None = None
    blocked_time_id: int | None = None
    override_id: int | None = None
    calendar: CalendarRefOut | None = None
    start: dt.datetime | None = Field(default=None, description="Start of what blocks the slot.")
    end: dt.datetime | None = Field(default=None, description="End of what blocks the slot.")


class ExplainedSlot(BaseModel):
    start: dt.datetime
    end: dt.datetime
    free: bool = Field(description="True exactly when `/slots` offers this start.")
    reasons: list[SlotReason]


class SlotExplanation(BaseModel):
    service: int
    time_zone: str = Field(description="The zone the times are rendered in.")
    range: Slot = Field(description="The window searched: a candidate's start lies in it.")
    slots: list[ExplainedSlot] = Field(
        description="Every start on the service's grid on working days in the range, earliest "
        "first, free or with the reasons it is not offered."
    )
    warnings: list[SlotWarning]


# -- bookings -----------------------------------------------------------------------------------


class ClientIn(RequestBody):
    name: str
    email: str
    phone: str | None = None
    notes: str | None = None


class BookingIn(RequestBody):
    service: int = Field(description="The service's id.")
    start: Instant
    client: ClientIn


class RescheduleIn(RequestBody):
    start: Instant


class ClientOut(BaseModel):
    name: str
    email: str
    phone: str | None
    notes: str | None


class ServiceRef(BaseModel):
    id: int
    name: str


class BookingOut(BaseModel):
    id: int
    uid: str = Field(description="The iCalendar UID, stable for the booking's life.")
    service: ServiceRef
    start: dt.datetime
    end: dt.datetime
    time_zone: str = Field(description="The provider's zone, which start and end are in.")
    status: str = Field(description="`confirmed` or `cancelled`.", examples=["confirmed"])
    version: int
    source: str
    client: ClientOut
    created_at: dt.datetime
    updated_at: dt.datetime
    cancelled_at: dt.datetime | None

    @classmethod
    def of(cls, booking: Booking, provider: Provider, service_name: str) -> BookingOut:
        zone = ZoneInfo(provider.time_zone)
        return cls(
            id=booking.id,
            uid=booking.uid,
            service=ServiceRef(id=booking.service_id, name=service_name),
            start=booking.start_at.astimezone(zone),
            end=booking.end_at.astimezone(zone),
            time_zone=provider.time_zone,
            status=booking.status,
            version=booking.version,
            source=booking.source,
            client=ClientOut(
                name=booking.client_name,
                email=booking.client_email,
                phone=booking.client_phone,
                notes=booking.client_notes,
            ),
            created_at=booking.created_at,
            updated_at=booking.updated_at,
            cancelled_at=booking.cancelled_at,
        )


class BookingCreated(BookingOut):
    manage_token: str = Field(
        description="Lets the client view, cancel and reschedule this booking "
        "(`Authorization: Bearer <manage_token>`). Shown only in this response."
    )


class BookingList(BaseModel):
    bookings: list[BookingOut]


class ChangeOut(BaseModel):
    id: int
    at: dt.datetime
    action: str = Field(examples=["rescheduled"])
    actor: str = Field(examples=["client", "provider:laptop"])
    version: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, change: BookingChange) -> ChangeOut:
        return cls(
            id=change.id,
            at=change.at,
            action=change.action,
            actor=change.actor,
            version=change.version,
            before=change.before,
            after=change.after,
        )


class ChangeList(BaseModel):
    changes: list[ChangeOut]


# -- tokens -------------------------------------------------------------------------------------


class TokenOut(BaseModel):
    id: int
    label: str
    scope: Literal["admin", "provider"]
    provider: str | None = Field(description="The provider's slug; null for admin tokens.")
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class TokenList(BaseModel):
    tokens: list[TokenOut]
