"""What inbound code needs to know about the calendar it applies a pull to."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from bridge.booking.bookings import Actor
from bridge.connectors.base import Blocking
from bridge.settings import Settings
from bridge.store.sync_models import ExternalCalendar
from bridge.sync.recurrence import LOOKBACK

_ACTOR_LENGTH = 180


@dataclasses.dataclass(frozen=True)
class Scope:
    """One calendar of one provider, at one moment, under the engine's settings."""

    calendar_id: int
    calendar_name: str
    provider_id: int
    provider_zone: ZoneInfo
    kind: str
    check_conflicts: bool
    is_destination: bool
    settings: Settings
    now: dt.datetime

    @classmethod
    def of(
        cls, calendar: ExternalCalendar, provider_zone: str, settings: Settings, now: dt.datetime
    ) -> Scope:
        """The scope of ``calendar`` (its connection loaded) at ``now``."""
        return cls(
            calendar_id=calendar.id,
            calendar_name=calendar.name,
            provider_id=calendar.provider_id,
            provider_zone=ZoneInfo(provider_zone),
            kind=calendar.connection.kind,
            check_conflicts=calendar.check_conflicts,
            is_destination=calendar.is_destination,
            settings=settings,
            now=now,
        )

    @property
    def source(self) -> str:
        """The ``BusyInterval.source`` of this calendar (as ``ExternalCalendar.busy_source``)."""
        return f"calendar:{self.calendar_id}"

    @property
    def window_start(self) -> dt.datetime:
        """Busy time is kept from here (one day before now)."""
        return self.now - LOOKBACK

    @property
    def window_end(self) -> dt.datetime:
        """... up to here (``recurrence_horizon_days`` ahead)."""
        return self.now + dt.timedelta(days=self.settings.recurrence_horizon_days)

    def blocks(self, blocking: str) -> bool:
        """Whether a foreign event with this ``Blocking`` value makes the provider busy."""
        if blocking == Blocking.BUSY:
            return True
        if blocking == Blocking.UNANSWERED:
            return self.settings.unanswered_invitations == "busy"
        return False

    def actor(self, remote_id: str) -> Actor:
        """Who a pull's change of a booking is, for the booking's history."""
        label = f"{self.calendar_name}: {remote_id}"
        if len(label) > _ACTOR_LENGTH:
            label = label[: _ACTOR_LENGTH - 1] + "…"
        return Actor(self.kind, label)
