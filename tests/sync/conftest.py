"""Fixtures of the sync engine's tests: an in-memory remote calendar, an engine, a linked provider.

The engine drains every due outbox row and pulls every due calendar it finds in its database,
so these tests get a store of their own (per backend, for the session) instead of the one the
other test modules share and leave connections in. Every test gets a fresh provider whose one
connection (kind ``memory``) has the primary calendar ``primary`` as destination and conflict
calendar, as connecting does. The engine's connector factory serves only connections the test
linked, and they are removed at the end of the test, so no outbox row or calendar of one test
is ever seen by another.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from bridge import clock
from bridge.connectors.base import Connector
from bridge.keys import Keyring
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.sync_models import Connection
from bridge.sync import connections
from bridge.sync.engine import SyncEngine
from tests.conftest import BACKENDS, MONDAY, ProviderRef, new_provider, scratch_postgres_database
from tests.fakes.memory_calendar import MemoryCalendarSystem, MemoryConnector

SETTINGS = Settings(
    public_url="https://bridge.example",
    sync_poll_interval=300.0,
    sync_retry_interval=10.0,
    sync_max_backoff=600.0,
    recurrence_horizon_days=60,
    breaker_max_cancellations=5,
    breaker_max_share=0.5,
)
SECRET = "sync-tests-secret-key-0123456789abcdef"


@pytest.fixture(scope="session", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A migrated store of the sync tests' own, on each backend."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            directory = tmp_path_factory.mktemp("sync-store")
            url = f"sqlite:///{directory / 'sync.sqlite3'}"
        else:
            url = stack.enter_context(scratch_postgres_database("bridge_sync_test"))
        the_store = Store(url)
        the_store.upgrade()
        yield the_store
        the_store.dispose()


class Clock:
    """A pinned clock that tests move forward explicitly."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def moving_clock() -> Iterator[Clock]:
    """The clock pinned to :data:`MONDAY`, movable with ``advance``."""
    state = Clock(MONDAY)
    previous = clock._source
    clock._source = lambda: state.now
    try:
        yield state
    finally:
        clock._source = previous


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([SECRET], source="test")


@pytest.fixture
def system() -> MemoryCalendarSystem:
    system = MemoryCalendarSystem("owner@example.org")
    system.add_calendar("primary", "Work", time_zone="Europe/Berlin")
    return system


@dataclasses.dataclass
class Linked:
    """A provider with one connection to :class:`MemoryCalendarSystem`."""

    ref: ProviderRef
    connection_id: int
    calendar_id: int  # the external calendar row of "primary"
    system: MemoryCalendarSystem


class Linker:
    """Creates linked providers and cleans them up; the engine's connector factory."""

    def __init__(self, store: Store, keyring: Keyring) -> None:
        self.store = store
        self.keyring = keyring
        self.systems: dict[int, MemoryCalendarSystem] = {}

    def factory(self, connection: Connection) -> Connector:
        system = self.systems.get(connection.id)
        if system is None:
            raise AssertionError(f"connection {connection.id} belongs to another test")
        return MemoryConnector(system)

    def link(self, system: MemoryCalendarSystem, ref: ProviderRef | None = None) -> Linked:
        ref = ref or new_provider(self.store)
        with self.store.write() as session:
            connection = connections.save_connection(
                session,
                self.keyring,
                provider_id=ref.id,
                kind="memory",
                account=system.account,
                credentials="memory-credentials",
                calendars=MemoryConnector(system).list_calendars(),
            )
            calendar = next(c for c in connection.calendars if c.remote_id == "primary")
            linked = Linked(ref, connection.id, calendar.id, system)
        self.systems[linked.connection_id] = system
        return linked

    def cleanup(self) -> None:
        with self.store.write() as session:
            session.execute(delete(Connection).where(Connection.id.in_(list(self.systems))))


@pytest.fixture
def linker(store: Store, keyring: Keyring) -> Iterator[Linker]:
    linker = Linker(store, keyring)
    yield linker
    linker.cleanup()


@pytest.fixture
def engine(store: Store, keyring: Keyring, linker: Linker) -> SyncEngine:
    return SyncEngine(store, SETTINGS, keyring, connector_factory=linker.factory, owner="worker-a")


@pytest.fixture
def linked(linker: Linker, system: MemoryCalendarSystem, moving_clock: Clock) -> Linked:
    return linker.link(system)
