"""Apply Alembic migrations programmatically, at start and from ``bridge db upgrade``."""

from __future__ import annotations

import logging
import threading

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same in every process of this application.
_PG_MIGRATION_LOCK = 7_310_422_001
_in_process = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "bridge.store:migrations")
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    # Alembic keeps its migration context in module globals: one upgrade per process at a time.
    with _in_process:
        _upgrade(engine)


def _upgrade(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        # One BEGIN IMMEDIATE transaction around every pending migration: a second process waits
        # for the first to finish, then finds nothing left to do. Alembic sees the transaction
        # already open and does not commit between revisions (its default on SQLite, which
        # would let a waiting process start on a half-migrated schema).
        with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        return
    with engine.connect() as connection:
        # Several processes may start together: let one migrate while the others wait.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        connection.commit()
        try:
            command.upgrade(alembic_config(connection), "head")
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
            connection.commit()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
