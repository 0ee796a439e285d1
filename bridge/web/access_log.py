"""Keep secrets that travel in URLs out of the logs.

uvicorn's access log prints each request target in full, and a feed link's token *is* its
credential: ``GET /feeds/<token>.ics`` would leave every subscriber's secret in the log. The filter
below rewrites ``/feeds/<token>…`` to ``/feeds/<redacted>`` and the value of query parameters that
carry secrets (``token``, ``…_token``, ``key``, ``secret``, ``password``, and the OAuth callback's
``code`` and ``state``) to ``<redacted>``, in the message and in its arguments (so formatters that
use the arguments see the redacted form too).
``bridge serve`` installs it with :func:`install` on the loggers that print request targets.
"""

from __future__ import annotations

import logging
import re

REDACTED = "<redacted>"
# A feed path at the start of a path (not ".../providers/x/feeds/full"), alone or in a full URL.
_FEED_PATH = re.compile(r"""(?P<before>^|[\s"'(=]|://[^/\s"']+)/feeds/[^/?#\s"']+""")
_SECRET_QUERY = re.compile(
    r"""(?P<name>[?&;](?:[a-z0-9_.-]*token|key|secret|password|code|state)=)[^&#\s"']+""",
    re.IGNORECASE,
)
LOGGERS = ("uvicorn.access", "uvicorn.error", "bridge.web.errors")


def redact(text: str) -> str:
    """``text`` with feed tokens and secret query values replaced by ``<redacted>``."""
    text = _FEED_PATH.sub(rf"\g<before>/feeds/{REDACTED}", text)
    return _SECRET_QUERY.sub(rf"\g<name>{REDACTED}", text)


def _redact_value(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """Redact URL secrets in a record's message and string arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        return True


def install(names: tuple[str, ...] = LOGGERS) -> None:
    """Add :class:`RedactSecrets` to the loggers ``names`` (once each)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
