"""Errors a connector raises; the sync engine acts on the type, never on a status code.

Each connector translates its library's and its server's errors into these in one place::

    BridgeError
    └── ConnectorError
        ├── NeedsReauth          the credentials no longer work (revoked, expired, undecryptable):
        │                        the connection is marked ``needs_reauth`` and its jobs pause
        ├── Transient            worth retrying later (5xx, timeout, dropped connection)
        │   └── RateLimited      the server asked us to slow down (``retry_after`` if it said when)
        ├── CursorExpired        the incremental cursor is no longer valid: pull everything again
        ├── RemoteNotFound       the calendar or event does not exist (or is no longer shared)
        ├── PreconditionFailed   the event changed since the etag we hold
        └── RemoteRejected       the server refused the request and would refuse it again
"""

from __future__ import annotations

from bridge.errors import BridgeError


class ConnectorError(BridgeError):
    """Base of connector errors; ``str()`` is safe to show to the provider (no remote body)."""


class NeedsReauth(ConnectorError):
    pass


class Transient(ConnectorError):
    """A failure that may go away; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Transient):
    pass


class CursorExpired(ConnectorError):
    pass


class RemoteNotFound(ConnectorError):
    pass


class PreconditionFailed(ConnectorError):
    pass


class RemoteRejected(ConnectorError):
    pass
