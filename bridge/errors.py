"""Errors of the booking system, translated to HTTP once, in ``bridge.web.errors``.

::

    BridgeError
    ├── ConfigError                 a setting is missing or malformed (names option and source)
    ├── NotFound                    a provider, service, booking ... does not exist
    ├── ValidationFailed            input is well-formed but not acceptable (field -> message)
    ├── Conflict
    │   ├── SlotUnavailable         the requested time is not free (or no longer free)
    │   ├── CalendarUnavailable     a conflict calendar is broken or stale, or its live check
    │   │                           failed, and the stale-calendar policy refuses bookings
    │   └── InvalidStateChange      e.g. rescheduling a cancelled booking
    └── AuthError
        ├── Unauthenticated         no or unknown credentials
        └── Forbidden               credentials valid, but not for this thing
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""


class ConfigError(BridgeError):
    def __init__(self, option: str, source: str, problem: str) -> None:
        super().__init__(f"setting {option!r} from {source}: {problem}")
        self.option = option
        self.source = source
        self.problem = problem


class NotFound(BridgeError):
    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident!r} not found")
        self.kind = kind
        self.ident = ident


class ValidationFailed(BridgeError):
    """Input that parses but breaks a rule; ``fields`` maps a field path to its message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class Conflict(BridgeError):
    code = "conflict"


class SlotUnavailable(Conflict):
    code = "slot_unavailable"


class CalendarUnavailable(Conflict):
    """A booking refused because what a conflict calendar holds cannot be known right now.

    Attributes:
        calendars: the names of the calendars concerned (for the message; never event details).
    """

    code = "calendar_unavailable"

    def __init__(self, message: str, calendars: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.calendars = calendars


class InvalidStateChange(Conflict):
    code = "invalid_state"


class AuthError(BridgeError):
    pass


class Unauthenticated(AuthError):
    pass


class Forbidden(AuthError):
    pass
