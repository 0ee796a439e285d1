from __future__ import annotations

import pytest

from bridge.cli.db import head_revision
from bridge.store.migrate import current_revision
from tests.cli.conftest import Database, Invoke, assert_clean_failure


def test_upgrade_migrates_a_fresh_database_and_prints_its_revision(
    bridge: Invoke, database: Database
) -> None:
    result = bridge("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()} (latest)" in result.stdout
    with database.store() as store:
        assert current_revision(store.engine) == head_revision()
    if database.backend == "sqlite":
        assert database.sqlite_file.is_file()
        assert str(database.sqlite_file) in result.stdout


def test_upgrade_twice_is_harmless(bridge: Invoke, sqlite_database: Database) -> None:
    first, second = bridge("db", "upgrade"), bridge("db", "upgrade")

    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout


def test_current_reports_an_empty_database_without_migrating(
    bridge: Invoke, sqlite_database: Database
) -> None:
    result = bridge("db", "current")

    assert result.exit_code == 0, result.output
    assert "no revision (empty database)" in result.stdout
    assert f"revision {head_revision()}" in bridge("db", "upgrade").stdout
    assert f"revision {head_revision()} (latest)" in bridge("db", "current").stdout


def test_an_unreachable_database_is_one_line_with_the_password_masked(
    bridge: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "postgresql+psycopg://app:s3cret@127.0.0.1:1/bridge")

    result = bridge("provider", "list")

    message = assert_clean_failure(result, 1)
    assert "cannot use the database postgresql+psycopg://app:***@127.0.0.1:1/bridge" in message
    assert "s3cret" not in result.output


def test_a_malformed_database_url_is_a_clean_error(
    bridge: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "not a url")

    result = bridge("db", "upgrade")

    assert "BRIDGE_DATABASE_URL is not a database URL" in assert_clean_failure(result, 2)
