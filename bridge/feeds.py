"""ICS feeds: a provider's confirmed bookings as one RFC 5545 calendar, for subscriptions.

What a feed holds (the *window*): every confirmed booking that ends after ``now -``
:data:`PAST_WINDOW` (30 days), and every later one, with no limit ahead (clients book at most
730 days ahead; a provider's own moves are not bounded).

What each event shows (:func:`bridge.ical.booking_event`):

- ``full``: the service and the client's first name ("Consultation – Ada"), the times, nothing
  else: no email, phone, notes or surname;
- ``busy``: "Busy" and the times only, no client data and no service.

The calendar carries PRODID, VERSION, CALSCALE, METHOD:PUBLISH, a name (``X-WR-CALNAME`` and RFC
7986 ``NAME``), ``X-WR-TIMEZONE``, the provider zone's VTIMEZONE (:mod:`bridge.vtimezone`), and
a refresh hint of :data:`REFRESH` (RFC 7986 ``REFRESH-INTERVAL`` and ``X-PUBLISHED-TTL``).

Validators: :attr:`Feed.etag` is a SHA-256 of everything the body is made from (a format
version, the kind, the provider's name and zone, and per event its UID, version, times and, for
``full``, service and first name), so a conditional request is answered without rendering.
:attr:`Feed.last_modified` is the latest change that can alter the body: the provider's record,
its services, any of its bookings in the window (a cancellation removes an event), and the
moment the last booking left the window.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import icalendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge import ical
from bridge.booking.feeds import FeedKind
from bridge.store.models import BOOKING_CONFIRMED, Booking, Provider, Service
from bridge.vtimezone import vtimezone

FORMAT_VERSION = "1"
PAST_WINDOW = dt.timedelta(days=30)
REFRESH = dt.timedelta(minutes=15)
MEDIA_TYPE = "text/calendar; charset=utf-8"


def feed_path(secret: str) -> str:
    """The path of the feed whose token is ``secret``."""
    return f"/feeds/{secret}.ics"


def feed_urls(public_url: str, secret: str) -> tuple[str, str]:
    """The ``http(s)://`` and ``webcal://`` links of a feed under ``public_url``.

    ``webcal://`` is the same address with the scheme replaced; calendar apps open it as a
    subscription rather than downloading the file.
    """
    url = public_url.rstrip("/") + feed_path(secret)
    return url, "webcal://" + url.split("://", 1)[1]


@dataclasses.dataclass(frozen=True)
class _Event:
    booking: Booking
    service_name: str


@dataclasses.dataclass(frozen=True)
class Feed:
    """One provider's feed of one kind, loaded but not yet rendered."""

    provider_name: str
    time_zone: str
    kind: FeedKind
    events: Sequence[_Event]
    etag: str
    last_modified: dt.datetime

    @property
    def detail(self) -> ical.Detail:
        return "busy" if self.kind == "busy" else "first_name"

    @property
    def name(self) -> str:
        suffix = "busy" if self.kind == "busy" else "appointments"
        return f"{self.provider_name} ({suffix})"

    def render(self) -> bytes:
        """The calendar as UTF-8 iCalendar text."""
        calendar = ical.new_calendar()
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("name", self.name)
        calendar.add("x-wr-calname", self.name)
        calendar.add("x-wr-timezone", self.time_zone)
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", icalendar.vDuration(REFRESH))
        if self.events:
            calendar.add_component(vtimezone(self.time_zone))
        for event in self.events:
            calendar.add_component(
                ical.booking_event(event.booking, event.service_name, self.time_zone, self.detail)
            )
        return ical.to_text(calendar).encode("utf-8")


def _fingerprint(event: _Event, kind: FeedKind) -> list[Any]:
    booking = event.booking
    parts: list[Any] = [
        booking.uid,
        booking.version,
        booking.start_at.isoformat(),
        booking.end_at.isoformat(),
        booking.created_at.isoformat(),
        booking.updated_at.isoformat(),
    ]
    if kind == "full":
        parts += [event.service_name, ical.first_name(booking.client_name)]
    return parts


def load(session: Session, provider: Provider, kind: FeedKind, now: dt.datetime) -> Feed:
    """The feed of ``provider`` as of ``now``, with its validators."""
    cutoff = now - PAST_WINDOW
    rows = session.execute(
        select(Booking, Service.name)
        .join(Service, Service.id == Booking.service_id)
        .where(
            Booking.provider_id == provider.id,
            Booking.status == BOOKING_CONFIRMED,
            Booking.end_at > cutoff,
        )
        .order_by(Booking.start_at, Booking.id)
    ).all()
    events = [_Event(booking, name) for booking, name in rows]
    inputs: list[Any] = [FORMAT_VERSION, ical.PRODID, kind, provider.name, provider.time_zone]
    inputs += [_fingerprint(event, kind) for event in events]
    digest = hashlib.sha256(json.dumps(inputs, ensure_ascii=False).encode("utf-8"))
    return Feed(
        provider_name=provider.name,
        time_zone=provider.time_zone,
        kind=kind,
        events=events,
        etag=f'"{digest.hexdigest()[:40]}"',
        last_modified=_last_modified(session, provider, cutoff),
    )


def _last_modified(session: Session, provider: Provider, cutoff: dt.datetime) -> dt.datetime:
    in_window, last_gone, services = session.execute(
        select(
            select(func.max(Booking.updated_at))
            .where(Booking.provider_id == provider.id, Booking.end_at > cutoff)
            .scalar_subquery(),
            select(func.max(Booking.end_at))
            .where(Booking.provider_id == provider.id, Booking.end_at <= cutoff)
            .scalar_subquery(),
            select(func.max(Service.updated_at))
            .where(Service.provider_id == provider.id)
            .scalar_subquery(),
        )
    ).one()
    moments = [provider.updated_at]
    moments += [_aware(m) for m in (in_window, services) if m is not None]
    if last_gone is not None:
        moments.append(_aware(last_gone) + PAST_WINDOW)  # when it left the window
    return max(moments)


def _aware(value: dt.datetime | str) -> dt.datetime:
    """An aggregate's value as an aware UTC datetime (SQLite's MAX loses the column type)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
