"""End-to-end fixtures: ``bridge serve`` as a real process, the fake Google in this process.

The server runs on the embedded SQLite default in a temporary data directory, with the Google
endpoints pointed at the fake (``BRIDGE_GOOGLE_*``), short retry intervals, and its public URL
the address it binds (the fake's push notifications reach its ``/hooks/google``). Servers start
once per module; each test gets a fresh provider and a fresh Google account, connected through
the real consent flow. Tests wait on conditions with deadlines, never on sleeps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from bridge import keys
from bridge.booking import providers
from bridge.keys import Keyring
from bridge.store import Store
from bridge.store.sync_models import Connection
from tests.e2e.drivers import FakeGoogleCalendar, RemoteCalendar
from tests.fakes.google import FakeGoogle
from tests.waiting import wait_until

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
SYNC_TIMEOUT = 20.0
SECRET_KEY = "e2e-secret-key-" + "s" * 40
ZONE = "Europe/Berlin"

BASE_ENV = {
    "BRIDGE_SECRET_KEY": SECRET_KEY,
    "BRIDGE_LOG_LEVEL": "INFO",
    "BRIDGE_SYNC_POLL_INTERVAL": "3600",  # pulls come from push notifications and requests
    "BRIDGE_SYNC_RETRY_INTERVAL": "0.5",
    "BRIDGE_SYNC_MAX_BACKOFF": "2",
    "BRIDGE_CONNECTOR_TIMEOUT": "5",
    "BRIDGE_FREE_BUSY_TIMEOUT": "3",
    "BRIDGE_PUSH_CHANNEL_TTL": "3600",
    "BRIDGE_PUSH_RENEW_MARGIN": "60",
    "OAUTHLIB_INSECURE_TRANSPORT": "1",  # the fake speaks plain http (tests only)
}


@dataclasses.dataclass
class Server:
    """One ``bridge serve`` process."""

    process: subprocess.Popen[bytes]
    url: str
    env: dict[str, str]
    data_dir: Path
    log_file: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def kill(self) -> None:
        """Die at once, as in a crash (no clean shutdown)."""
        self.process.kill()
        self.process.wait(timeout=STOP_TIMEOUT)

    def cli(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run ``python -m bridge ARGS`` against this server's database and settings."""
        return subprocess.run(
            [sys.executable, "-m", "bridge", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def store(self) -> Store:
        """The process's database, for reading what the API does not show."""
        url = self.env.get("BRIDGE_DATABASE_URL")
        return Store(url or f"sqlite:///{self.data_dir / 'bridge.sqlite3'}")


def clean_environ() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("BRIDGE_") or name.startswith("BRIDGE_TEST_")
    }
    env.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
    return env


def fake_env(fake: FakeGoogle) -> dict[str, str]:
    return {
        "BRIDGE_GOOGLE_CLIENT_ID": fake.client_id,
        "BRIDGE_GOOGLE_CLIENT_SECRET": fake.client_secret,
        "BRIDGE_GOOGLE_API_ENDPOINT": fake.api_endpoint,
        "BRIDGE_GOOGLE_AUTH_URI": fake.auth_uri,
        "BRIDGE_GOOGLE_TOKEN_URI": fake.token_uri,
        "BRIDGE_GOOGLE_REVOKE_URI": fake.revoke_uri,
    }


class Servers:
    """Starts ``bridge serve`` processes in one data directory; stops them all at the end."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.directory = directory
        self.data_dir = directory / "data"
        self.env = {**env, "BRIDGE_DATA_DIR": str(self.data_dir)}
        self.started: list[Server] = []

    def start(self, *args: str, port: int = 0, **env: str) -> Server:
        """``bridge serve --port PORT ARGS`` (its URL is :attr:`Server.url`)."""
        return self._launch(["serve", "--no-demo", "--port", str(port), *args], env)

    def start_worker(self, **env: str) -> Server:
        """``bridge worker`` (no HTTP; its :attr:`Server.url` is empty)."""
        worker = self._launch(["worker"], env)
        worker.url = ""
        return worker

    def _launch(self, command: list[str], extra_env: dict[str, str]) -> Server:
        run = self.directory / f"run-{len(self.started)}"
        run.mkdir()
        ready, log_file = run / "ready", run / "server.log"
        env = {**self.env, **extra_env}
        with log_file.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "bridge", *command, "--ready-file", str(ready)],
                stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            )  # fmt: skip
        wait_until(
            lambda: ready.exists() or process.poll() is not None, START_TIMEOUT, "the ready file"
        )
        if not ready.exists():
            pytest.fail(f"bridge {command[0]} exited with {process.returncode}:\n"
                        f"{log_file.read_text()}")  # fmt: skip
        server = Server(process, ready.read_text(encoding="utf-8"), env, self.data_dir, log_file)
        self.started.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.started:
            if server.process.poll() is None:
                server.stop()


LOG_TAIL = 80


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, add the tail of each server's log to the report (CI shows it)."""
    report = yield
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        for value in funcargs.values():
            if isinstance(value, Servers):
                for number, server in enumerate(value.started):
                    tail = "\n".join(server.log().splitlines()[-LOG_TAIL:])
                    report.sections.append((f"bridge serve #{number} log (tail)", tail))
    return report


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as the_fake:
        yield the_fake


def make_servers(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeGoogle, **settings: str
) -> Iterator[Servers]:
    env = {**clean_environ(), **BASE_ENV, **fake_env(fake), **settings}
    servers = Servers(tmp_path_factory.mktemp("e2e"), env)
    try:
        yield servers
    finally:
        servers.stop_all()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, fake: FakeGoogle) -> Iterator[Servers]:
    yield from make_servers(tmp_path_factory, fake)


