"""Shared fixtures: the store on SQLite and on PostgreSQL, fresh providers, a pinned clock.

Every test that takes ``store`` runs twice, once per backend. The PostgreSQL leg needs
``BRIDGE_TEST_POSTGRES_URL`` (set by ``.ci/with-postgres``, which ``make test`` uses); without
it those tests fail with a message saying so, unless ``BRIDGE_TEST_ALLOW_NO_POSTGRES=1`` is set,
in which case they are skipped with that reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import make_url

from bridge import clock
from bridge.booking import providers
from bridge.store import Store

hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, max_examples=150)
hypothesis_settings.register_profile("dev", deadline=None, max_examples=300)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# A Monday morning, well away from any DST change, used wherever a test pins the clock.
MONDAY = dt.datetime(2026, 6, 1, 6, 0, tzinfo=dt.UTC)

BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin_url() -> str:
    url = os.environ.get("BRIDGE_TEST_POSTGRES_URL")
    if url:
        return url
    message = (
        "BRIDGE_TEST_POSTGRES_URL is not set: the PostgreSQL leg cannot run. "
        "Run the suite with `make test` (it starts a throw-away cluster), or set "
        "BRIDGE_TEST_ALLOW_NO_POSTGRES=1 to skip that leg knowingly."
    )
    if os.environ.get("BRIDGE_TEST_ALLOW_NO_POSTGRES") == "1":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


@contextlib.contextmanager
def scratch_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database in the throw-away cluster (its URL), dropped afterwards."""
    import psycopg

    server = make_url(_postgres_admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conninfo = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A fresh, empty database for the session's store, dropped at the end of the run."""
    with scratch_postgres_database("bridge_test") as url:
        yield url


def make_store_url(backend: str, request: pytest.FixtureRequest, directory: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / 'bridge.sqlite3'}"
    url: str = request.getfixturevalue("postgres_database_url")
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A migrated store, shared by the session; tests isolate themselves with fresh providers."""
    directory = tmp_path_factory.mktemp(f"store-{request.param}")
    the_store = Store(make_store_url(request.param, request, directory))
    the_store.upgrade()
    yield the_store
    the_store.dispose()


@dataclasses.dataclass(frozen=True)
class ProviderRef:
    id: int
    slug: str
    time_zone: str
    service_id: int


def new_provider(store: Store, time_zone: str = "Europe/Berlin", **fields: str) -> ProviderRef:
    """A provider with the defaults every new provider gets (30-min service, weekdays 9-17)."""
    slug = fields.pop("slug", f"p-{uuid.uuid4().hex[:10]}")
    with store.write() as session:
        provider = providers.create_provider(
            session,
            slug=slug,
            name=fields.pop("name", "Dr. Test"),
            email=fields.pop("email", f"{slug}@example.org"),
            time_zone=time_zone,
            **fields,
        )
        return ProviderRef(provider.id, provider.slug, provider.time_zone, provider.services[0].id)


@pytest.fixture
def provider(store: Store) -> ProviderRef:
    return new_provider(store)


@pytest.fixture
def frozen_now() -> Iterator[dt.datetime]:
    """Pin the clock to :data:`MONDAY`."""
    with clock.frozen(MONDAY):
        yield MONDAY
