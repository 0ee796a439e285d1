"""The remote side of the end-to-end suite: an external calendar driven as its owner would.

The scenarios talk to the bridge only through its HTTP API and its command line, and to the
external calendar only through a :class:`RemoteCalendar`. The fake Google is the first
implementation (:class:`FakeGoogleCalendar`); the Graph and CalDAV connectors plug into the same
scenarios with a driver of their own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from bridge.connectors.google_events import marker_of
from tests.fakes.google import FakeAccount, FakeGoogle, FaultHandle

Instant = dt.datetime


@dataclasses.dataclass(frozen=True)
class RemoteEventView:
    """What the remote calendar shows of an event: its id and times (UTC)."""

    remote_id: str
    start: Instant
    end: Instant


class Fault(Protocol):
    """An injected failure; ``hits`` counts the requests it has met."""

    @property
    def hits(self) -> int: ...

    def remove(self) -> None: ...


class RemoteCalendar(Protocol):
    """One account of an external calendar system and its primary calendar.

    Times are aware datetimes; all-day events take dates. Every change is made the way the
    account's owner would make it (the system's own UI), never through the bridge.
    """

    kind: str
    account: str

    def approve_consent(self, consent_url: str) -> httpx.Response:
        """Open the consent link as the account's owner and approve; the final page."""

    def create_event(
        self,
        start: Instant | dt.date,
        end: Instant | dt.date,
        *,
        transparent: bool = False,
        weekly_count: int | None = None,
    ) -> str:
        """A personal event (weekly for ``weekly_count`` weeks if given); its remote id."""

    def move_event(self, remote_id: str, start: Instant, end: Instant) -> None: ...

    def move_occurrence(
        self, remote_id: str, occurrence: Instant, start: Instant, end: Instant
    ) -> None:
        """Move one occurrence of a weekly event (an exception)."""

    def delete_event(self, remote_id: str) -> None: ...

    def mirrors_of(self, booking_uid: str) -> list[RemoteEventView]:
        """The live events the bridge wrote for a booking (more than one is a duplicate)."""

    def move_mirror(self, booking_uid: str, start: Instant, end: Instant) -> None: ...

    def delete_mirror(self, booking_uid: str) -> None: ...

    def revoke_access(self) -> None:
        """The owner removes the bridge's access to the account."""

    def expire_cursor(self) -> None:
        """The system forgets every incremental sync position handed out so far."""

    def fail_writes(self, *, lost_answer: bool = False, times: int = 1) -> Fault:
        """The next event writes fail; with ``lost_answer`` they take effect, then the answer
        is lost (the connection drops)."""

    def delay_writes(self, seconds: float) -> Fault:
        """The next event write is answered only after ``seconds``."""

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the system delivered what it had to say (push notifications)."""


def _parse(value: dict[str, Any]) -> Instant:
    if "dateTime" in value:
        return dt.datetime.fromisoformat(value["dateTime"]).astimezone(dt.UTC)
    day = dt.date.fromisoformat(value["date"])
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _google_time(moment: Instant | dt.date, zone: str) -> dict[str, str]:
    if isinstance(moment, dt.datetime):
        return {"dateTime": moment.astimezone(ZoneInfo(zone)).isoformat(), "timeZone": zone}
    return {"date": moment.isoformat()}


class FakeGoogleCalendar:
    """A :class:`RemoteCalendar` on the fake Google: one account and its primary calendar.

    Args:
        fake: the running fake.
        account: the account (its primary calendar's id is its e-mail).
        refresh_token_of: the refresh token the bridge holds for the account; the fake revokes
            grants by token, as Google's revocation endpoint does.
    """

    kind = "google"

    def __init__(
        self, fake: FakeGoogle, account: FakeAccount, refresh_token_of: Callable[[], str]
    ) -> None:
        self.fake = fake
        self._account = account
        self.account = account.email
        self._refresh_token_of = refresh_token_of

    @property
    def _calendar(self) -> Any:
        return self.fake.calendar(self.account)

    def approve_consent(self, consent_url: str) -> httpx.Response:
        self.fake.consenting_account = self._account
        with httpx.Client(trust_env=False, timeout=60, follow_redirects=True) as browser:
            return browser.get(consent_url)

    def create_event(
        self,
        start: Instant | dt.date,
        end: Instant | dt.date,
        *,
        transparent: bool = False,
        weekly_count: int | None = None,
    ) -> str:
        zone = self._calendar.time_zone
        body: dict[str, Any] = {
            "summary": f"Personal {uuid.uuid4().hex[:6]}",
            "start": _google_time(start, zone),
            "end": _google_time(end, zone),
        }
        if transparent:
            body["transparency"] = "transparent"
        if weekly_count is not None:
            body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={weekly_count}"]
        created = self._calendar.create_event(body)
        return str(created["id"])

    def move_event(self, remote_id: str, start: Instant, end: Instant) -> None:
        zone = self._calendar.time_zone
        self._calendar.patch_event(
            remote_id, {"start": _google_time(start, zone), "end": _google_time(end, zone)}
        )

    def move_occurrence(
        self, remote_id: str, occurrence: Instant, start: Instant, end: Instant
    ) -> None:
        instance = f"{remote_id}_{occurrence.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
        self.move_event(instance, start, end)

    def delete_event(self, remote_id: str) -> None:
        self._calendar.delete_event(remote_id)

    def mirrors_of(self, booking_uid: str) -> list[RemoteEventView]:
        return [
            RemoteEventView(str(event["id"]), _parse(event["start"]), _parse(event["end"]))
            for event in self._calendar.live_events()
            if marker_of(event) == booking_uid
        ]

    def _the_mirror(self, booking_uid: str) -> RemoteEventView:
        found = self.mirrors_of(booking_uid)
        if len(found) != 1:
            raise AssertionError(f"expected one event of booking {booking_uid}, found {found}")
        return found[0]

    def move_mirror(self, booking_uid: str, start: Instant, end: Instant) -> None:
        self.move_event(self._the_mirror(booking_uid).remote_id, start, end)

    def delete_mirror(self, booking_uid: str) -> None:
        self.delete_event(self._the_mirror(booking_uid).remote_id)

    def revoke_access(self) -> None:
        self.fake.revoke(self._refresh_token_of())

    def expire_cursor(self) -> None:
        self._calendar.expire_sync_tokens()

    def _events_path(self) -> str:
        return f"/calendars/{self.account}/events"

    def fail_writes(self, *, lost_answer: bool = False, times: int = 1) -> FaultHandle:
        if lost_answer:
            return self.fake.faults.add(
                method="POST", path=self._events_path(), drop=True, apply_first=True, times=times
            )
        return self.fake.faults.add(
            method="POST", path=self._events_path(), status=503, times=times
        )

    def delay_writes(self, seconds: float) -> FaultHandle:
        return self.fake.faults.add(method="POST", path=self._events_path(), delay=seconds)

    def settle(self, timeout: float = 10.0) -> None:
        self.fake.wait_for_notifications(timeout)
