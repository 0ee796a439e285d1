"""Sync latency and import memory: `bridge serve` against the fake Google, all on loopback.

Three figures, each from a real server process (SQLite in a temporary directory) connected to
the fake Google server of the test suite through the real consent flow, push notifications on:

1. booking -> event in Google: from the booking API's answer to the event being present in the
   fake's calendar, over N bookings made one after another (p50, p99);
2. Google event -> availability: from a personal event's creation in the fake to the slots API no
   longer offering its slot, over N events (p50, p99);
3. full import of a calendar of M events (a tenth of them weekly series): time to the first
   completed sync, and the server's peak resident memory (VmHWM) before and after, for M/10 and M
   events in fresh servers, so that memory that grows with the calendar shows.

Targets (issue 4): p50 under 1 s and p99 under 2 s for both latencies; import memory that does
not grow with the calendar's size.

    .venv/bin/python benchmarks/sync_latency.py [--count 200] [--import-size 10000]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.google import FakeGoogle  # noqa: E402

SLUG = "bench"
ZONE = "Europe/Berlin"
WAIT_LIMIT = 120.0  # seconds before one measurement counts as failed
POLL = 0.002


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(predicate: Callable[[], bool], what: str, limit: float = WAIT_LIMIT) -> float:
    """Poll ``predicate`` until it holds; return the monotonic time it first held."""
    deadline = time.monotonic() + limit
    while True:
        if predicate():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {limit:g} s waiting for {what}")
        time.sleep(POLL)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc")


class Server:
    """`bridge serve` in a temporary data directory, with a provider and an API token."""

    def __init__(self, fake: FakeGoogle, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "BRIDGE_DATA_DIR": str(directory / "data"),
            "BRIDGE_PUBLIC_URL": self.url,
            "BRIDGE_LOG_LEVEL": "WARNING",
            "BRIDGE_GOOGLE_CLIENT_ID": fake.client_id,
            "BRIDGE_GOOGLE_CLIENT_SECRET": fake.client_secret,
            "BRIDGE_GOOGLE_API_ENDPOINT": fake.api_endpoint,
            "BRIDGE_GOOGLE_AUTH_URI": fake.auth_uri,
            "BRIDGE_GOOGLE_TOKEN_URI": fake.token_uri,
            "BRIDGE_GOOGLE_REVOKE_URI": fake.revoke_uri,
            "BRIDGE_PROVIDER_PASSWORD": "benchmark-password",
            "OAUTHLIB_INSECURE_TRANSPORT": "1",  # the fake speaks plain http on loopback
        }
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "bridge", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    def start(self) -> None:
        self.cli(
            "provider", "add", "--slug", SLUG, "--name", "Bench",
            "--email", "bench@example.org", "--timezone", ZONE,
        )  # fmt: skip
        self.token = self.cli("token", "create", "--provider", SLUG)
        ready = self.directory / "ready"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bridge",
                "serve",
                "--port",
                str(self.port),
                "--no-demo",
                "--ready-file",
                str(ready),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.directory / "stderr.txt", "wb"),  # noqa: SIM115 - closed with the process
        )
        wait_for(ready.exists, "the server's ready file", 60)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )


@contextlib.contextmanager
def running_server(fake: FakeGoogle) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="bridge-bench-") as directory:
        server = Server(fake, Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()


def open_all_week(api: httpx.Client) -> int:
    """Hours around the clock, no notice, a year ahead; return the service id."""
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    hours = [{"weekday": day, "start": "00:00", "end": "24:00"} for day in days]
    api.put(f"/providers/{SLUG}/hours", json={"hours": hours}).raise_for_status()
    service = api.get(f"/providers/{SLUG}/services").json()["services"][0]["id"]
    api.patch(
        f"/providers/{SLUG}/services/{service}",
        json={"min_notice_minutes": 0, "horizon_days": 365},
    ).raise_for_status()
    return int(service)


def connect(server: Server, api: httpx.Client) -> float:
    """The real consent flow; return the moment the callback answered."""
    consent = api.post(f"/providers/{SLUG}/connections/google").json()["consent_url"]
    with httpx.Client(timeout=30) as browser:
        approval = browser.get(consent)
        callback = approval.headers["location"]
        if urlsplit(callback).netloc != urlsplit(server.url).netloc:
            raise RuntimeError(f"the fake redirected elsewhere: {callback}")
        browser.get(callback).raise_for_status()
    return time.monotonic()


def first_sync_done(api: httpx.Client) -> bool:
    answer = api.get(f"/providers/{SLUG}/sync/status")
    if answer.status_code != 200:
        raise RuntimeError(f"sync status answered {answer.status_code}: {answer.text}")
    calendars = answer.json()["calendars"]
    return bool(calendars) and all(c["last_synced_at"] for c in calendars if c["check_conflicts"])


def booking_latency(server: Server, fake: FakeGoogle, email: str, count: int) -> list[float]:
    calendar = fake.calendar(email)
    latencies = []
    day = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
    with server.api() as api:
        service = open_all_week(api)
        for n in range(count):
            start = day + dt.timedelta(minutes=30 * n)
            answer = api.post(
                f"/providers/{SLUG}/bookings",
                json={
                    "service": service,
                    "start": start.isoformat(),
                    "client": {"name": f"Client {n}", "email": f"c{n}@example.org"},
                },
            )
            answered = time.monotonic()
            answer.raise_for_status()
            uid = answer.json()["uid"]

            def present(uid: str = uid) -> bool:
                return any(
                    event.get("extendedProperties", {}).get("private", {}).get("bridgeBookingUid")
                    == uid
                    for event in calendar.live_events()
                )

            latencies.append(wait_for(present, f"booking {n} in Google") - answered)
    return latencies


def availability_latency(server: Server, fake: FakeGoogle, email: str, count: int) -> list[float]:
    calendar = fake.calendar(email)
    latencies = []
    first = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    first += dt.timedelta(days=30)
    with server.api() as api:
        service = open_all_week(api)
        for n in range(count):
            start = first + dt.timedelta(minutes=30 * n)
            end = start + dt.timedelta(minutes=30)
            query = {"service": service, "start": start.isoformat(), "end": end.isoformat()}

            def offered(query: dict[str, object] = query) -> bool:
                return bool(api.get(f"/providers/{SLUG}/slots", params=query).json()["slots"])

            if not offered():
                raise RuntimeError(f"slot {start} is not free before the test")
            created = time.monotonic()
            calendar.create_event(
                {
                    "summary": f"Personal {n}",
                    "start": {"dateTime": start.isoformat()},
                    "end": {"dateTime": end.isoformat()},
                }
            )
            latencies.append(
                wait_for(lambda q=query: not offered(q), f"event {n} blocking") - created
            )
    return latencies


def fill_calendar(fake: FakeGoogle, email: str, size: int) -> None:
    calendar = fake.calendar(email)
    start = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
    for n in range(size):
        begin = start + dt.timedelta(hours=3 * n)
        body: dict[str, object] = {
            "summary": f"Event {n}",
            "start": {"dateTime": begin.isoformat(), "timeZone": ZONE},
            "end": {"dateTime": (begin + dt.timedelta(hours=1)).isoformat(), "timeZone": ZONE},
        }
        if n % 10 == 0:
            body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=52"]
        calendar.create_event(body)


def import_run(fake: FakeGoogle, size: int) -> tuple[float, float, float]:
    """(seconds to the first sync, VmHWM before connecting, VmHWM after) in MiB."""
    email = f"import-{size}@example.com"
    fake.consenting_account = fake.add_account(email, time_zone=ZONE)
    fill_calendar(fake, email, size)
    with running_server(fake) as server, server.api() as api:
        assert server.process is not None
        api.get(f"/providers/{SLUG}/services").raise_for_status()  # warm the server up
        before = peak_rss_mib(server.process.pid)
        connected = connect(server, api)
        done = wait_for(lambda: first_sync_done(api), f"the import of {size} events", 1800)
        return done - connected, before, peak_rss_mib(server.process.pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="bookings and events to time")
    parser.add_argument("--import-size", type=int, default=10_000, help="events to import")
    options = parser.parse_args()

    with FakeGoogle() as fake:
        email = "latency@example.com"
        fake.consenting_account = fake.add_account(email, time_zone=ZONE)
        with running_server(fake) as server, server.api() as api:
            connect(server, api)
            wait_for(lambda: first_sync_done(api), "the first sync")
            wait_for(lambda: any(not c.stopped for c in fake.channels), "a push channel")
            bookings = booking_latency(server, fake, email, options.count)
            events = availability_latency(server, fake, email, options.count)
        out(f"{'latency':<36}{'p50':>9}{'p99':>9}{'max':>9}   target p50 < 1 s, p99 < 2 s")
        for name, values in (
            (f"booking -> Google ({len(bookings)})", bookings),
            (f"Google event -> slots ({len(events)})", events),
        ):
            out(
                f"{name:<36}{percentile(values, 0.5):>8.3f}s{percentile(values, 0.99):>8.3f}s"
                f"{max(values):>8.3f}s   mean {statistics.mean(values):.3f}s"
            )
        out()
        out(
            f"{'import':<24}{'time':>10}{'events/s':>10}{'VmHWM before':>14}"
            f"{'after':>10}{'growth':>10}"
        )
        for size in (options.import_size // 10, options.import_size):
            seconds, before, after = import_run(fake, size)
            out(
                f"{size:>6} events{'':<11}{seconds:>9.1f}s{size / seconds:>10.0f}"
                f"{before:>11.0f} MiB{after:>6.0f} MiB{after - before:>6.0f} MiB"
            )


if __name__ == "__main__":
    main()
