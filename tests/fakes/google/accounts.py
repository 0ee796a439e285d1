"""Accounts of the fake and their calendar lists."""

from __future__ import annotations

import dataclasses

from .calendar import FakeCalendar
from .state import State

ACCESS_ROLES = ("freeBusyReader", "reader", "writer", "owner")


@dataclasses.dataclass
class ListEntry:
    """A calendar on an account's calendar list, with the account's access to it."""

    calendar: FakeCalendar
    access_role: str
    seq: int
    deleted: bool = False


class FakeAccount:
    """A Google account: its primary calendar (id = the email) and the calendars it can reach."""

    def __init__(self, state: State, email: str, *, time_zone: str) -> None:
        self._state = state
        self.email = email
        self.time_zone = time_zone
        self._entries: dict[str, ListEntry] = {}
        self.primary = FakeCalendar(state, email, email, time_zone, owner_email=email, primary=True)
        state.calendars[email] = self.primary
        self._entries[email] = ListEntry(self.primary, "owner", state.next_seq())

    def __repr__(self) -> str:
        return f"FakeAccount({self.email!r})"

    def add_calendar(
        self,
        calendar_id: str,
        summary: str,
        *,
        time_zone: str = "Europe/Berlin",
        access_role: str = "owner",
    ) -> FakeCalendar:
        """Add a calendar to this account's list.

        A new id creates a calendar this account owns; the id of another account's calendar
        shares that calendar with this account at ``access_role``.

        Raises:
            ValueError: unknown access role, or the calendar is already on the list.
        """
        if access_role not in ACCESS_ROLES:
            raise ValueError(f"access_role must be one of {ACCESS_ROLES}")
        with self._state.lock:
            entry = self._entries.get(calendar_id)
            if entry is not None and not entry.deleted:
                raise ValueError(f"{calendar_id} is already on {self.email}'s calendar list")
            calendar = self._state.calendars.get(calendar_id)
            if calendar is None or calendar.deleted:
                calendar = FakeCalendar(
                    self._state,
                    calendar_id,
                    summary,
                    time_zone,
                    owner_email=self.email,
                    primary=False,
                )
                self._state.calendars[calendar_id] = calendar
            self._entries[calendar_id] = ListEntry(calendar, access_role, self._state.next_seq())
            return calendar

    @property
    def calendars(self) -> list[FakeCalendar]:
        """The calendars on this account's list, primary first."""
        with self._state.lock:
            return [e.calendar for e in self._entries.values() if not e.deleted]

    def entries(self) -> list[ListEntry]:
        """The calendar list, deleted entries included (for calendarList sync)."""
        return list(self._entries.values())

    def access_role(self, calendar_id: str) -> tuple[FakeCalendar, str] | None:
        """The calendar with that id and this account's role on it, if it can reach it."""
        entry = self._entries.get(calendar_id)
        if entry is None or entry.deleted or entry.calendar.deleted:
            return None
        return entry.calendar, entry.access_role

    def forget(self, calendar: FakeCalendar) -> None:
        """Drop a deleted calendar from the list (it stays as a deleted entry)."""
        entry = self._entries.get(calendar.id)
        if entry is not None and entry.calendar is calendar and not entry.deleted:
            entry.deleted = True
            entry.seq = self._state.next_seq()
