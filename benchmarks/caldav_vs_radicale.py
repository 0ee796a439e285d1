"""Benchmark: our CalDAV server (``bridge serve``) against stock Radicale 3.9 on the same data.

Both servers run at once, on loopback ports of their own, started by this script:

* stock Radicale 3.9 (``python -m radicale``) with its ``multifilesystem`` storage in a temporary
  folder, ``[auth] type = none`` and ``[rights] type = owner_only``;
* ours: ``python -m bridge serve --port 0 --no-demo`` on a temporary SQLite database, with one
  provider ``bench`` whose slug and password are the CalDAV login.

On each a client creates the calendar ``bench-cal`` (MKCALENDAR) and fills it with N events: ~70%
single timed events (TZID Europe/Berlin with its VTIMEZONE), ~20% weekly recurring (COUNT=20 or
UNTIL), ~10% all-day, each with its own UID and href. Every 1,000 events cover two years of their
own, so a calendar of 10,000 spans twenty: that is how a real calendar grows, and it keeps the
week that ``calendar-query`` asks for (in the first two years) holding the same events at every
size, so the query measures the cost of size and not of a longer answer (``--spread fixed`` puts
all N into the same two years instead).

All but the last 200 events go in by a fast path (stock: files written straight into the
collection folder, which is the layout multifilesystem keeps; ours: PUTs from four connections);
the last 200 are PUT one by one and timed ("PUT new item"). Then each operation runs once to warm
up and ``--repeat`` times measured, and the table shows medians:

* PROPFIND Depth 1 (getetag) of the calendar, and PROPFIND Depth 0 of CS:getctag;
* a one-week ``calendar-query`` (VEVENT time-range, getetag);
* ``calendar-multiget`` of 100 random hrefs (getetag and calendar-data);
* ``sync-collection`` with an empty token, and incremental: each round modifies 5 events and
  deletes 5, then asks with the token of the round before.

Every answer is checked (status, number of items, agreement between the two servers); a failed
check is an error. Missed targets are not: the exit status is non-zero only on errors.

Usage::

    .venv/bin/python benchmarks/caldav_vs_radicale.py [--sizes 1000,10000] [--repeat 5]
        [--only stock|bridge] [--spread per-1000|fixed]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
USER = "bench"
PASSWORD = "bench-password-7f3a9c"  # noqa: S105 - a throw-away account on loopback
CALENDAR = "bench-cal"
TIMED_PUTS = 200
MULTIGET = 100
CHANGES = 5  # modified, and as many deleted, before each incremental sync
BULK_CONNECTIONS = 4
READY_TIMEOUT = 60.0
REQUEST_TIMEOUT = 900.0

BASE_DATE = dt.date(2026, 1, 5)  # a Monday
SPAN_DAYS = 728  # two years (of 52 weeks) per block of events
BLOCK = 1000
WEEK_START = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)  # a Monday in the first two years
WEEK_END = WEEK_START + dt.timedelta(days=7)
DTSTAMP = "20260101T000000Z"

NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:caldav", "CS": "http://calendarserver.org/ns/"}
XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}
ICS_TYPE = "text/calendar; charset=utf-8"

VTIMEZONE = """\
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class BenchmarkError(Exception):
    """A server failed, answered unexpectedly, or a check of its answer failed."""


# --- the events --------------------------------------------------------------------------------


def href_of(index: int) -> str:
    return f"ev-{index:06d}.ics"


