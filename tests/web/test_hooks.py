"""``POST /hooks/google``: channel and token checked, changes pulled in the background, bursts
coalesced, and nothing said to strangers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bridge import jobs, keys
from bridge.store import Store
from bridge.store.sync_models import ExternalCalendar
from bridge.sync.engine import PullResult, SyncEngine
from bridge.web import create_app
from tests.conftest import ProviderRef
from tests.fakes.google import FakeChannel, FakeGoogle
from tests.web.conftest import bearer, issue_token
from tests.web.sync_helpers import PUBLIC_URL, Linked, connect, forget_connections, settings_for

TIMEOUT = 20.0
HOOK = "/hooks/google"


class OnlyThese:
    """The real engine, but timers find no work: only the pulls the hooks ask for run."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.pulls: list[int] = []
        self._lock = threading.Lock()

    def pull_calendar(self, calendar_id: int, *, full: bool = False) -> PullResult | None:
        with self._lock:
            self.pulls.append(calendar_id)
        return self.engine.pull_calendar(calendar_id, full=full)

    def due_calendars(self) -> list[int]:
        return []

    def drain_outbox(self, *, limit: int = 200) -> jobs.DrainOutcome:
        return self.engine.drain_outbox(limit=0)

    def renew_channels(self, address: str) -> int:
        return 0

    def refresh_access(self) -> int:
        return 0

    def extend_recurrences(self) -> int:
        return 0

    def interrupt(self) -> None:
        self.engine.interrupt()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as the_fake:
        the_fake.notifications_enabled = False  # the tests play Google's part themselves
        yield the_fake


@pytest.fixture(autouse=True)
def own_connections_only(store: Store, provider: ProviderRef) -> Iterator[None]:
    """The store is shared by the whole run: leave no connection behind."""
    yield
    forget_connections(store, provider.id)


@pytest.fixture(autouse=True)
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def engine(store: Store, fake: FakeGoogle) -> SyncEngine:
    settings = settings_for(fake)
    return SyncEngine(store, settings, keys.load_keyring(settings))


@pytest.fixture
def work(engine: SyncEngine) -> OnlyThese:
    return OnlyThese(engine)


@pytest.fixture
def app(store: Store, fake: FakeGoogle, engine: SyncEngine, work: OnlyThese) -> Iterator[FastAPI]:
    scheduler = jobs.SyncScheduler(work, engine.settings, scan_interval=3600.0)
    scheduler.start()
    the_app = create_app(engine.settings, store, scheduler=scheduler)
    the_app.state.sync_engine = engine
    try:
        yield the_app
    finally:
        scheduler.stop()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def watched(
    client: TestClient,
    app: FastAPI,
    fake: FakeGoogle,
    store: Store,
    provider: ProviderRef,
    engine: SyncEngine,
    work: OnlyThese,
) -> tuple[Linked, FakeChannel]:
    """A connected account, pulled once, whose primary calendar has a push channel."""
    linked = connect(client, fake, provider, bearer(issue_token(store, provider)))
    assert app.state.scheduler.wait_idle(TIMEOUT)  # the first pull the callback asked for
    assert work.pulls == [linked.primary["id"]]
    work.pulls.clear()
    assert engine.renew_channels(f"{PUBLIC_URL}{HOOK}") >= 1
    channel = next(c for c in reversed(fake.channels) if c.calendar_id == linked.account.email)
    return linked, channel


def headers(channel: FakeChannel, state: str = "exists", number: int = 2) -> dict[str, str]:
    result = {
        "X-Goog-Channel-ID": channel.id,
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": str(number),
    }
    if channel.token is not None:
        result["X-Goog-Channel-Token"] = channel.token
    return result


def pull_requested(store: Store, calendar_id: int) -> bool:
    with store.read() as session:
        requested = session.scalar(
            select(ExternalCalendar.pull_requested_at).where(ExternalCalendar.id == calendar_id)
        )
    return requested is not None


def test_a_change_notification_pulls_the_calendar_in_the_background(
    client, app, watched, work, fake
):
    linked, channel = watched
    fake.clear_requests()

    answer = client.post(HOOK, headers=headers(channel))

    assert answer.status_code == 200 and answer.content == b""
    assert app.state.scheduler.wait_idle(TIMEOUT)
    assert work.pulls == [linked.primary["id"]]
    assert any(r.method == "GET" and r.path.endswith("/events") for r in fake.requests)


def test_the_sync_message_needs_no_pull(client, app, watched, work, store):
    linked, channel = watched

    answer = client.post(HOOK, headers=headers(channel, "sync", 1))

    assert answer.status_code == 200
    assert app.state.scheduler.wait_idle(TIMEOUT)
    assert work.pulls == [] and not pull_requested(store, linked.primary["id"])


@pytest.mark.parametrize(
    "forge",
    [
        lambda h: {**h, "X-Goog-Channel-Token": "not-the-token"},
        lambda h: {k: v for k, v in h.items() if k != "X-Goog-Channel-Token"},
        lambda h: {**h, "X-Goog-Channel-ID": "0d3c6a55-unknown"},
        lambda h: {k: v for k, v in h.items() if k != "X-Goog-Channel-ID"},
    ],
    ids=["wrong token", "no token", "unknown channel", "no channel"],
)
def test_strangers_get_the_404_of_an_unknown_path(client, watched, work, store, forge):
    linked, channel = watched

    answer = client.post(HOOK, headers=forge(headers(channel)))

    assert answer.status_code == 404
    assert answer.json() == client.post("/hooks/nothing-here").json()
    assert work.pulls == [] and not pull_requested(store, linked.primary["id"])


def test_a_burst_of_notifications_gives_one_or_two_pulls(client, app, watched, work, fake):
    linked, channel = watched
    slow = fake.faults.add(method="GET", path="/events", delay=1.0)  # the first pull is slow
    fake.clear_requests()

    for number in range(2, 22):
        assert client.post(HOOK, headers=headers(channel, number=number)).status_code == 200

    assert app.state.scheduler.wait_idle(TIMEOUT)
    assert slow.hits == 1
    assert 1 <= len(work.pulls) <= 2 and set(work.pulls) == {linked.primary["id"]}
    lists = [r for r in fake.requests if r.method == "GET" and r.path.endswith("/events")]
    assert len(lists) <= 3  # never one per message


def test_a_channel_replaced_by_a_newer_one_no_longer_counts(client, watched, engine, fake):
    linked, old = watched
    fake.expire_channel(old.id)
    with engine.store.write() as session:  # due for renewal now
        calendar = session.get_one(ExternalCalendar, linked.primary["id"])
        calendar.channel_expires_at = calendar.channel_expires_at.replace(year=2000)
    assert engine.renew_channels(f"{PUBLIC_URL}{HOOK}") == 1
    new = next(c for c in reversed(fake.channels) if c.calendar_id == linked.account.email)

    assert client.post(HOOK, headers=headers(old)).status_code == 404
    assert client.post(HOOK, headers=headers(new)).status_code == 200
