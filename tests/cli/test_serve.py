"""``bridge serve`` as a real process on a real socket: readiness, demo seeding, clean stop."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bridge.booking import providers, tokens
from bridge.booking.secrets import verify_password
from tests.cli.conftest import Database, Invoke, assert_clean_failure
from tests.waiting import wait_until

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


@dataclasses.dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    ready_file: Path
    stdout_file: Path

    def stdout(self) -> str:
        return self.stdout_file.read_text(encoding="utf-8")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_TIMEOUT)


Start = Callable[..., Served]


@pytest.fixture
def start_serve(tmp_path: Path) -> Iterator[Start]:
    """Start ``python -m bridge serve --port 0 ARGS...`` and wait for its ready file."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> Served:
        run = tmp_path / f"run-{len(started)}"
        run.mkdir()
        ready, out, err = run / "ready", run / "stdout.txt", run / "stderr.txt"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "bridge", "serve", "--port", "0", "--ready-file", str(ready),
                 *args],
                stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=os.environ.copy(),
            )  # fmt: skip
        started.append(process)
        wait_until(
            lambda: ready.exists() or process.poll() is not None, START_TIMEOUT, "the ready file"
        )
        if not ready.exists():
            pytest.fail(f"bridge serve exited with {process.returncode}:\n{err.read_text()}")
        return Served(process, ready.read_text(encoding="utf-8"), ready, out)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def provider_count(database: Database) -> int:
    with database.store() as store, store.read() as session:
        return len(providers.list_providers(session))


def test_serve_seeds_the_demo_once_and_serves_its_slots(
    start_serve: Start, sqlite_database: Database, tmp_path: Path
) -> None:
    data_dir = ["--data-dir", str(tmp_path / "data")]
    first = start_serve(*data_dir)

    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", first.url), first.url
    with httpx.Client(base_url=first.url, trust_env=False, timeout=30) as client:
        listed = client.get("/api/v1/providers/demo/services")
        assert listed.status_code == 200, listed.text
        service_id = next(s["id"] for s in listed.json()["services"] if s["name"] == "Appointment")
        response = client.get("/api/v1/providers/demo/slots", params={"service": service_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict) and isinstance(body["slots"], list) and body["slots"]

    printed = first.stdout()
    assert printed.count("Demo data created") == 1
    slots_url = f"{first.url}/api/v1/providers/demo/slots?service={service_id}"
    assert f"Calendar bridge running on {first.url}; demo slots: {slots_url}" in printed
    password = re.search(r"(?m)^  password +(\S+)", printed)
    token = re.search(r"(?m)^  API token +(bat_\S+)", printed)
    assert password and token, printed
    with sqlite_database.store() as store, store.write() as session:
        demo = providers.get_provider(session, "demo")
        assert demo.password_hash and verify_password(demo.password_hash, password[1])
        assert tokens.authenticate(session, token[1]) is not None

    assert first.stop() == 0
    assert not first.ready_file.exists()

    second = start_serve(*data_dir)
    assert second.stop() == 0
    assert "Demo data created" not in second.stdout()
    assert f"demo slots: {second.url}/api/v1/providers/demo/slots?service=" in second.stdout()
    assert provider_count(sqlite_database) == 1


def test_no_demo_seeds_nothing_and_sigint_stops_cleanly(
    start_serve: Start, sqlite_database: Database
) -> None:
    served = start_serve("--no-demo")

    with httpx.Client(base_url=served.url, trust_env=False, timeout=30) as client:
        assert client.get("/api/v1/providers/demo/services").status_code == 404
    assert served.stop(signal.SIGINT) == 0
    assert "Demo data created" not in served.stdout()
    assert "demo slots" not in served.stdout()
    assert provider_count(sqlite_database) == 0


@pytest.mark.postgres
def test_serve_on_postgresql_migrates_and_seeds_no_demo(
    start_serve: Start, monkeypatch: pytest.MonkeyPatch, fresh_postgres_url: str
) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", fresh_postgres_url)

    served = start_serve()

    assert served.stop() == 0
    assert "Demo data created" not in served.stdout()
    assert provider_count(Database("postgresql", fresh_postgres_url)) == 0


def test_a_port_in_use_is_a_clean_error(bridge: Invoke, sqlite_database: Database) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]

        result = bridge("serve", "--port", str(port), "--no-demo")

    assert f"cannot listen on 127.0.0.1:{port}" in assert_clean_failure(result, 1)
