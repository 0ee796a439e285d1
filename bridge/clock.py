"""The one seam through which the application reads the current time.

Unit tests pin "now" with :func:`frozen`; everything else calls :func:`now`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator

_source: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)  # noqa: E731


def now() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return _source()


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Pin :func:`now` to ``at`` (aware) for the duration of the block."""
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    global _source
    previous = _source
    _source = lambda: at.astimezone(dt.UTC)  # noqa: E731
    try:
        yield
    finally:
        _source = previous
