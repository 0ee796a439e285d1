"""What the plugins tell each other about the request being handled on this thread.

Radicale handles a request on one thread from authentication to the response (the built-in
server and ``a2wsgi`` both do), so a thread-local carries what has no place in Radicale's plugin
interfaces: which credential logged in (for the booking history's actor), and why the storage
refused a write (for :mod:`radicale_plugins.app` to answer with the reason).
"""

from __future__ import annotations

import dataclasses
import threading

from bridge.dav.errors import DavRefused


@dataclasses.dataclass
class RequestState:
    """What is known about the request on this thread.

    ``login``: (user, credential label) of the last successful login; ``refusal``: why the
    storage refused a write; ``rewritten``: the stored item differs from what the client sent
    (its PUT answer must carry no ETag).
    """

    login: tuple[str, str] | None = None
    refusal: DavRefused | None = None
    rewritten: bool = False


_local = threading.local()


def state() -> RequestState:
    """This thread's request state (created on first use)."""
    current: RequestState | None = getattr(_local, "state", None)
    if current is None:
        current = _local.state = RequestState()
    return current


def reset() -> RequestState:
    """Start a new request on this thread: forget everything about the previous one."""
    _local.state = RequestState()
    return _local.state  # type: ignore[no-any-return]


def credential_label(user: str) -> str:
    """How ``user`` logged in on this thread: an app password's label, or ``password``."""
    login = state().login
    return login[1] if login is not None and login[0] == user else "password"
