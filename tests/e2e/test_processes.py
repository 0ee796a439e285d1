"""End to end, past one process: a web-only server and a worker share one PostgreSQL database.

``bridge serve --no-scheduler`` answers the API, the consent callback and the push
notifications; ``bridge worker`` (no HTTP) does every pull and write. Nothing passes between
them but the database: a booking's outbox row, a notification's ``pull_requested_at``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests.conftest import scratch_postgres_database
from tests.e2e.conftest import (
    SYNC_TIMEOUT,
    Api,
    Server,
    Servers,
    admin_token,
    at,
    connect_new_provider,
    make_servers,
    next_weekday,
)
from tests.fakes.google import FakeGoogle
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres

HALF_HOUR = dt.timedelta(minutes=30)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, fake: FakeGoogle) -> Iterator[Servers]:
    with scratch_postgres_database("bridge_e2e") as url:
        yield from make_servers(tmp_path_factory, fake, BRIDGE_DATABASE_URL=url)


@pytest.fixture(scope="module")
def server(servers: Servers) -> Server:
    """The web process; the worker pushes channels to its address."""
    web = servers.start("--no-scheduler")
    servers.start_worker(BRIDGE_PUBLIC_URL=web.url)
    return web


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[Api]:
    client = Api(server, admin_token(server))
    yield client
    client.http.close()


def test_a_web_process_and_a_worker_sync_both_ways_through_the_database(api, fake, servers):
    linked = connect_new_provider(api, fake)  # first pull and push channel: the worker's work
    day = next_weekday(14)
    start = at(day, 10)

    booking = linked.book(start)
    wait_until(
        lambda: [m.start for m in linked.remote.mirrors_of(booking["uid"])] == [start],
        SYNC_TIMEOUT,
        "the worker to write the booking's event",
    )

    linked.remote.create_event(at(day, 14), at(day, 15))  # pushed to the web process
    wait_until(lambda: at(day, 14) not in linked.slots(day), SYNC_TIMEOUT, "the worker's pull")

    web, worker = servers.started
    assert "Sync scheduler started" not in web.log()
    assert "Sync scheduler started" in worker.log()
    assert "Pulled calendar" in worker.log() and "Pulled calendar" not in web.log()
