"""Concurrent CalDAV writes: Radicale's check-then-write stays atomic across threads."""

from __future__ import annotations

import threading

from bridge.booking import bookings
from tests.dav.conftest import DavUser, book, event, local, put_ics, working_day
from tests.dav.test_user_calendars import new_calendar

ATTEMPTS = 8


def run_together(count: int, attempt) -> list[int]:
    """Run ``attempt(i)`` in ``count`` threads released at once; return their statuses."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        barrier.wait(timeout=30)
        status = attempt(index)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(statuses)


def test_concurrent_creations_of_one_href_make_exactly_one_item(user: DavUser, http):
    url = new_calendar(user, http)
    clients = [user.http() for _ in range(ATTEMPTS)]
    try:
        statuses = run_together(
            ATTEMPTS,
            lambda i: (
                put_ics(
                    clients[i],
                    f"{url}same.ics",
                    event("same", ":20300601T100000Z", ":20300601T110000Z", f"Try {i}"),
                    {"If-None-Match": "*"},
                ).status_code
            ),
        )
    finally:
        for client in clients:
            client.close()
    assert statuses == [201] + [412] * (ATTEMPTS - 1)


def test_concurrent_cancellations_of_one_booking_cancel_it_once(store, user: DavUser):
    new = book(store, user, local(user, working_day(), 10))
    url = user.url("bookings", f"booking-{new.booking.id}.ics")
    clients = [user.http() for _ in range(ATTEMPTS)]
    try:
        statuses = run_together(ATTEMPTS, lambda i: clients[i].delete(url).status_code)
    finally:
        for client in clients:
            client.close()
    assert statuses == [200] + [404] * (ATTEMPTS - 1)
    with store.read() as session:
        actions = [c.action for c in bookings.history(session, new.booking.id)]
    assert actions == ["created", "cancelled"]
