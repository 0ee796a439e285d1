"""A calendar of the fake, and what "the user does in the Google Calendar UI" to it."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from .errors import ApiError
from .events import Event, render
from .state import State
from .store import EventStore


class FakeCalendar:
    """One Google calendar.

    The event methods act like the user editing in the Google Calendar UI: each change bumps
    the sync state and notifies watch channels exactly like an API write. They validate like
    the API does and raise :class:`~.errors.ApiError` with the status the API would answer.
    Returned events are rendered as ``events.get`` renders them, in the calendar's zone.
    """

    def __init__(
        self,
        state: State,
        calendar_id: str,
        summary: str,
        time_zone: str,
        *,
        owner_email: str,
        primary: bool,
    ) -> None:
        self._state = state
        self.id = calendar_id
        self.summary = summary
        self.time_zone = time_zone
        self.owner_email = owner_email
        self.primary = primary
        self.deleted = False
        # Sync tokens minted under an older generation answer 410.
        self.sync_generation = 0
        self.updated = state.now()
        self.seq = state.next_seq()
        organizer: dict[str, Any] = {"email": calendar_id, "self": True}
        if not primary:
            organizer["displayName"] = summary
        self.store = EventStore(
            state,
            calendar_id,
            time_zone,
            organizer=organizer,
            creator_email=owner_email,
            on_change=self._changed,
        )

    def __repr__(self) -> str:
        return f"FakeCalendar({self.id!r})"

    @property
    def resource_id(self) -> str:
        """The opaque, stable id of this calendar's events collection (for push channels)."""
        digest = hashlib.sha256(self.id.encode()).digest()[:15]
        return base64.b32encode(digest).decode().lower().rstrip("=")

    @property
    def etag(self) -> str:
        return State.etag(self.seq)

    def _changed(self) -> None:
        self.updated = self._state.now()
        self.seq = self._state.seq
        self._state.changed(self)

    def _render(self, event: Event) -> Event:
        return render(event, tz=self.store.tz, calendar_id=self.id)

    def _check_alive(self) -> None:
        if self.deleted:
            raise ApiError(404, "notFound")

    def create_event(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create an event as the user would (any event type); returns it as events.get would."""
        with self._state.lock:
            self._check_alive()
            return self._render(self.store.insert(body, allow_any_type=True))

    def patch_event(self, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change an event or one instance (that creates an exception), with patch semantics."""
        with self._state.lock:
            self._check_alive()
            return self._render(self.store.update(event_id, changes, patch=True, if_match=None))

    def delete_event(self, event_id: str) -> None:
        """Delete an event (a cancelled tombstone) or one instance (a cancelled exception)."""
        with self._state.lock:
            self._check_alive()
            self.store.delete(event_id, if_match=None)

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """The full stored event or instance, tombstones included; None when unknown."""
        with self._state.lock:
            event = self.store.get(event_id)
            return None if event is None else self._render(event)

    def live_events(self) -> list[dict[str, Any]]:
        """Stored events that are not cancelled: one-offs, series masters and exceptions."""
        with self._state.lock:
            return [self._render(s.data) for s in self.store.stored() if not s.cancelled]

    def expire_sync_tokens(self) -> None:
        """Every sync token issued so far for this calendar now answers 410 fullSyncRequired."""
        with self._state.lock:
            self.sync_generation += 1

    def delete_calendar(self) -> None:
        """The calendar is gone: API calls on it answer 404; watch channels get ``not_exists``."""
        with self._state.lock:
            if self.deleted:
                return
            self.deleted = True
            self.updated = self._state.now()
            for account in self._state.accounts.values():
                account.forget(self)
            self._state.changed(self, "not_exists")