def event_text(index: int, *, spread: str, revision: int = 0) -> str:
    """The iCalendar object of event ``index``; the same for the same arguments, on any run."""
    rng = random.Random(index)
    block = index // BLOCK if spread == "per-1000" else 0
    day = BASE_DATE + dt.timedelta(days=block * SPAN_DAYS + rng.randrange(SPAN_DAYS))
    kind = rng.random()
    start = dt.datetime.combine(day, dt.time(rng.randrange(7, 20), rng.choice((0, 30))))
    end = start + dt.timedelta(minutes=rng.choice((30, 60, 90)))
    summary = f"Event {index}" + (f" (revision {revision})" if revision else "")
    lines = [
        "BEGIN:VEVENT",
        f"UID:bench-{index:06d}@example.org",
        f"DTSTAMP:{DTSTAMP}",
        f"SUMMARY:{summary}",
    ]
    if revision:
        lines.append(f"SEQUENCE:{revision}")
    if kind < 0.9:
        lines += [
            f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Berlin:{end:%Y%m%dT%H%M%S}",
        ]
        if kind >= 0.7:
            if rng.random() < 0.5:
                lines.append("RRULE:FREQ=WEEKLY;COUNT=20")
            else:  # the 20th occurrence's day, at the end of it in UTC (UNTIL is inclusive)
                until = day + dt.timedelta(weeks=19)
                lines.append(f"RRULE:FREQ=WEEKLY;UNTIL={until:%Y%m%d}T235959Z")
    else:
        lines += [
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
        ]
    lines.append("END:VEVENT")
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calendar-bridge//benchmark//EN"]
    body += VTIMEZONE.splitlines() if kind < 0.9 else []
    body += lines + ["END:VCALENDAR"]
    return "\r\n".join(body) + "\r\n"


# --- servers -----------------------------------------------------------------------------------


@dataclass
class Server:
    """One running CalDAV server, its calendar, and which events the calendar holds now."""

    label: str
    base_url: str
    collection: str  # path of the calendar, with the trailing slash
    client: httpx.Client
    bulk_put: Callable[[Server, list[tuple[str, str]]], None]
    live: dict[str, int] = field(default_factory=dict)  # href -> event index, in PUT order
    next_index: int = 0
    edits: int = 0  # events modified so far

    def path(self, href: str = "") -> str:
        return self.collection + href


