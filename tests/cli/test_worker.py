"""``bridge worker`` and ``bridge serve [--no-scheduler]`` as real processes: the scheduler runs
where it should, does the sync work, and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bridge import keys, oauth
from bridge.settings import load_settings
from bridge.store.sync_models import ExternalCalendar
from tests.cli.conftest import Database
from tests.cli.test_serve import START_TIMEOUT, STOP_TIMEOUT, Start
from tests.cli.test_serve import start_serve as start_serve  # the fixture, shared
from tests.conftest import new_provider
from tests.fakes.google import FakeGoogle
from tests.waiting import wait_until

KEY = "cli-worker-test-key-" + "v" * 40


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as the_fake:
        the_fake.notifications_enabled = False
        yield the_fake


@pytest.fixture
def google_env(
    monkeypatch: pytest.MonkeyPatch, fake: FakeGoogle, sqlite_database: Database
) -> None:
    for name, value in {
        "BRIDGE_SECRET_KEY": KEY,
        "BRIDGE_PUBLIC_URL": "http://127.0.0.1:9",
        "BRIDGE_GOOGLE_CLIENT_ID": fake.client_id,
        "BRIDGE_GOOGLE_CLIENT_SECRET": fake.client_secret,
        "BRIDGE_GOOGLE_API_ENDPOINT": fake.api_endpoint,
        "BRIDGE_GOOGLE_AUTH_URI": fake.auth_uri,
        "BRIDGE_GOOGLE_TOKEN_URI": fake.token_uri,
        "BRIDGE_GOOGLE_REVOKE_URI": fake.revoke_uri,
        "BRIDGE_SYNC_RETRY_INTERVAL": "0.5",
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
    }.items():
        monkeypatch.setenv(name, value)


def connected_calendar(fake: FakeGoogle, database: Database) -> int:
    """A provider with a connected account (consent at the fake, the callback's work here)."""
    settings = load_settings()
    keyring = keys.load_keyring(settings)
    account = fake.add_account(f"worker-{uuid.uuid4().hex[:6]}@example.com")
    fake.consenting_account = account
    with database.store() as store:
        store.upgrade()
        provider = new_provider(store)
        with store.write() as session:
            url = oauth.start_consent(
                session, keyring, settings, provider_id=provider.id, kind="google"
            )
        answer = httpx.get(url, follow_redirects=False, trust_env=False)
        back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["location"]).query))
        connection = oauth.complete_consent(
            store,
            keyring,
            settings,
            kind="google",
            state=back["state"],
            code=back["code"],
            request_pull=lambda _calendar_id: None,
        )
    return next(c.id for c in connection.calendars if c.is_primary)


def last_synced(database: Database, calendar_id: int) -> object:
    with database.store() as store, store.read() as session:
        return session.get_one(ExternalCalendar, calendar_id).last_synced_at


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[bytes], Path]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[subprocess.Popen[bytes], Path]:
        ready, log = tmp_path / "worker.ready", tmp_path / "worker.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "bridge", "worker", "--ready-file", str(ready)],
                stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=os.environ.copy(),
            )  # fmt: skip
        started.append(process)
        wait_until(
            lambda: ready.exists() or process.poll() is not None, START_TIMEOUT, "the worker"
        )
        assert ready.exists(), log.read_text()
        return process, log

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def test_the_worker_pulls_due_calendars_and_stops_on_sigterm(
    google_env, fake, sqlite_database, start_worker
):
    calendar_id = connected_calendar(fake, sqlite_database)

    process, log = start_worker()

    wait_until(
        lambda: last_synced(sqlite_database, calendar_id) is not None,
        30,
        "the worker's first pull",
    )
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_TIMEOUT) == 0
    text = log.read_text()
    assert "Sync worker running" in text and "Sync scheduler stopped" in text
    assert "Traceback" not in text


def test_serve_runs_the_scheduler_unless_told_not_to(
    google_env,
    fake,
    sqlite_database,
    start_serve: Start,  # noqa: F811
):
    calendar_id = connected_calendar(fake, sqlite_database)

    web_only = start_serve("--no-scheduler")
    assert web_only.stop() == 0
    assert last_synced(sqlite_database, calendar_id) is None

    served = start_serve()
    wait_until(
        lambda: last_synced(sqlite_database, calendar_id) is not None,
        30,
        "the server's first pull",
    )
    assert served.stop() == 0
