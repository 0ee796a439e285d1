"""Engine set-up and transactions.

SQLite (the embedded default) runs in WAL mode with foreign keys on, and every write transaction
starts with ``BEGIN IMMEDIATE``: writers queue on the database lock (up to ``busy_timeout``)
instead of failing with "database is locked" halfway through. PostgreSQL serialises writers per
provider with ``SELECT ... FOR UPDATE`` on the provider row (:meth:`Store.lock_provider`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bridge.store.models import Provider

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Timestamps then arrive as datetime.timezone.utc, which UTCDateTime passes through as is.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()


class Store:
    """One database: a read engine and a write engine over the same pool."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_engine(url, **kwargs)
        self._write_engine: Engine = self.engine
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
            self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        elif self.dialect == "postgresql":
            _configure_postgresql(self.engine)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; rolled back at the end."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on an exception."""
        with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @staticmethod
    def lock_provider(session: Session, provider_id: int) -> None:
        """Serialise writers of one provider's calendar until the transaction ends.

        A row lock on PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` has already taken the database
        write lock and ``FOR UPDATE`` is not rendered.
        """
        session.execute(select(Provider.id).where(Provider.id == provider_id).with_for_update())

    def upgrade(self) -> None:
        """Apply pending migrations (safe to call from several processes at once)."""
        from bridge.store.migrate import upgrade

        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
