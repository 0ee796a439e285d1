"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


def _from_sqlite_text(value: str | None) -> dt.datetime | None:
    # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC), which fromisoformat reads.
    if value is None:
        return None
    return dt.datetime.fromisoformat(value + "+00:00")  # far cheaper than .replace(tzinfo=)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime: ``timestamptz`` on PostgreSQL, naive UTC text on SQLite.

    Refuses naive datetimes on the way in, so a local time can never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], dt.datetime | None]:
        # Replaces the default chain (the impl's str->datetime, then process_result_value):
        # slot queries convert thousands of values, and this is the hot path.
        if dialect.name == "sqlite":
            return _from_sqlite_text
        return self._from_aware

    @staticmethod
    def _from_aware(value: dt.datetime | None) -> dt.datetime | None:
        if value is None or value.tzinfo is dt.UTC:
            return value
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
