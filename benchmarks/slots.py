"""Benchmark: free slots for a 30-day window of a busy provider.

One provider (Europe/Berlin, weekdays 09:00-17:00, one 30-minute service with a 30-minute step,
no notice, a 90-day horizon) with 2,000 confirmed bookings on distinct half-hours and 10,000
imported busy intervals (5-30 minutes, anywhere, overlapping anything) spread over the 90 days.
``bridge.booking.slots.find_slots`` then runs for a 30-day window, a few times to warm up and
``--repeat`` times measured; each run opens its own read session, as a request would.

Usage::

    .venv/bin/python benchmarks/slots.py [--database-url URL] [--repeat N] [--profile]

Without ``--database-url`` the data go to a temporary SQLite file. With a PostgreSQL URL a
database of its own is created next to the given one and dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import pstats
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import insert, make_url

from bridge import clock
from bridge.availability import Interval
from bridge.booking import providers, services, slots
from bridge.booking.services import ServiceSpec
from bridge.store import Store
from bridge.store.models import Booking, BusyInterval

NOW = dt.datetime(2026, 6, 1, 6, 0, tzinfo=dt.UTC)  # a Monday, 08:00 in Berlin
DAYS = 90
BOOKINGS = 2_000
BUSY_INTERVALS = 10_000
WINDOW = dt.timedelta(days=30)
WARM_UP = 5
TARGET_MS = 20.0


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """A fresh database: a temporary SQLite file, or a new database beside ``url``."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="bridge-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        return
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield url
        return
    import psycopg

    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"bridge_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(store: Store, rng: random.Random) -> tuple[str, int]:
    """Create the provider, its service, bookings and busy intervals; return slug and service."""
    with store.write() as session:
        provider = providers.create_provider(
            session,
            slug=f"bench-{uuid.uuid4().hex[:8]}",
            name="Benchmark",
            email="bench@example.org",
            time_zone="Europe/Berlin",
        )
        service = services.update_service(
            session,
            provider.id,
            provider.services[0].id,
            ServiceSpec(
                duration_minutes=30, slot_step_minutes=30, min_notice_minutes=0, horizon_days=DAYS
            ),
        )
        provider_id, service_id, slug = provider.id, service.id, provider.slug

    half_hour = dt.timedelta(minutes=30)
    first = NOW.replace(minute=0)
    half_hours = [first + i * half_hour for i in range(DAYS * 48)]
    booking_rows = [
        {
            "uid": f"{uuid.UUID(int=rng.getrandbits(128))}@bench",
            "provider_id": provider_id,
            "service_id": service_id,
            "start_at": start,
            "end_at": start + half_hour,
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 0,
            "status": "confirmed",
            "version": 1,
            "source": "bench",
            "client_name": "Client",
            "client_email": "client@example.org",
            "created_at": NOW,
            "updated_at": NOW,
        }
        for start in sorted(rng.sample(half_hours, BOOKINGS))
    ]
    span_minutes = DAYS * 24 * 60
    busy_rows = []
    for index in range(BUSY_INTERVALS):
        start = NOW + dt.timedelta(minutes=rng.randrange(span_minutes))
        busy_rows.append(
            {
                "provider_id": provider_id,
                "source": "bench:calendar",
                "remote_id": f"event-{index}",
                "start_at": start,
                "end_at": start + dt.timedelta(minutes=rng.randint(5, 30)),
                "imported_at": NOW,
            }
        )
    with store.write() as session:
        session.execute(insert(Booking), booking_rows)
        session.execute(insert(BusyInterval), busy_rows)
    return slug, service_id


def one_query(store: Store, slug: str, service_id: int) -> tuple[float, int]:
    """Time one ``find_slots`` call in a fresh read session; return (seconds, slot count)."""
    with store.read() as session:
        provider = providers.get_provider(session, slug)
        service = services.get_service(session, provider.id, service_id)
        window = Interval(NOW, NOW + WINDOW)
        started = time.perf_counter()
        found = slots.find_slots(session, provider, service, window, NOW)
        elapsed = time.perf_counter() - started
    return elapsed, len(found)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=50, help="measured runs (default 50)")
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of 20 runs")
    args = parser.parse_args(argv)

    with database(args.database_url) as url, clock.frozen(NOW):
        store = Store(url)
        try:
            store.upgrade()
            started = time.perf_counter()
            slug, service_id = populate(store, random.Random(args.seed))
            out(
                f"backend: {store.dialect}; {BOOKINGS} bookings and {BUSY_INTERVALS} busy "
                f"intervals over {DAYS} days inserted in {time.perf_counter() - started:.1f} s"
            )
            for _ in range(WARM_UP):
                one_query(store, slug, service_id)
            timings, counts = [], set()
            for _ in range(args.repeat):
                elapsed, count = one_query(store, slug, service_id)
                timings.append(elapsed * 1000)
                counts.add(count)

            tracemalloc.start()
            one_query(store, slug, service_id)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            max_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

            median = statistics.median(timings)
            out(f"find_slots, 30-day window, {args.repeat} runs after {WARM_UP} warm-up runs:")
            out(
                f"  median {median:.2f} ms   p95 {percentile(timings, 0.95):.2f} ms   "
                f"min {min(timings):.2f} ms   (target: median < {TARGET_MS:.0f} ms)"
            )
            out(f"  slots returned: {', '.join(str(c) for c in sorted(counts))}")
            out(f"  peak traced memory during one query: {peak / 1024:.0f} KiB")
            out(f"  process max RSS: {max_rss_kib / 1024:.1f} MiB")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(20):
                    one_query(store, slug, service_id)
                profiler.disable()
                stats = pstats.Stats(profiler, stream=sys.stdout)
                stats.sort_stats("cumulative").print_stats(30)
                stats.sort_stats("tottime").print_stats(20)
        finally:
            store.dispose()
    return 0 if median < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