def new_client(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, auth=(USER, PASSWORD), timeout=REQUEST_TIMEOUT, trust_env=False
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchmarkError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def running(
    command: list[str], log: Path, *, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command`` with its output in ``log``; terminate it and wait at the end."""
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def alive_or_fail(process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    if process.poll() is not None:
        raise BenchmarkError(f"{what} exited with {process.returncode}:\n{log_tail(log)}")


@contextlib.contextmanager
def stock_radicale(work: Path) -> Iterator[Server]:
    """Stock Radicale 3.9 with multifilesystem storage in ``work``."""
    folder = work / "collections"
    port = free_port()
    config = work / "radicale.conf"
    config.write_text(
        textwrap.dedent(f"""\
            [server]
            hosts = 127.0.0.1:{port}
            [auth]
            type = none
            [rights]
            type = owner_only
            [storage]
            type = multifilesystem
            filesystem_folder = {folder}
            [web]
            type = none
            [logging]
            level = warning
            """),
        encoding="utf-8",
    )
    log = work / "radicale.log"
    command = [PYTHON, "-m", "radicale", "--config", str(config)]
    base_url = f"http://127.0.0.1:{port}"
    with (
        running(command, log, cwd=work) as process,
        new_client(base_url) as client,
    ):

        def ready() -> bool:
            alive_or_fail(process, log, "stock Radicale")
            try:
                return client.request("OPTIONS", "/").status_code < 500
            except httpx.TransportError:
                return False

        wait_until(ready, READY_TIMEOUT, f"stock Radicale on {base_url}")
        root = folder / "collection-root" / USER / CALENDAR

        def bulk_put(server: Server, items: list[tuple[str, str]]) -> None:
            # The files multifilesystem itself keeps: one per item, named by its href.
            for href, text in items:
                (root / href).write_text(text, encoding="utf-8", newline="")

        yield Server("stock", base_url, f"/{USER}/{CALENDAR}/", client, bulk_put)


def bridge_environment(work: Path) -> dict[str, str]:
    """The environment without our own settings, and an empty config file: defaults only."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    config = work / "bridge.toml"
    config.write_text("", encoding="utf-8")
    environ["BRIDGE_CONFIG"] = str(config)
    return environ


@contextlib.contextmanager
def bridge_server(work: Path) -> Iterator[Server]:
    """``bridge serve`` on a fresh SQLite database, with provider ``bench``."""
    data = work / "data"
    data.mkdir()
    environ = bridge_environment(work)
    add = [PYTHON, "-m", "bridge", "provider", "add", "--slug", USER, "--name", "Bench"]
    add += ["--email", "bench@example.org", "--timezone", "Europe/Berlin"]
    add += ["--password-stdin", "--data-dir", str(data)]
    done = subprocess.run(
        add, input=PASSWORD + "\n", capture_output=True, text=True, env=environ, cwd=REPO
    )
    if done.returncode != 0:
        raise BenchmarkError(f"bridge provider add failed:\n{done.stdout}{done.stderr}")
    ready_file = work / "ready"
    log = work / "bridge.log"
    command = [PYTHON, "-m", "bridge", "serve", "--port", "0", "--data-dir", str(data)]
    command += ["--no-demo", "--ready-file", str(ready_file)]
    with running(command, log, cwd=REPO, env=environ) as process:

        def ready() -> bool:
            alive_or_fail(process, log, "bridge serve")
            return ready_file.exists()

        wait_until(ready, READY_TIMEOUT, "the ready file of bridge serve")
        base_url = ready_file.read_text(encoding="utf-8").strip().rstrip("/")
        with new_client(base_url) as client:

            def bulk_put(server: Server, items: list[tuple[str, str]]) -> None:
                errors: list[BaseException] = []

                def worker(share: list[tuple[str, str]]) -> None:
                    try:
                        with new_client(server.base_url) as own:
                            for href, text in share:
                                put(own, server.path(href), text)
                    except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                        errors.append(exc)

                threads = [
                    threading.Thread(target=worker, args=(items[n::BULK_CONNECTIONS],))
                    for n in range(BULK_CONNECTIONS)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                if errors:
                    raise errors[0]

            yield Server("ours", base_url, f"/dav/{USER}/{CALENDAR}/", client, bulk_put)


# --- requests ----------------------------------------------------------------------------------


def request(
    client: httpx.Client,
    method: str,
    path: str,
    expect: tuple[int, ...],
    *,
    content: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[float, httpx.Response]:
    """Send one request; return its time in ms (until the body is read) and the response."""
    began = time.perf_counter()
    response = client.request(method, path, content=content, headers=headers)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code not in expect:
        raise BenchmarkError(
            f"{method} {path} -> {response.status_code} (expected {expect}):\n"
            f"{response.text[:2000]}"
        )
    return elapsed, response


def put(client: httpx.Client, path: str, text: str, *, new: bool = True) -> float:
    headers = {"Content-Type": ICS_TYPE}
    if new:
        headers["If-None-Match"] = "*"
    elapsed, _ = request(client, "PUT", path, (200, 201, 204), content=text, headers=headers)
    return elapsed


def parse_multistatus(response: httpx.Response) -> ET.Element:
    try:
        return ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise BenchmarkError(f"not XML ({exc}): {response.text[:500]}") from exc


def item_responses(root: ET.Element, collection: str) -> list[ET.Element]:
    """The ``DAV:response`` elements about items, not about the collection itself."""
    found = []
    for element in root.findall("D:response", NS):
        href = element.findtext("D:href", default="", namespaces=NS)
        if httpx.URL(href).path.rstrip("/") != collection.rstrip("/"):
            found.append(element)
    return found


def is_deleted(element: ET.Element) -> bool:
    return " 404 " in element.findtext("D:status", default="", namespaces=NS)


def make_calendar(server: Server) -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
        "<D:displayname>Bench</D:displayname></D:prop></D:set></C:mkcalendar>"
    )
    request(server.client, "MKCALENDAR", server.path(), (201,), content=body, headers=XML_HEADERS)


PROPFIND_GETETAG = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
)
PROPFIND_GETCTAG = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">'
    "<D:prop><CS:getctag/></D:prop></D:propfind>"
)


def propfind_depth1(server: Server) -> tuple[float, int]:
    elapsed, response = request(
        server.client,
        "PROPFIND",
        server.path(),
        (207,),
        content=PROPFIND_GETETAG,
        headers={**XML_HEADERS, "Depth": "1"},
    )
    items = item_responses(parse_multistatus(response), server.collection)
    return elapsed, len(items)


def getctag(server: Server) -> tuple[float, str]:
    elapsed, response = request(
        server.client,
        "PROPFIND",
        server.path(),
        (207,),
        content=PROPFIND_GETCTAG,
        headers={**XML_HEADERS, "Depth": "0"},
    )
    ctag = parse_multistatus(response).findtext(".//CS:getctag", default="", namespaces=NS)
    if not ctag:
        raise BenchmarkError(f"no getctag in the answer of {server.label}: {response.text[:500]}")
    return elapsed, ctag


def week_query(server: Server) -> tuple[float, int]:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:prop><D:getetag/></D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f'<C:time-range start="{WEEK_START:%Y%m%dT%H%M%SZ}" end="{WEEK_END:%Y%m%dT%H%M%SZ}"/>'
        "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    )
    elapsed, response = request(
        server.client,
        "REPORT",
        server.path(),
        (207,),
        content=body,
        headers={**XML_HEADERS, "Depth": "1"},
    )
    return elapsed, len(item_responses(parse_multistatus(response), server.collection))


def multiget(server: Server, hrefs: list[str]) -> tuple[float, int]:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
        + "".join(f"<D:href>{server.path(href)}</D:href>" for href in hrefs)
        + "</C:calendar-multiget>"
    )
    elapsed, response = request(
        server.client,
        "REPORT",
        server.path(),
        (207,),
        content=body,
        headers={**XML_HEADERS, "Depth": "1"},
    )
    items = item_responses(parse_multistatus(response), server.collection)
    with_data = [e for e in items if e.findtext(".//C:calendar-data", default="", namespaces=NS)]
    return elapsed, len(with_data)


