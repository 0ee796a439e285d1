"""``bridge connect google`` and ``bridge sync status|run`` against the fake Google.

The consent callback is the server's job; here the tests play the browser at the fake's consent
page and finish with :func:`bridge.oauth.complete_consent`, the function the callback runs.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from bridge import keys, oauth
from bridge.booking import bookings, providers
from bridge.booking.bookings import ClientDetails
from bridge.settings import load_settings
from bridge.store.sync_models import Connection
from tests.cli.conftest import Database, Invoke, assert_clean_failure
from tests.fakes.google import FakeAccount, FakeGoogle

KEY = "cli-sync-test-key-" + "q" * 40
ZONE = "Europe/Berlin"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as the_fake:
        the_fake.notifications_enabled = False
        yield the_fake


@pytest.fixture
def google_env(monkeypatch: pytest.MonkeyPatch, fake: FakeGoogle, database: Database) -> None:
    """The fake's endpoints and client, a secret key, and plain http allowed (tests only)."""
    for name, value in {
        "BRIDGE_SECRET_KEY": KEY,
        "BRIDGE_PUBLIC_URL": "https://book.example.org",
        "BRIDGE_GOOGLE_CLIENT_ID": fake.client_id,
        "BRIDGE_GOOGLE_CLIENT_SECRET": fake.client_secret,
        "BRIDGE_GOOGLE_API_ENDPOINT": fake.api_endpoint,
        "BRIDGE_GOOGLE_AUTH_URI": fake.auth_uri,
        "BRIDGE_GOOGLE_TOKEN_URI": fake.token_uri,
        "BRIDGE_GOOGLE_REVOKE_URI": fake.revoke_uri,
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def slug(bridge: Invoke, google_env: None) -> str:
    result = bridge(
        "provider", "add", "--slug", "dr-sync", "--name", "Dr. Sync", "--email",
        "sync@example.org", "--timezone", ZONE, "--password-stdin", input="sync-password-1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return "dr-sync"


def consent_url(bridge: Invoke, slug: str) -> str:
    result = bridge("connect", "google", "--provider", slug)
    assert result.exit_code == 0, result.output
    (url,) = result.stdout.splitlines()
    return url


def connect(bridge: Invoke, fake: FakeGoogle, database: Database, slug: str) -> FakeAccount:
    """Connect a new account: the CLI's link, the fake's consent, then the callback's work."""
    account = fake.add_account(f"{slug}-{uuid.uuid4().hex[:6]}@example.com", time_zone=ZONE)
    fake.consenting_account = account
    answer = httpx.get(consent_url(bridge, slug), follow_redirects=False, trust_env=False)
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["location"]).query))
    settings = load_settings()
    with database.store() as store:
        oauth.complete_consent(
            store,
            keys.load_keyring(settings),
            settings,
            kind="google",
            state=back["state"],
            code=back["code"],
            request_pull=lambda _calendar_id: None,
        )
    return account


def status_rows(bridge: Invoke, *args: str) -> list[list[str]]:
    result = bridge("sync", "status", *args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "PROVIDER", "ACCOUNT", "CALENDAR"]
    return [re.split(r"\s{2,}", line) for line in lines[1:]]


def next_monday_at(hour: int) -> dt.datetime:
    day = dt.datetime.now(ZoneInfo(ZONE)).date() + dt.timedelta(days=7)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(ZONE))


def test_connect_prints_the_consent_link_and_says_the_server_finishes(bridge, slug, fake):
    result = bridge("connect", "google", "--provider", slug)

    assert result.exit_code == 0, result.output
    (url,) = result.stdout.splitlines()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith(fake.auth_uri + "?")
    assert query["redirect_uri"] == "https://book.example.org/oauth/google/callback"
    assert "https://book.example.org/oauth/google/callback" in result.stderr
    assert "bridge serve" in result.stderr and "10 minutes" in result.stderr


def test_connect_needs_the_google_client(bridge, slug, monkeypatch):
    monkeypatch.delenv("BRIDGE_GOOGLE_CLIENT_ID")

    result = bridge("connect", "google", "--provider", slug)

    assert "BRIDGE_GOOGLE_CLIENT_ID" in assert_clean_failure(result, 1)


def test_connect_names_an_existing_provider(bridge, google_env):
    result = bridge("connect", "google", "--provider", "nobody")

    assert "provider 'nobody' not found" in assert_clean_failure(result, 1)


def test_status_without_connections_says_how_to_connect(bridge, slug):
    result = bridge("sync", "status")

    assert result.exit_code == 0
    assert "bridge connect google --provider SLUG" in result.stdout


