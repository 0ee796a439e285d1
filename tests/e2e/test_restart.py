"""End to end, a crash: the server dies in the middle of a write; the next one loses nothing.

The outbox row of the interrupted write stays leased to the dead process until its lease
ends (a minute), then the restarted server writes it again; the event's id comes from the
booking, so the retry finds the first attempt's event instead of adding a second.
"""

from __future__ import annotations

import datetime as dt

from tests.e2e.conftest import (
    SYNC_TIMEOUT,
    Api,
    Server,
    Servers,
    at,
    connect_new_provider,
    next_weekday,
)
from tests.fakes.google import FakeGoogle
from tests.waiting import wait_until

LEASE_AND_RETRY = 60.0 + 30.0  # the drain's lease (see bridge.sync.drain), then the retry
HALF_HOUR = dt.timedelta(minutes=30)


def test_a_server_killed_during_a_write_loses_nothing(
    servers: Servers, server: Server, api: Api, fake: FakeGoogle
):
    linked = connect_new_provider(api, fake)
    start, second = at(next_weekday(13), 10), at(next_weekday(13), 11)
    slow = linked.remote.delay_writes(5.0)
    booking = linked.book(start)
    wait_until(lambda: slow.hits == 1, SYNC_TIMEOUT, "the write to be in flight")

    server.kill()
    restarted = servers.start(port=server.port)
    api.rebase(restarted)
    later = linked.book(second)  # made while the first write is still unfinished

    def both_written() -> bool:
        first = linked.remote.mirrors_of(booking["uid"])
        other = linked.remote.mirrors_of(later["uid"])
        return [m.start for m in first] == [start] and [m.start for m in other] == [second]

    wait_until(
        lambda: linked.status()["pending_writes"] == 0,
        LEASE_AND_RETRY,
        "the interrupted write to be done again by the restarted server",
    )
    assert both_written()
    assert restarted.process.poll() is None
    assert "Traceback" not in restarted.log()