@dataclass(frozen=True)
class SyncAnswer:
    token: str
    changed: int
    deleted: int


def sync_collection(server: Server, token: str) -> tuple[float, SyncAnswer]:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:sync-collection xmlns:D="DAV:">'
        + (f"<D:sync-token>{token}</D:sync-token>" if token else "<D:sync-token/>")
        + "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    elapsed, response = request(
        server.client, "REPORT", server.path(), (207,), content=body, headers=XML_HEADERS
    )
    root = parse_multistatus(response)
    new_token = root.findtext("D:sync-token", default="", namespaces=NS)
    if not new_token:
        raise BenchmarkError(
            f"no sync-token in the answer of {server.label}: {response.text[:500]}"
        )
    items = item_responses(root, server.collection)
    deleted = sum(1 for element in items if is_deleted(element))
    return elapsed, SyncAnswer(new_token, len(items) - deleted, deleted)


# --- the workload at one size --------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """The samples of one operation at one size on one server."""

    operation: str
    size: int
    server: str
    samples_ms: tuple[float, ...]
    outcome: str  # what the answer held, compared between the servers ("" = not compared)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)


PUT_NEW = "PUT new item"
PROPFIND_DEPTH1 = "PROPFIND depth 1 getetag"
GETCTAG = "getctag (PROPFIND depth 0)"
WEEK_QUERY = "calendar-query one week"
MULTIGET_100 = f"calendar-multiget {MULTIGET}"
SYNC_INITIAL = "sync-collection initial"
SYNC_INCREMENTAL = f"sync-collection after {2 * CHANGES} changes"
OPERATIONS = (
    PUT_NEW,
    PROPFIND_DEPTH1,
    GETCTAG,
    WEEK_QUERY,
    MULTIGET_100,
    SYNC_INITIAL,
    SYNC_INCREMENTAL,
)
TARGETS = (PUT_NEW, WEEK_QUERY, GETCTAG, SYNC_INCREMENTAL)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkError(message)


def fill(server: Server, size: int, spread: str) -> list[float]:
    """Fill the calendar to ``size`` events; return the times of the last PUTs, one by one."""
    missing = size - len(server.live)
    check(
        missing >= TIMED_PUTS, f"{server.label}: {len(server.live)} events, cannot grow to {size}"
    )
    indexes = list(range(server.next_index, server.next_index + missing))
    server.next_index += missing
    bulk = [(href_of(i), event_text(i, spread=spread)) for i in indexes[:-TIMED_PUTS]]
    began = time.perf_counter()
    server.bulk_put(server, bulk)
    server.live.update((href_of(i), i) for i in indexes[:-TIMED_PUTS])
    # Read everything once: stock builds its item cache here, not in the first timed PUT.
    _, count = propfind_depth1(server)
    check(count == len(server.live), f"{server.label}: {count} items after the fast fill")
    seconds = time.perf_counter() - began
    out(f"  {server.label}: {len(bulk)} events by the fast path (and one read) in {seconds:.1f} s")
    timings = []
    for i in indexes[-TIMED_PUTS:]:
        timings.append(put(server.client, server.path(href_of(i)), event_text(i, spread=spread)))
        server.live[href_of(i)] = i
    return timings


