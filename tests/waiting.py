"""Waiting on a condition with a deadline, for processes that give no readiness signal."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

POLL_INTERVAL = 0.02


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``predicate()`` holds, failing the test after ``timeout`` seconds.

    This waits on a condition with a deadline; it is not a sleep standing in for synchronisation.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(POLL_INTERVAL)
