"""``radicale --config config/radicale.conf`` runs the same plugins on the bridge database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bridge.store import Store
from tests.dav.conftest import event, new_dav_user, put_ics
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "radicale.conf"
READY_TIMEOUT = 30.0
LISTING = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts_connections(process: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    """Whether the server listens; fails the test at once if it exited."""
    if process.poll() is not None:
        pytest.fail(f"radicale exited with {process.returncode}:\n{log.read_text()}")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def radicale_url(store: Store, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_DATABASE_URL"] = store.url
    log = tmp_path / "radicale.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "radicale",
                "--config",
                str(CONFIG),
                "--server-hosts",
                f"127.0.0.1:{port}",
            ],
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: accepts_connections(process, port, log), READY_TIMEOUT, "radicale")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_plain_radicale_serves_the_bridge_calendars_with_the_bridge_plugins(
    store: Store, radicale_url: str
):
    user = new_dav_user(store, radicale_url)
    with httpx.Client(base_url=radicale_url, auth=(user.slug, user.password)) as client:
        listing = client.request(
            "PROPFIND", f"/{user.slug}/", content=LISTING, headers={"Depth": "1"}
        )
        assert listing.status_code == 207
        assert f"/{user.slug}/bookings/" in listing.text and "Bookings" in listing.text
        task = event("t", ":20300601T100000Z", ":20300601T110000Z", component="VTODO")
        assert put_ics(client, f"/{user.slug}/bookings/t.ics", task).status_code == 403
        assert (
            put_ics(client, f"/{user.slug}/busy/x.ics", event("x", ":1", ":2")).status_code == 403
        )
    with httpx.Client(base_url=radicale_url) as anonymous:
        assert anonymous.request("PROPFIND", f"/{user.slug}/").status_code == 401