def repeated(
    operation: str, size: int, server: Server, repeat: int, run: Callable[[], tuple[float, str]]
) -> Result:
    """One warm-up run, then ``repeat`` measured ones, all with the same outcome."""
    _, first = run()
    samples = []
    for _ in range(repeat):
        elapsed, outcome = run()
        check(outcome == first, f"{server.label} {operation}: {outcome!r} after {first!r}")
        samples.append(elapsed)
    return Result(operation, size, server.label, tuple(samples), first)


def change_some(server: Server, rng: random.Random, spread: str) -> None:
    """Modify ``CHANGES`` random events and delete ``CHANGES`` others."""
    picked = rng.sample(list(server.live), 2 * CHANGES)
    for href in picked[:CHANGES]:
        server.edits += 1  # a new text on every edit, even of an event edited before
        text = event_text(server.live[href], spread=spread, revision=server.edits)
        put(server.client, server.path(href), text, new=False)
    for href in picked[CHANGES:]:
        request(server.client, "DELETE", server.path(href), (200, 204))
        del server.live[href]


def incremental_sync(server: Server, size: int, repeat: int, spread: str) -> Result:
    rng = random.Random(f"changes-{size}")
    _, answer = sync_collection(server, "")
    samples = []
    for round_ in range(repeat + 1):  # the first round warms up
        _, ctag_before = getctag(server)
        change_some(server, rng, spread)
        _, ctag_after = getctag(server)
        check(ctag_after != ctag_before, f"{server.label}: getctag unchanged after 10 changes")
        elapsed, answer_after = sync_collection(server, answer.token)
        got = (answer_after.changed, answer_after.deleted)
        check(
            got == (CHANGES, CHANGES),
            f"{server.label}: incremental sync reported {got} (changed, deleted), "
            f"expected ({CHANGES}, {CHANGES})",
        )
        if round_:
            samples.append(elapsed)
        answer = answer_after
    return Result(SYNC_INCREMENTAL, size, server.label, tuple(samples), f"{CHANGES}+{CHANGES}")


def run_size(server: Server, size: int, repeat: int, spread: str) -> list[Result]:
    out(f"size {size}, {server.label}:")
    began = time.perf_counter()
    puts = fill(server, size, spread)
    results = [Result(PUT_NEW, size, server.label, tuple(puts), "")]

    def depth1() -> tuple[float, str]:
        elapsed, count = propfind_depth1(server)
        check(count == len(server.live), f"{server.label}: PROPFIND depth 1 listed {count}")
        return elapsed, str(count)

    def ctag() -> tuple[float, str]:
        elapsed, _ = getctag(server)
        return elapsed, ""

    def query() -> tuple[float, str]:
        elapsed, count = week_query(server)
        return elapsed, str(count)

    rng = random.Random(f"multiget-{size}")

    def get_many() -> tuple[float, str]:
        elapsed, count = multiget(server, rng.sample(sorted(server.live), MULTIGET))
        check(count == MULTIGET, f"{server.label}: calendar-multiget returned {count} items")
        return elapsed, str(count)

    def initial_sync() -> tuple[float, str]:
        # Only the present items count: stock Radicale also lists items deleted earlier (as 404),
        # which RFC 6578 section 3.8 says an initial sync must not.
        elapsed, answer = sync_collection(server, "")
        check(answer.changed == len(server.live), f"{server.label}: initial sync reported {answer}")
        return elapsed, str(answer.changed)

    measured = {
        PROPFIND_DEPTH1: depth1,
        GETCTAG: ctag,
        WEEK_QUERY: query,
        MULTIGET_100: get_many,
        SYNC_INITIAL: initial_sync,
    }
    for operation, run in measured.items():
        results.append(repeated(operation, size, server, repeat, run))
    results.append(incremental_sync(server, size, repeat, spread))
    out(f"  {server.label}: size {size} measured in {time.perf_counter() - began:.1f} s")
    return results


