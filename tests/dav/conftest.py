"""Fixtures for the CalDAV tests: the whole web app on a real socket, and a provider to log in as.

The app (API and Radicale at ``/dav``) runs once per backend in a uvicorn thread bound to port 0;
the fixture waits for uvicorn's own "started" point, not for a while. Every test gets a fresh
provider with a password, so tests never see each other's calendars.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import threading
import uuid
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import caldav
import httpx
import pytest
import uvicorn

from bridge import clock
from bridge.availability import Interval
from bridge.booking import app_passwords, bookings, slots
from bridge.booking.providers import create_provider, get_provider
from bridge.booking.services import get_service
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.models import Provider
from bridge.web import create_app
from tests.conftest import ProviderRef

PASSWORD = "correct horse battery"
ADA = bookings.ClientDetails(name="Ada Lovelace", email="ada@example.org", phone="+44 20 7946 0000")
STARTUP_TIMEOUT = 20.0


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, started: threading.Event) -> None:
        super().__init__(config)
        self._started = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._started.set()


@pytest.fixture(scope="session")
def base_url(store: Store) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of the app over the session's store (per backend)."""
    app = create_app(Settings(), store)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    started = threading.Event()
    server = _Server(
        uvicorn.Config(app, log_config=None, lifespan="off", proxy_headers=False), started
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    if not started.wait(STARTUP_TIMEOUT):
        pytest.fail(f"the app did not start within {STARTUP_TIMEOUT:g} s")
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(STARTUP_TIMEOUT)
    sock.close()


@dataclasses.dataclass(frozen=True)
class DavUser:
    """A provider who logs in over CalDAV, and where their things are."""

    ref: ProviderRef
    base_url: str
    password: str = PASSWORD

    @property
    def slug(self) -> str:
        return self.ref.slug

    @property
    def principal(self) -> str:
        return f"/dav/{self.slug}/"

    def url(self, *parts: str) -> str:
        """``/dav/<slug>/<parts...>`` (a trailing slash when the last part is a collection)."""
        return self.principal + "/".join(parts)

    def http(self, password: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, auth=(self.slug, password or self.password), timeout=30
        )

    def caldav(self, password: str | None = None, url: str | None = None) -> caldav.DAVClient:
        return caldav.DAVClient(
            url=url or f"{self.base_url}/",
            username=self.slug,
            password=password or self.password,
        )


def new_dav_user(store: Store, base_url: str, time_zone: str = "Europe/Berlin") -> DavUser:
    slug = f"d-{uuid.uuid4().hex[:10]}"
    with store.write() as session:
        provider = create_provider(
            session,
            slug=slug,
            name="Dr. Dav",
            email=f"{slug}@example.org",
            time_zone=time_zone,
            password=PASSWORD,
        )
        ref = ProviderRef(provider.id, provider.slug, provider.time_zone, provider.services[0].id)
    return DavUser(ref, base_url)


@pytest.fixture
def user(store: Store, base_url: str) -> DavUser:
    return new_dav_user(store, base_url)


@pytest.fixture
def http(user: DavUser) -> Iterator[httpx.Client]:
    with user.http() as client:
        yield client


def issue_app_password(store: Store, user: DavUser, label: str) -> tuple[int, str]:
    with store.write() as session:
        provider = session.get(Provider, user.ref.id)
        assert provider is not None
        issued = app_passwords.create(session, provider, label)
        return issued.app_password.id, issued.secret


def revoke_app_password(store: Store, user: DavUser, app_password_id: int) -> None:
    with store.write() as session:
        provider = session.get(Provider, user.ref.id)
        assert provider is not None
        app_passwords.revoke(session, provider, app_password_id)


def free_slots(store: Store, user: DavUser, day: dt.date) -> list[dt.datetime]:
    """Starts (UTC) of the slots the booking page offers on a local ``day``, right now."""
    zone = ZoneInfo(user.ref.time_zone)
    with store.read() as session:
        provider = get_provider(session, user.slug)
        service = get_service(session, provider.id, user.ref.service_id)
        window = Interval(
            dt.datetime.combine(day, dt.time(0), tzinfo=zone),
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
        )
        return [
            slot.start for slot in slots.find_slots(session, provider, service, window, clock.now())
        ]


def working_day(weeks_ahead: int = 1, weekday: int = 1) -> dt.date:
    """A date ``weeks_ahead`` weeks from now on ``weekday`` (0 = Monday), inside the horizon."""
    today = clock.now().date()
    start_of_week = today - dt.timedelta(days=today.weekday())
    return start_of_week + dt.timedelta(weeks=weeks_ahead, days=weekday)


def local(user: DavUser, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    zone = ZoneInfo(user.ref.time_zone)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).astimezone(dt.UTC)


def book(store: Store, user: DavUser, start: dt.datetime) -> bookings.NewBooking:
    """A booking made the way the booking page makes it."""
    return bookings.book(store, user.slug, user.ref.service_id, start, ADA, source="web")


def propfind(client: httpx.Client, url: str, body: str, depth: str = "0") -> httpx.Response:
    return client.request(
        "PROPFIND",
        url,
        content=body,
        headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
    )


def report(client: httpx.Client, url: str, body: str, depth: str = "1") -> httpx.Response:
    return client.request(
        "REPORT",
        url,
        content=body,
        headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
    )


def put_ics(
    client: httpx.Client, url: str, text: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """PUT iCalendar ``text`` (written with \\n line ends) to ``url``."""
    sent = {"Content-Type": "text/calendar; charset=utf-8", **(headers or {})}
    return client.put(url, content=text.replace("\n", "\r\n").encode(), headers=sent)


def event(
    uid: str,
    start: str,
    end: str,
    summary: str = "Lunch",
    extra: str = "",
    component: str = "VEVENT",
) -> str:
    """A calendar object with one component; times like ``20260602T120000Z`` or with TZID."""
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//tests//EN\n"
        f"BEGIN:{component}\nUID:{uid}\nDTSTAMP:20260101T000000Z\n"
        f"DTSTART{start}\nDTEND{end}\nSUMMARY:{summary}\n{extra}"
        f"END:{component}\nEND:VCALENDAR\n"
    )


def utc_stamp(instant: dt.datetime) -> str:
    """``:20260602T120000Z`` for DTSTART/DTEND."""
    return ":" + instant.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
