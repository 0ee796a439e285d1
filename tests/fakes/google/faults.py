"""Injected faults: error statuses, slow answers, dropped connections, lost answers.

A test adds a fault; the next ``times`` requests that match it (API routes and ``/token``) get
it. With ``apply_first`` the request takes effect first and only then is the answer delayed,
dropped or replaced by the error — a write that happened although the client saw it fail.
"""

from __future__ import annotations

import dataclasses
import threading
import urllib.parse


@dataclasses.dataclass(eq=False)
class FaultHandle:
    """One injected fault; ``hits`` counts the requests it has hit so far."""

    method: str | None
    path: str | None
    status: int | None
    reason: str | None
    retry_after: float | None
    delay: float | None
    drop: bool
    apply_first: bool
    times: int
    hits: int = 0
    _owner: Faults | None = dataclasses.field(default=None, repr=False)

    @property
    def remaining(self) -> int:
        return self.times - self.hits

    def remove(self) -> None:
        """Withdraw the fault before it is used up."""
        if self._owner is not None:
            self._owner.discard(self)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path in path or self.path in urllib.parse.unquote(path)


class Faults:
    """The faults of one fake, first added first applied."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[FaultHandle] = []

    def add(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
        drop: bool = False,
        apply_first: bool = False,
        times: int = 1,
    ) -> FaultHandle:
        """Inject a fault.

        Args:
            method: HTTP method to hit (None: any).
            path: substring of the request path, raw or percent-decoded (None: any).
            status: answer this status with Google's error body.
            reason: the error reason (default per status: 403/429 ``rateLimitExceeded``,
                5xx ``backendError``, ...).
            retry_after: seconds for a ``Retry-After`` header.
            delay: seconds to wait before answering.
            drop: close the connection without answering.
            apply_first: perform the request's real effect first.
            times: how many matching requests it hits.

        Raises:
            ValueError: nothing to inject, or a bad argument.
        """
        if status is None and delay is None and not drop:
            raise ValueError("a fault needs a status, a delay or drop=True")
        if status is not None and not 400 <= status <= 599:
            raise ValueError("status must be an error status (400-599)")
        if times < 1:
            raise ValueError("times must be at least 1")
        handle = FaultHandle(
            method.upper() if method else None,
            path,
            status,
            reason,
            retry_after,
            delay,
            drop,
            apply_first,
            times,
            _owner=self,
        )
        with self._lock:
            self._faults.append(handle)
        return handle

    def clear(self) -> None:
        """Withdraw every fault."""
        with self._lock:
            self._faults.clear()

    def discard(self, handle: FaultHandle) -> None:
        with self._lock:
            if handle in self._faults:
                self._faults.remove(handle)

    @property
    def active(self) -> list[FaultHandle]:
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str) -> FaultHandle | None:
        """The first fault matching this request, counted as hit (used up ones drop out)."""
        with self._lock:
            for handle in self._faults:
                if handle.matches(method, path):
                    handle.hits += 1
                    if handle.remaining <= 0:
                        self._faults.remove(handle)
                    return handle
        return None