@pytest.fixture(scope="module")
def server(servers: Servers) -> Server:
    return servers.start()


# -- the API ------------------------------------------------------------------------------------


class Api:
    """The bridge's REST API as an admin (tokens made with `bridge token create --admin`)."""

    def __init__(self, server: Server, token: str) -> None:
        self.server = server
        self.http = httpx.Client(
            base_url=f"{server.url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
            timeout=30,
        )

    def rebase(self, server: Server) -> None:
        """Talk to another process on the same database (after a restart)."""
        self.server = server
        self.http.base_url = httpx.URL(f"{server.url}/api/v1")

    def ok(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        return response.json() if response.content else None


def admin_token(server: Server) -> str:
    result = server.cli("token", "create", "--admin", "--label", "e2e")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[Api]:
    client = Api(server, admin_token(server))
    yield client
    client.http.close()


@dataclasses.dataclass
class Connected:
    """A fresh provider with a fresh Google account connected through the consent flow."""

    api: Api
    slug: str
    service_id: int
    remote: RemoteCalendar
    calendar_id: int  # the primary calendar's id in the bridge

    def path(self, *parts: object) -> str:
        return "/".join([f"/providers/{self.slug}", *(str(p) for p in parts)])

    def status(self) -> dict[str, Any]:
        calendars = self.api.ok("GET", self.path("sync", "status"))["calendars"]
        return next(c for c in calendars if c["calendar_id"] == self.calendar_id)

    def slots(self, day: dt.date, days: int = 1) -> list[dt.datetime]:
        answer = self.api.ok(
            "GET",
            self.path("slots"),
            params={
                "service": self.service_id,
                "start": day.isoformat(),
                "end": (day + dt.timedelta(days=days - 1)).isoformat(),
            },
        )
        return [dt.datetime.fromisoformat(s["start"]) for s in answer["slots"]]

    def book(self, start: dt.datetime) -> dict[str, Any]:
        body = {
            "service": self.service_id,
            "start": start.isoformat(),
            "client": {"name": "Ada Client", "email": "ada@example.org"},
        }
        response = self.api.http.post(self.path("bookings"), json=body, headers={})
        assert response.status_code == 201, response.text
        booking: dict[str, Any] = response.json()
        return booking

    def booking(self, booking_id: int) -> dict[str, Any]:
        found: dict[str, Any] = self.api.ok("GET", self.path("bookings", booking_id))
        return found


def next_weekday(offset_days: int = 7) -> dt.date:
    """A Monday-to-Friday date ``offset_days`` or a little more ahead (working hours 9-17)."""
    day = dt.datetime.now(ZoneInfo(ZONE)).date() + dt.timedelta(days=offset_days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour:minute`` in the providers' zone."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(ZONE))


def refresh_token_reader(server: Server, provider_slug: str) -> Callable[[], str]:
    """The refresh token the server holds for a provider's Google connection (read-only)."""

    def read() -> str:
        keyring = Keyring([SECRET_KEY], source="e2e")
        store = server.store()
        try:
            with store.read() as session:
                provider = providers.get_provider(session, provider_slug)
                connection = session.scalars(
                    select(Connection).where(Connection.provider_id == provider.id)
                ).one()
                assert connection.credentials is not None
                text = keyring.decrypt(keys.CONNECTOR_CREDENTIALS, connection.credentials)
        finally:
            store.dispose()
        token: str = json.loads(text)["refresh_token"]
        return token

    return read


def connect_new_provider(api: Api, fake: FakeGoogle, *, push: bool = True) -> Connected:
    """A fresh provider (weekdays 9-17, a 30-minute service) and a fresh connected account."""
    slug = f"e2e-{uuid.uuid4().hex[:10]}"
    api.ok(
        "POST",
        "/providers",
        201,
        json={"slug": slug, "name": "Dr. E2E", "email": f"{slug}@example.org", "time_zone": ZONE},
    )
    services = api.ok("GET", f"/providers/{slug}/services")["services"]
    account = fake.add_account(f"{slug}@gmail.example", time_zone=ZONE)
    remote = FakeGoogleCalendar(fake, account, refresh_token_reader(api.server, slug))
    consent = api.ok("POST", f"/providers/{slug}/connections/google")["consent_url"]
    page = remote.approve_consent(consent)
    assert page.status_code == 200, page.text
    assert f"Connected {account.email}" in page.text
    calendars = api.ok("GET", f"/providers/{slug}/connections")["connections"][0]["calendars"]
    primary = next(c for c in calendars if c["primary"])
    connected = Connected(api, slug, services[0]["id"], remote, primary["id"])

    def ready() -> bool:
        status = connected.status()
        return status["last_synced_at"] is not None and (
            not push or status["push_expires_at"] is not None
        )

    wait_until(ready, SYNC_TIMEOUT, "the first pull (and the push channel)")
    return connected
