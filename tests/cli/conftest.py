"""Fixtures for the command line: a clean environment, a database per backend, a CLI runner.

Each test gets its own empty database: a data directory on SQLite, a fresh database in the
throw-away cluster on PostgreSQL. The commands find it the way users' commands do, through
``BRIDGE_DATA_DIR`` / ``BRIDGE_DATABASE_URL``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import make_url

from bridge.cli import cli
from bridge.store import Store
from tests.conftest import scratch_postgres_database


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No BRIDGE_* setting from the developer's shell; a working directory with no config/."""
    for name in list(os.environ):
        if name.startswith("BRIDGE_") and not name.startswith("BRIDGE_TEST_"):
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Commands configure the root logger; give other tests theirs back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def fresh_postgres_url(postgres_database_url: str) -> Iterator[str]:
    """An empty database of its own in the throw-away cluster, dropped afterwards."""
    with scratch_postgres_database("bridge_cli") as url:
        yield url


@dataclasses.dataclass(frozen=True)
class Database:
    backend: str
    url: str

    @property
    def sqlite_file(self) -> Path:
        return Path(make_url(self.url).database or "")

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        store = Store(self.url)
        try:
            yield store
        finally:
            store.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Database:
    """An empty database on each backend, configured through the environment."""
    if request.param == "sqlite":
        data_dir = tmp_path / "data"
        monkeypatch.setenv("BRIDGE_DATA_DIR", str(data_dir))
        return Database("sqlite", f"sqlite:///{data_dir / 'bridge.sqlite3'}")
    url: str = request.getfixturevalue("fresh_postgres_url")
    monkeypatch.setenv("BRIDGE_DATABASE_URL", url)
    return Database("postgresql", url)


@pytest.fixture
def sqlite_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Database:
    """An empty SQLite database, for behaviour that does not depend on the backend."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(data_dir))
    return Database("sqlite", f"sqlite:///{data_dir / 'bridge.sqlite3'}")


Invoke = Callable[..., Result]


@pytest.fixture
def bridge() -> Invoke:
    """Run ``bridge ARGS...`` in-process; ``input`` feeds stdin."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def assert_clean_failure(result: Result, exit_code: int) -> str:
    """The command failed with ``exit_code`` and an ``Error:`` message, no traceback."""
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    assert "Error:" in result.stderr
    return result.stderr
