"""``bridge feed url|rotate|revoke``, the secret key the links need, and the access log of
``bridge serve`` keeping feed tokens out."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bridge.booking import feeds
from tests.cli.conftest import Database, Invoke, assert_clean_failure
from tests.waiting import wait_until

PUBLIC_URL = "https://book.example.org"
KEY = "cli-feed-test-key-" + "c" * 32
LINK = re.compile(r"https?://[^/]+/feeds/([A-Za-z0-9_-]{43})\.ics")


def add_provider(bridge: Invoke) -> str:
    result = bridge(
        "provider", "add", "--slug", "dr-who", "--name", "Dr. Who", "--email", "who@example.org",
        "--timezone", "Europe/London", "--password-stdin", input="tardis-tardis",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return "dr-who"


@pytest.fixture
def provider_slug(bridge: Invoke, database: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    """Provider ``dr-who``; PostgreSQL also gets ``BRIDGE_SECRET_KEY`` (it has no key file)."""
    if database.backend == "postgresql":
        monkeypatch.setenv("BRIDGE_SECRET_KEY", KEY)
    return add_provider(bridge)


def url_lines(bridge: Invoke, *args: str) -> list[str]:
    result = bridge("feed", "url", "--provider", "dr-who", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def token_of(url: str) -> str:
    match = LINK.fullmatch(url)
    assert match, url
    return match[1]


def is_live(database: Database, token: str) -> bool:
    with database.store() as store, store.read() as session:
        return feeds.find_live(session, token) is not None


def test_url_prints_the_https_and_webcal_links_from_the_public_url(
    bridge: Invoke, database: Database, provider_slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_PUBLIC_URL", PUBLIC_URL)

    result = bridge("feed", "url", "--provider", provider_slug)

    assert result.exit_code == 0, result.output
    https, webcal = result.stdout.splitlines()
    assert https.startswith(f"{PUBLIC_URL}/feeds/") and token_of(https)
    assert webcal == https.replace("https://", "webcal://", 1)
    assert "first name" in result.stderr and "anyone with the link" in result.stderr
    assert is_live(database, token_of(https))
    assert url_lines(bridge) == [https, webcal]  # shown again, not replaced


def test_without_a_public_url_the_links_use_host_and_port(
    bridge: Invoke, database: Database, provider_slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_PORT", "9100")

    http, webcal = url_lines(bridge)

    assert http.startswith("http://127.0.0.1:9100/feeds/")
    assert webcal.startswith("webcal://127.0.0.1:9100/feeds/")


def test_the_busy_only_feed_has_its_own_link(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    full = url_lines(bridge)[0]

    result = bridge("feed", "url", "--provider", provider_slug, "--busy-only")

    assert result.exit_code == 0, result.output
    busy = result.stdout.splitlines()[0]
    assert token_of(busy) != token_of(full)
    assert "no client data" in result.stderr
    with database.store() as store, store.read() as session:
        row = feeds.find_live(session, token_of(busy))
        assert row is not None and row.kind == "busy"


def test_rotate_replaces_the_link_and_the_old_one_dies(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    old = token_of(url_lines(bridge)[0])
    busy = token_of(url_lines(bridge, "--busy-only")[0])

    result = bridge("feed", "rotate", "--provider", provider_slug)

    assert result.exit_code == 0, result.output
    new = token_of(result.stdout.splitlines()[0])
    assert new != old
    assert "old one is dead" in result.stderr
    assert not is_live(database, old) and is_live(database, new) and is_live(database, busy)
    assert token_of(url_lines(bridge)[0]) == new


def test_revoke_ends_the_link(bridge: Invoke, database: Database, provider_slug: str) -> None:
    busy = token_of(url_lines(bridge, "--busy-only")[0])

    result = bridge("feed", "revoke", "--provider", provider_slug, "--busy-only")
    again = bridge("feed", "revoke", "--provider", provider_slug, "--busy-only")

    assert result.exit_code == 0 and "Revoked the busy feed link of dr-who" in result.stdout
    assert again.exit_code == 0 and "nothing to revoke" in again.stdout
    assert not is_live(database, busy)
    assert token_of(url_lines(bridge, "--busy-only")[0]) != busy


def test_an_unknown_provider_is_a_clean_failure(bridge: Invoke, sqlite_database: Database) -> None:
    for command in ("url", "rotate", "revoke"):
        result = bridge("feed", command, "--provider", "nobody")

        assert "provider 'nobody' not found" in assert_clean_failure(result, 1)


def test_the_embedded_default_creates_a_private_key_file(
    bridge: Invoke, sqlite_database: Database
) -> None:
    add_provider(bridge)
    url_lines(bridge)

    key_file = sqlite_database.sqlite_file.parent / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_replaced_key_says_the_link_cannot_be_shown_and_rotate_helps(
    bridge: Invoke, database: Database, provider_slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_SECRET_KEY", KEY)
    old = token_of(url_lines(bridge)[0])
    monkeypatch.setenv("BRIDGE_SECRET_KEY", "a-brand-new-key-" + "n" * 32)

    result = bridge("feed", "url", "--provider", provider_slug)

    message = assert_clean_failure(result, 1)
    assert "cannot be shown again" in message and "The link still works" in message
    assert "bridge feed rotate --provider dr-who" in message
    assert is_live(database, old)
    new = bridge("feed", "rotate", "--provider", provider_slug)
    assert new.exit_code == 0 and token_of(new.stdout.splitlines()[0]) != old


def test_a_rotated_key_still_shows_the_link(
    bridge: Invoke, database: Database, provider_slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_SECRET_KEY", KEY)
    link = url_lines(bridge)
    monkeypatch.setenv("BRIDGE_SECRET_KEY", f"{'n' * 40},{KEY}")

    assert url_lines(bridge) == link


@pytest.mark.postgres
def test_postgresql_without_a_secret_key_is_a_clean_config_error(
    bridge: Invoke, monkeypatch: pytest.MonkeyPatch, fresh_postgres_url: str
) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", fresh_postgres_url)

    result = bridge("feed", "url", "--provider", "dr-who")

    message = assert_clean_failure(result, 2)
    assert "secret_key" in message and "BRIDGE_SECRET_KEY" in message


def test_serve_keeps_feed_tokens_out_of_its_access_log(
    bridge: Invoke, sqlite_database: Database, tmp_path: Path
) -> None:
    add_provider(bridge)
    token = token_of(url_lines(bridge)[0])
    ready, err = tmp_path / "ready", tmp_path / "stderr.txt"
    with err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve", "--port", "0", "--no-demo",
             "--ready-file", str(ready)],
            stdout=subprocess.DEVNULL, stderr=stderr, stdin=subprocess.DEVNULL,
            env=os.environ.copy(),
        )  # fmt: skip
    try:
        wait_until(lambda: ready.exists() or process.poll() is not None, 60, "the ready file")
        assert ready.exists(), err.read_text()
        with httpx.Client(base_url=ready.read_text(), trust_env=False, timeout=30) as client:
            assert client.get(f"/feeds/{token}.ics").status_code == 200
            assert client.get(f"/elsewhere?token={token}").status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0

    log = err.read_text()
    assert '"GET /feeds/<redacted> HTTP/1.1" 200' in log
    assert '"GET /elsewhere?token=<redacted> HTTP/1.1" 404' in log
    assert token not in log