def test_status_shows_each_calendar_and_run_pulls_them(bridge, slug, fake, database):
    account = connect(bridge, fake, database, slug)
    start = next_monday_at(10)
    fake.calendar(account.email).create_event(
        {
            "summary": "Dentist",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + dt.timedelta(hours=1)).isoformat()},
        }
    )
    (before,) = status_rows(bridge, "--provider", slug)
    assert before[1:] == [slug, account.email, account.email, "yes", "yes", "ok", "never", "-", "0"]

    result = bridge("sync", "run", "--provider", slug)

    assert result.exit_code == 0, result.output
    assert f"calendar {before[0]} ({account.email}): full pull" in result.stdout
    assert "1 busy events" in result.stdout
    assert "Calendar writes: 0 done, 0 failed" in result.stdout
    (after,) = status_rows(bridge)
    assert after[6] == "ok" and after[7].endswith("UTC")
    assert "Dentist" not in result.output


def test_run_writes_pending_bookings_to_the_destination(bridge, slug, fake, database):
    account = connect(bridge, fake, database, slug)
    with database.store() as store:
        new = bookings.book(
            store,
            slug,
            _service_id(database, slug),
            next_monday_at(11),
            ClientDetails(name="Ada Client", email="ada@example.org"),
            source="test",
        )
    assert status_rows(bridge)[0][9] == "1"  # pending

    result = bridge("sync", "run")

    assert result.exit_code == 0, result.output
    assert "Calendar writes: 1 done" in result.stdout
    events = fake.calendar(account.email).live_events()
    assert [e["start"]["dateTime"] for e in events] == [
        next_monday_at(11).isoformat(timespec="seconds")
    ]
    assert json.dumps(events).count(new.booking.uid) == 1
    assert status_rows(bridge)[0][9] == "0"


def test_run_of_one_calendar_in_full(bridge, slug, fake, database):
    connect(bridge, fake, database, slug)
    calendar_id = status_rows(bridge)[0][0]
    bridge("sync", "run")

    result = bridge("sync", "run", "--calendar", calendar_id, "--full")

    assert result.exit_code == 0, result.output
    assert f"calendar {calendar_id} (" in result.stdout and "full pull" in result.stdout


def test_run_of_an_unknown_calendar_is_a_clean_error(bridge, slug):
    result = bridge("sync", "run", "--calendar", "99999")

    assert "calendar 99999 not found" in assert_clean_failure(result, 1)


def test_a_revoked_account_fails_the_run_with_its_reason(bridge, slug, fake, database):
    account = connect(bridge, fake, database, slug)
    fake.revoke(_refresh_token(database))
    fake.advance_clock(dt.timedelta(hours=2))  # the access token expired as well
    try:
        result = bridge("sync", "run", "--provider", slug)
    finally:
        fake.advance_clock(-dt.timedelta(hours=2))

    stderr = assert_clean_failure(result, 1)
    assert f"({account.email}): failed:" in result.stdout
    assert "some calendars could not be synced" in stderr
    (row,) = status_rows(bridge)
    assert row[6] == "needs_reauth"


def test_long_imports_show_their_progress(bridge, slug, fake, database, monkeypatch):
    account = connect(bridge, fake, database, slug)
    calendar = fake.calendar(account.email)
    start = next_monday_at(9)
    for week in range(3):
        moment = start + dt.timedelta(weeks=week)
        calendar.create_event(
            {
                "summary": "Busy",
                "start": {"dateTime": moment.isoformat()},
                "end": {"dateTime": (moment + dt.timedelta(minutes=30)).isoformat()},
            }
        )
    # bridge.cli's `sync` attribute is the command; the module is in sys.modules.
    monkeypatch.setattr(importlib.import_module("bridge.cli.sync"), "PROGRESS_AFTER", 0.0)

    result = bridge("sync", "run")

    assert result.exit_code == 0, result.output
    assert re.search(r"Importing calendar \d+ \(.*\): 3 events imported", result.stderr)


def _service_id(database: Database, slug: str) -> int:
    with database.store() as store, store.read() as session:
        return providers.get_provider(session, slug).services[0].id


def _refresh_token(database: Database) -> str:
    keyring = keys.Keyring([KEY], source="test")
    with database.store() as store, store.read() as session:
        connection = session.query(Connection).one()
        assert connection.credentials is not None
        token: str = json.loads(
            keyring.decrypt(keys.CONNECTOR_CREDENTIALS, connection.credentials)
        )["refresh_token"]
    return token