# --- report --------------------------------------------------------------------------------------


def report(results: list[Result], sizes: list[int], labels: list[str]) -> list[str]:
    """Print the table and the targets; return the disagreements between the servers."""
    by_key = {(r.operation, r.size, r.server): r for r in results}
    problems = []
    out()
    header = f"{'operation':<34} {'size':>6} {'items':>6}"
    header += "".join(f" {label + ' ms':>11}" for label in labels)
    if len(labels) == 2:
        header += f" {'ours/stock':>11}"
    out(header)
    out("-" * len(header))
    for operation in OPERATIONS:
        for size in sizes:
            row = [by_key.get((operation, size, label)) for label in labels]
            outcome = next((r.outcome for r in row if r), "")
            line = f"{operation:<34} {size:>6} {outcome:>6}"
            line += "".join(f" {r.median_ms:>11.1f}" if r else f" {'-':>11}" for r in row)
            if len(labels) == 2 and row[0] and row[1]:
                line += f" {row[1].median_ms / row[0].median_ms:>11.2f}"
                if row[0].outcome != row[1].outcome:
                    problems.append(
                        f"{operation} at {size}: stock answered {row[0].outcome}, "
                        f"ours {row[1].outcome}"
                    )
            out(line)
    if "ours" not in labels or len(sizes) < 2:
        return problems
    small, large = sizes[0], sizes[-1]
    out()
    out(f"Targets (ours at {large} / ours at {small} <= 2; stock / ours at {large} >= 10):")
    for operation in TARGETS:
        ours_small = by_key[(operation, small, "ours")].median_ms
        ours_large = by_key[(operation, large, "ours")].median_ms
        growth = ours_large / ours_small
        line = f"  {operation:<34} growth {growth:6.2f} {'pass' if growth <= 2 else 'FAIL'}"
        stock = by_key.get((operation, large, "stock"))
        if stock:
            speedup = stock.median_ms / ours_large
            line += f"   speed-up {speedup:7.1f}x {'pass' if speedup >= 10 else 'FAIL'}"
        out(line)
    if "stock" in labels:
        slower = []
        for r in results:
            stock = by_key[(r.operation, r.size, "stock")]
            if r.server == "ours" and r.median_ms > stock.median_ms:
                slower.append(f"{r.operation} at {r.size} ({r.median_ms / stock.median_ms:.2f}x)")
        verdict = "pass" if not slower else "FAIL: " + "; ".join(slower)
        out(f"  no operation slower than stock: {verdict}")
    return problems


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="calendar sizes, ascending")
    parser.add_argument("--repeat", type=int, default=5, help="measured runs per operation")
    parser.add_argument("--only", choices=("stock", "bridge"), help="run one server only")
    parser.add_argument(
        "--spread",
        choices=("per-1000", "fixed"),
        default="per-1000",
        help="two years per 1,000 events (default), or all events in the same two years",
    )
    args = parser.parse_args(argv)
    args.sizes = sorted({int(size) for size in args.sizes.split(",")})
    if args.sizes[0] < TIMED_PUTS + 2 * CHANGES * (args.repeat + 1) + MULTIGET:
        parser.error(
            f"sizes must be at least {TIMED_PUTS + 2 * CHANGES * (args.repeat + 1) + MULTIGET}"
        )
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    results: list[Result] = []
    try:
        with contextlib.ExitStack() as stack:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bridge-caldav-")))
            servers = []
            if args.only in (None, "stock"):
                (work / "stock").mkdir()
                servers.append(stack.enter_context(stock_radicale(work / "stock")))
            if args.only in (None, "bridge"):
                (work / "ours").mkdir()
                servers.append(stack.enter_context(bridge_server(work / "ours")))
            for server in servers:
                out(f"{server.label}: {server.base_url}{server.collection}")
                make_calendar(server)
            for size in args.sizes:
                for server in servers:
                    results += run_size(server, size, args.repeat, args.spread)
    except (BenchmarkError, httpx.HTTPError, OSError) as exc:
        out(f"error: {exc}")
        return 1
    problems = report(results, args.sizes, [server.label for server in servers])
    for problem in problems:
        out(f"error: the servers disagree: {problem}")
    out(f"\nrun time {time.perf_counter() - began:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
