"""Why the bridge refuses a CalDAV write, as data the Radicale adapter turns into a response.

::

    BridgeError
    └── DavRefused                  a write the bridge will not make; nothing was changed
        ├── InvalidCalendarData     400: the body is not iCalendar the bridge can use
        ├── WriteForbidden          403: not allowed here (a task in ``bookings``, a moved
        │                                booking that changed its length, a MOVE out of
        │                                ``bookings``, a nested collection ...)
        └── WriteConflict           409: clashes with other data (a booking moved onto another)

Each carries the HTTP ``status``, the ``condition`` (the precondition element of RFC 4918 §16 /
RFC 4791 §1.3 in Clark notation, e.g. ``{urn:ietf:params:xml:ns:caldav}valid-calendar-data``)
and a ``message`` for the user, which clients such as Thunderbird show.
"""

from __future__ import annotations

from bridge.errors import BridgeError

CALDAV_NS = "urn:ietf:params:xml:ns:caldav"
BRIDGE_NS = "http://calendar-bridge/ns/dav"


def caldav(name: str) -> str:
    """A CalDAV precondition element in Clark notation."""
    return f"{{{CALDAV_NS}}}{name}"


def bridge(name: str) -> str:
    """One of the bridge's own precondition elements in Clark notation."""
    return f"{{{BRIDGE_NS}}}{name}"


class DavRefused(BridgeError):
    """A CalDAV write the bridge refuses, with the answer to give."""

    status = 403

    def __init__(self, condition: str, message: str) -> None:
        super().__init__(message)
        self.condition = condition
        self.message = message


class InvalidCalendarData(DavRefused):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(caldav("valid-calendar-data"), message)


class WriteForbidden(DavRefused):
    status = 403


class WriteConflict(DavRefused):
    status = 409
