"""Process-wide logging: one line per record, with time, level and logger name, on stderr.

Standard output belongs to what a command tells its user (``click.echo``); diagnostics go to
stderr through :mod:`logging`, so ``TOKEN=$(bridge token create ...)`` captures only the token.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

LINE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record is emitted.

    Test runners and ``click.testing.CliRunner`` swap ``sys.stderr``; a handler bound to the stream
    of the moment it was made would write into a closed stream afterwards.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure(level: str) -> None:
    """Send every logger's records at ``level`` (``"INFO"``, ...) and above to stderr.

    Calling it again changes the level; it never adds a second handler.

    Args:
        level: a level name from :data:`bridge.settings.OPTIONS` ``log_level``.
    """
    root = logging.getLogger()
    if not any(isinstance(handler, _StderrHandler) for handler in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(LINE_FORMAT))
        root.addHandler(handler)
    root.setLevel(level)
