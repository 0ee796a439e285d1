"""Migrations: apply on an empty database, twice, and end at the head revision."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect

from bridge.store import Store
from bridge.store.migrate import alembic_config, current_revision
from bridge.store.models import Base
from tests.conftest import BACKENDS, scratch_postgres_database


@pytest.fixture(params=BACKENDS)
def empty_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    """A store on a brand-new, empty database (not the session's migrated one)."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield store
        store.dispose()
        return
    with scratch_postgres_database("bridge_empty") as url:
        store = Store(url)
        try:
            yield store
        finally:
            store.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_an_empty_database_has_no_revision(empty_store):
    assert current_revision(empty_store.engine) is None


def test_migrations_create_every_table_and_end_at_head(empty_store):
    empty_store.upgrade()
    assert current_revision(empty_store.engine) == head_revision()
    tables = set(inspect(empty_store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrading_twice_changes_nothing(empty_store):
    empty_store.upgrade()
    columns = {
        table: [c["name"] for c in inspect(empty_store.engine).get_columns(table)]
        for table in Base.metadata.tables
    }
    empty_store.upgrade()
    assert current_revision(empty_store.engine) == head_revision()
    assert columns == {
        table: [c["name"] for c in inspect(empty_store.engine).get_columns(table)]
        for table in Base.metadata.tables
    }


def test_the_migrated_schema_matches_the_models(empty_store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    empty_store.upgrade()
    with empty_store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_session_store_is_at_head(store):
    assert current_revision(store.engine) == head_revision()


def _upgrade_in_child(url: str, barrier, failures) -> None:
    store = Store(url)
    barrier.wait()
    try:
        store.upgrade()
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        failures.put(repr(exc))
    finally:
        store.dispose()


def test_processes_starting_together_migrate_once_and_all_succeed(empty_store: Store):
    """Several servers may start at once on a new database: one migrates, the others wait."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    failures = context.Queue()
    children = [
        context.Process(target=_upgrade_in_child, args=(empty_store.url, barrier, failures))
        for _ in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0, 0]
    assert failures.empty(), failures.get()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(empty_store.engine) == head


def test_threads_of_one_process_may_upgrade_together(empty_store: Store):
    stores = [Store(empty_store.url) for _ in range(3)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def start(store: Store) -> None:
        barrier.wait()
        try:
            store.upgrade()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.dispose()
    assert errors == []


def test_all_pending_migrations_commit_as_one_transaction(empty_store: Store):
    """A process waiting on the migration lock must never see a half-migrated schema.

    Alembic commits after each revision on SQLite unless the caller holds the transaction; one
    commit for the whole upgrade (plus the advisory-lock bookkeeping on PostgreSQL) is what keeps
    other starting processes out until the schema is complete.
    """
    commits: list[object] = []
    count_commit = commits.append
    event.listen(empty_store.engine, "commit", count_commit)
    try:
        empty_store.upgrade()
    finally:
        event.remove(empty_store.engine, "commit", count_commit)
    lock_bookkeeping = 2 if empty_store.dialect == "postgresql" else 0
    assert len(commits) == 1 + lock_bookkeeping
