"""The Google connector against the fake Google: the contract, then what is Google's own."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bridge import connectors
from bridge.availability import Interval
from bridge.connectors import google, google_events
from bridge.connectors.base import Blocking, PushChannel, RemoteDeletion, RemoteEvent
from bridge.connectors.errors import (
    CursorExpired,
    NeedsReauth,
    RateLimited,
    RemoteNotFound,
    RemoteRejected,
    Transient,
)
from bridge.connectors.google_errors import QUOTA_RETRY_AFTER
from bridge.errors import ConfigError
from bridge.settings import Settings
from tests.connectors.conftest import credentials_for, google_settings_for
from tests.connectors.contract import (
    RETRY_AFTER,
    ConnectorContract,
    Failure,
    Operation,
    RemoteDriver,
    at,
    booking,
    changes_by_id,
    final_cursor,
    pull_all,
)
from tests.fakes.google import FakeAccount, FakeGoogle

# The requests of each operation, as (method, path substring) for the fake's faults.
_ROUTES = {
    Operation.LIST_CALENDARS: ("GET", "/users/me/calendarList"),
    Operation.PULL: ("GET", "/events"),
    Operation.GET: ("GET", "/events/"),
    Operation.CREATE: ("POST", "/events"),
    Operation.UPDATE: ("PATCH", "/events/"),
    Operation.DELETE: ("DELETE", "/events/"),
    Operation.FREE_BUSY: ("POST", "/freeBusy"),
}


class GoogleDriver(RemoteDriver):
    def __init__(
        self, fake: FakeGoogle, account: FakeAccount, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.fake = fake
        self.account = account
        self.address = account.email
        self.calendar = account.email
        self.refresh_token = fake.issue_refresh_token(account)
        self._monkeypatch = monkeypatch

    def connector(self, *, timeout: float | None = None) -> google.GoogleConnector:
        settings = google_settings_for(self.fake, timeout=timeout or 2.0)
        return google.from_credentials(settings, credentials_for(self.refresh_token))

    def add_calendar(self, name: str, *, writable: bool) -> str:
        if writable:
            calendar_id = f"{uuid.uuid4().hex}@group.calendar.google.com"
            return self.account.add_calendar(calendar_id, name).id
        owner = self.fake.add_account(f"colleague.{uuid.uuid4().hex[:10]}@example.com")
        self.account.add_calendar(owner.email, name, access_role="reader")
        return owner.email

    def add_event(
        self, start: dt.datetime, end: dt.datetime, *, summary: str = "Dentist", free: bool = False
    ) -> str:
        body: dict[str, Any] = {
            "summary": summary,
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": end.isoformat()},
        }
        if free:
            body["transparency"] = "transparent"
        return str(self.fake.calendar(self.calendar).create_event(body)["id"])

    def move_event(self, remote_id: str, start: dt.datetime, end: dt.datetime) -> None:
        changes = {"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}}
        self.fake.calendar(self.calendar).patch_event(remote_id, changes)

    def delete_event(self, remote_id: str) -> None:
        self.fake.calendar(self.calendar).delete_event(remote_id)

    def live_ids(self) -> set[str]:
        return {e["id"] for e in self.fake.calendar(self.calendar).live_events()}

    def marker_of(self, remote_id: str) -> str | None:
        event = self.fake.calendar(self.calendar).get_event(remote_id)
        assert event is not None
        private = event.get("extendedProperties", {}).get("private", {})
        return str(private["bridgeBookingUid"]) if "bridgeBookingUid" in private else None

    def expire_cursor(self) -> None:
        self.fake.calendar(self.calendar).expire_sync_tokens()

    def paginate(self) -> None:
        self.fake.short_pages = True
        self._monkeypatch.setattr(google, "PAGE_SIZE", 2)

    def fail(self, failure: Failure, operation: Operation) -> None:
        method, path = _ROUTES[operation]
        match failure:
            case Failure.SERVER_ERROR:
                self.fake.faults.add(method=method, path=path, status=503)
            case Failure.RATE_LIMITED:
                self.fake.faults.add(method=method, path=path, status=429, retry_after=RETRY_AFTER)
            case Failure.TIMEOUT:
                self.fake.faults.add(method=method, path=path, delay=1.0)
            case Failure.LOST_ANSWER:
                # httplib2 replays a request once when the connection drops before an answer.
                self.fake.faults.add(method=method, path=path, drop=True, apply_first=True, times=2)

    def revoke(self) -> None:
        self.fake.revoke(self.refresh_token)

    def delete_calendar(self) -> None:
        self.fake.calendar(self.calendar).delete_calendar()


@pytest.fixture
def driver(
    fake_google: FakeGoogle, account: FakeAccount, monkeypatch: pytest.MonkeyPatch
) -> GoogleDriver:
    return GoogleDriver(fake_google, account, monkeypatch)


class TestGoogleContract(ConnectorContract):
    pass


# -- building ----------------------------------------------------------------------------------


def test_the_registry_builds_a_google_connector(
    google_settings: Settings, driver: GoogleDriver
) -> None:
    built = connectors.build_connector(
        "google", google_settings, credentials_for(driver.refresh_token)
    )

    assert isinstance(built, google.GoogleConnector)
    assert (built.kind, built.supports_push) == ("google", True)
    assert built.account() == driver.address


@pytest.mark.parametrize(
    "stored", ["", "{}", "[1]", '{"refresh_token": ""}', '{"refresh_token": "x", "expiry": 3}']
)
def test_unusable_credentials_need_reauthorisation(google_settings: Settings, stored: str) -> None:
    with pytest.raises(NeedsReauth):
        google.from_credentials(google_settings, stored)


def test_without_an_oauth_client_there_is_no_connector(driver: GoogleDriver) -> None:
    with pytest.raises(ConfigError):
        google.from_credentials(Settings(), credentials_for(driver.refresh_token))


# -- mapping what a pull sees ------------------------------------------------------------------


def _pull_one(driver: GoogleDriver, body: dict[str, Any]) -> RemoteEvent:
    remote_id = driver.fake.calendar(driver.calendar).create_event(body)["id"]
    change = changes_by_id(pull_all(driver.connector(), driver.calendar, None))[remote_id]
    assert isinstance(change, RemoteEvent)
    return change


def _timed(**fields: Any) -> dict[str, Any]:
    return {
        "summary": "Something",
        "start": {"dateTime": "2030-06-04T10:00:00+02:00"},
        "end": {"dateTime": "2030-06-04T11:00:00+02:00"},
        **fields,
    }


def _me(driver: GoogleDriver, answer: str) -> list[dict[str, str]]:
    return [
        {"email": "organiser@example.org", "responseStatus": "accepted"},
        {"email": driver.address, "responseStatus": answer},
    ]


@pytest.mark.parametrize(
    ("fields", "blocks"),
    [
        ({}, Blocking.BUSY),
        ({"transparency": "transparent"}, Blocking.FREE),
        ({"status": "tentative"}, Blocking.BUSY),
        ({"eventType": "outOfOffice"}, Blocking.BUSY),
        ({"eventType": "focusTime"}, Blocking.BUSY),
        ({"eventType": "workingLocation", "transparency": "transparent"}, Blocking.FREE),
        ({"eventType": "workingLocation"}, Blocking.FREE),
    ],
)
def test_pull_maps_what_an_event_does_to_availability(
    driver: GoogleDriver, fields: dict[str, Any], blocks: Blocking
) -> None:
    assert _pull_one(driver, _timed(**fields)).blocks == blocks


@pytest.mark.parametrize(
    ("answer", "blocks"),
    [
        ("declined", Blocking.FREE),
        ("needsAction", Blocking.UNANSWERED),
        ("tentative", Blocking.BUSY),
        ("accepted", Blocking.BUSY),
    ],
)
def test_pull_maps_the_owners_answer_to_an_invitation(
    driver: GoogleDriver, answer: str, blocks: Blocking
) -> None:
    assert _pull_one(driver, _timed(attendees=_me(driver, answer))).blocks == blocks


def test_pull_maps_a_timed_event(driver: GoogleDriver) -> None:
    start = {"dateTime": "2030-06-04T03:00:00-04:00", "timeZone": "America/New_York"}

    event = _pull_one(driver, _timed(start=start))

    assert event.start == dt.datetime(2030, 6, 4, 7, tzinfo=dt.UTC)
    assert isinstance(event.start, dt.datetime) and event.start.tzinfo is not None
    assert event.end == dt.datetime(2030, 6, 4, 9, tzinfo=dt.UTC)
    assert event.time_zone == "America/New_York"
    assert event.ident == f"{event.remote_id}@google.com"
    assert (event.marker, event.recurrence, event.series_id) == (None, (), None)
    assert not event.all_day


def test_pull_maps_an_all_day_event_with_the_calendars_zone(driver: GoogleDriver) -> None:
    event = _pull_one(
        driver,
        {"summary": "Holiday", "start": {"date": "2030-06-04"}, "end": {"date": "2030-06-06"}},
    )

    assert (event.start, event.end) == (dt.date(2030, 6, 4), dt.date(2030, 6, 6))
    assert event.all_day
    assert event.time_zone == "Europe/Berlin"


def test_pull_maps_a_series_its_moved_exception_and_its_cancelled_occurrence(
    driver: GoogleDriver,
) -> None:
    calendar = driver.fake.calendar(driver.calendar)
    series = calendar.create_event(
        {
            "summary": "Weekly",
            "start": {"dateTime": "2030-06-04T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2030-06-04T10:00:00", "timeZone": "Europe/Berlin"},
            "recurrence": [
                "RRULE:FREQ=WEEKLY;COUNT=5",
                "EXDATE;TZID=Europe/Berlin:20300618T090000",
            ],
        }
    )["id"]
    second = f"{series}_20300611T070000Z"
    fourth = f"{series}_20300625T070000Z"
    calendar.patch_event(
        second,
        {
            "start": {"dateTime": "2030-06-11T15:00:00+02:00"},
            "end": {"dateTime": "2030-06-11T16:00:00+02:00"},
        },
    )
    calendar.delete_event(fourth)

    changes = changes_by_id(pull_all(driver.connector(), driver.calendar, None))

    master = changes[series]
    assert isinstance(master, RemoteEvent)
    assert master.recurrence == (
        "RRULE:FREQ=WEEKLY;COUNT=5",
        "EXDATE;TZID=Europe/Berlin:20300618T090000",
    )
    assert master.time_zone == "Europe/Berlin"
    assert master.start == dt.datetime(2030, 6, 4, 7, tzinfo=dt.UTC)
    moved = changes[second]
    assert isinstance(moved, RemoteEvent)
    assert moved.series_id == series
    assert moved.original_start == dt.datetime(2030, 6, 11, 7, tzinfo=dt.UTC)
    assert moved.start == dt.datetime(2030, 6, 11, 13, tzinfo=dt.UTC)
    assert moved.ident == master.ident
    assert changes[fourth] == RemoteDeletion(
        fourth, series_id=series, original_start=dt.datetime(2030, 6, 25, 7, tzinfo=dt.UTC)
    )
    assert set(changes) == {series, second, fourth}


def test_incremental_pull_sees_a_deleted_series_as_a_deletion(driver: GoogleDriver) -> None:
    connector = driver.connector()
    series = driver.fake.calendar(driver.calendar).create_event(
        {
            "summary": "Daily",
            "start": {"dateTime": "2030-06-04T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2030-06-04T10:00:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
        }
    )["id"]
    cursor = final_cursor(pull_all(connector, driver.calendar, None))
    driver.delete_event(series)

    changes = changes_by_id(pull_all(connector, driver.calendar, cursor))

    assert changes[series] == RemoteDeletion(series)


def test_an_event_that_cannot_be_mapped_is_skipped_and_the_rest_goes_on(
    driver: GoogleDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = driver.add_event(at(8), at(9))
    good = driver.add_event(at(10), at(11))
    mapped = google_events.to_change

    def picky(item: Any, zone: str | None) -> Any:
        if item["id"] == bad:
            raise google_events.Unmappable("the event has no start")
        return mapped(item, zone)

    monkeypatch.setattr(google_events, "to_change", picky)

    pages = pull_all(driver.connector(), driver.calendar, None)

    assert set(changes_by_id(pages)) == {good}
    skipped = [s for page in pages for s in page.skipped]
    assert [(s.remote_id, s.reason) for s in skipped] == [(bad, "the event has no start")]
    final_cursor(pages)


# -- what every write sends ----------------------------------------------------------------------


def _api_writes(fake: FakeGoogle) -> list[Any]:
    return [
        r
        for r in fake.requests
        if r.method in ("POST", "PATCH", "PUT", "DELETE") and "/events" in r.path
    ]


def test_writes_notify_nobody_and_carry_no_attendees(driver: GoogleDriver) -> None:
    connector = driver.connector()
    first = connector.create_event(driver.calendar, booking())
    driver.delete_event(first.remote_id)
    second = connector.create_event(driver.calendar, booking())  # 409, then un-delete
    moved = connector.update_event(
        driver.calendar, second.remote_id, booking(start=at(15)), etag=second.etag
    )
    connector.delete_event(driver.calendar, moved.remote_id, etag=moved.etag)

    writes = _api_writes(driver.fake)
    assert [w.method for w in writes] == ["POST", "POST", "PATCH", "PATCH", "DELETE"]
    for write in writes:
        assert write.query.get("sendUpdates") == ["none"], write
        if write.body:
            assert "attendees" not in write.json()


def test_create_sends_the_booking_with_a_stable_id_and_our_marker(driver: GoogleDriver) -> None:
    event = booking("uid-42@bridge")

    written = driver.connector().create_event(driver.calendar, event)

    (insert,) = _api_writes(driver.fake)
    body = insert.json()
    assert body["id"] == written.remote_id == google_events.event_id("uid-42@bridge")
    assert len(body["id"]) >= 5 and set(body["id"]) <= set("0123456789abcdefghijklmnopqrstuv")
    assert body["transparency"] == "opaque"
    assert body["reminders"] == {"useDefault": True}
    assert body["extendedProperties"] == {
        "private": {"bridgeBookingUid": "uid-42@bridge", "bridge": "1"}
    }
    assert body["start"] == {"dateTime": "2030-06-04T11:00:00+02:00", "timeZone": "Europe/Berlin"}
    assert (body["summary"], body["description"]) == (event.summary, event.description)


def test_conditional_writes_send_if_match(driver: GoogleDriver) -> None:
    connector = driver.connector()
    first = connector.create_event(driver.calendar, booking())
    moved = connector.update_event(
        driver.calendar, first.remote_id, booking(start=at(15)), etag=first.etag
    )
    connector.update_event(driver.calendar, first.remote_id, booking(start=at(16)), etag=None)
    connector.delete_event(driver.calendar, first.remote_id, etag=None)

    patch, unconditional, delete = _api_writes(driver.fake)[1:]
    assert patch.headers["if-match"] == first.etag
    assert moved.etag != first.etag
    assert "if-match" not in unconditional.headers
    assert "if-match" not in delete.headers


def test_create_restores_a_booking_the_owner_changed_and_deleted(driver: GoogleDriver) -> None:
    connector = driver.connector()
    first = connector.create_event(driver.calendar, booking())
    driver.move_event(first.remote_id, at(17), at(18))
    driver.delete_event(first.remote_id)

    written = connector.create_event(driver.calendar, booking())

    stored = driver.fake.calendar(driver.calendar).get_event(written.remote_id)
    assert stored is not None and stored["status"] == "confirmed"
    assert written.start == at(9)
    patch = _api_writes(driver.fake)[-1]
    assert patch.method == "PATCH" and patch.headers["if-match"]


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [(403, "rateLimitExceeded"), (403, "userRateLimitExceeded"), (429, "rateLimitExceeded")],
)
def test_rate_limits_are_rate_limited_with_retry_after(
    driver: GoogleDriver, status: int, reason: str
) -> None:
    driver.fake.faults.add(path="/events", status=status, reason=reason, retry_after=12)

    with pytest.raises(RateLimited) as raised:
        pull_all(driver.connector(), driver.calendar, None)
    assert raised.value.retry_after == 12


def test_a_rate_limit_without_a_hint_has_no_retry_after(driver: GoogleDriver) -> None:
    driver.fake.faults.add(path="/events", status=429)

    with pytest.raises(RateLimited) as raised:
        pull_all(driver.connector(), driver.calendar, None)
    assert raised.value.retry_after is None


def test_exhausted_quota_waits_long(driver: GoogleDriver) -> None:
    driver.fake.faults.add(path="/events", status=403, reason="quotaExceeded")

    with pytest.raises(RateLimited) as raised:
        pull_all(driver.connector(), driver.calendar, None)
    assert raised.value.retry_after == QUOTA_RETRY_AFTER


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [
        (500, None, Transient),
        (502, None, Transient),
        (410, "fullSyncRequired", CursorExpired),
        (404, None, RemoteNotFound),
        (400, "invalid", RemoteRejected),
        (403, "forbidden", RemoteRejected),
        (403, "insufficientPermissions", NeedsReauth),
    ],
)
def test_error_answers_are_translated(
    driver: GoogleDriver, status: int, reason: str | None, error: type[Exception]
) -> None:
    driver.fake.faults.add(path="/events", status=status, reason=reason)

    with pytest.raises(error) as raised:
        pull_all(driver.connector(), driver.calendar, None)
    assert type(raised.value) is error
    assert str(status) in str(raised.value)


def test_an_access_token_refused_once_is_renewed_transparently(driver: GoogleDriver) -> None:
    driver.fake.faults.add(path="/events", status=401, reason="authError")

    assert final_cursor(pull_all(driver.connector(), driver.calendar, None))


def test_an_access_token_refused_after_renewal_needs_reauthorisation(
    driver: GoogleDriver,
) -> None:
    # google-auth renews and replays twice before giving up.
    driver.fake.faults.add(path="/events", status=401, reason="authError", times=3)

    with pytest.raises(NeedsReauth):
        pull_all(driver.connector(), driver.calendar, None)


def test_a_failing_token_endpoint_is_transient(driver: GoogleDriver) -> None:
    driver.fake.faults.add(path="/token", drop=True, times=2)

    with pytest.raises(Transient):
        driver.connector().account()


def test_a_dropped_connection_is_transient_and_not_replayed_more_than_once(
    driver: GoogleDriver,
) -> None:
    connector = driver.connector()
    connector.account()  # the access token is renewed first
    handle = driver.fake.faults.add(method="GET", path="/events", drop=True, times=3)

    with pytest.raises(Transient):
        pull_all(connector, driver.calendar, None)
    assert handle.hits == 2


def test_free_busy_of_a_calendar_google_cannot_read_is_transient(driver: GoogleDriver) -> None:
    connector = driver.connector()

    with pytest.raises(Transient):
        connector.free_busy(
            [driver.calendar, "nobody@example.com"], Interval(at(0), at(0, days=1)), timeout=2.0
        )


def test_free_busy_of_no_calendars_asks_nothing(driver: GoogleDriver) -> None:
    assert driver.connector().free_busy([], Interval(at(0), at(1)), timeout=1.0) == {}
    assert driver.fake.requests == []


def test_every_call_logs_one_line_without_tokens(
    driver: GoogleDriver, caplog: pytest.LogCaptureFixture
) -> None:
    connector = driver.connector()
    caplog.set_level(logging.INFO, logger="bridge.connectors.google")

    written = connector.create_event(driver.calendar, booking())
    connector.get_event(driver.calendar, written.remote_id)

    lines = [r.getMessage() for r in caplog.records if r.name == "bridge.connectors.google"]
    assert lines == [
        f"Google events.insert calendar={driver.calendar} id={written.remote_id} -> ok",
        f"Google events.get calendar={driver.calendar} id={written.remote_id} -> ok",
    ]
    stored = json.loads(connector.credentials() or "{}")
    text = caplog.text
    assert driver.refresh_token not in text
    assert stored["access_token"] not in text


# -- push ------------------------------------------------------------------------------------


class _Receiver(http.server.ThreadingHTTPServer):
    """A webhook on 127.0.0.1 that records the headers of each notification."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(handler) -> None:  # noqa: N805
                self.received.append({k.lower(): v for k, v in handler.headers.items()})
                handler.send_response(200)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args: Any) -> None:  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/google"


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_start_channel_watches_the_calendar(driver: GoogleDriver, receiver: _Receiver) -> None:
    connector = driver.connector()
    channel_id = str(uuid.uuid4())

    channel = connector.start_channel(
        driver.calendar,
        address=receiver.address,
        channel_id=channel_id,
        token="conn=7",
        ttl=dt.timedelta(hours=2),
    )

    (fake_channel,) = [c for c in driver.fake.channels if c.id == channel_id]
    expiration = fake_channel.expiration  # sent as whole milliseconds
    expiration = expiration.replace(microsecond=expiration.microsecond // 1000 * 1000)
    assert channel == PushChannel(channel_id, fake_channel.resource_id, expiration)
    assert abs(channel.expires_at - (driver.fake.now() + dt.timedelta(hours=2))) < dt.timedelta(
        minutes=1
    )
    watch = next(r for r in driver.fake.requests if r.path.endswith("/events/watch"))
    assert watch.json()["params"] == {"ttl": "7200"}
    assert watch.json()["type"] == "web_hook"
    driver.fake.wait_for_notifications()
    (sync,) = receiver.received
    assert sync["x-goog-resource-state"] == "sync"
    assert sync["x-goog-channel-token"] == "conn=7"


def test_stop_channel_stops_it_and_a_second_stop_is_fine(driver: GoogleDriver) -> None:
    driver.fake.notifications_enabled = False
    connector = driver.connector()
    channel = connector.start_channel(
        driver.calendar,
        address="https://bridge.example/hooks/google",
        channel_id=str(uuid.uuid4()),
        token="conn=7",
        ttl=dt.timedelta(days=7),
    )

    connector.stop_channel(channel)
    connector.stop_channel(channel)

    (fake_channel,) = [c for c in driver.fake.channels if c.id == channel.channel_id]
    assert fake_channel.stopped


def test_watching_a_deleted_calendar_raises_remote_not_found(driver: GoogleDriver) -> None:
    driver.fake.notifications_enabled = False
    driver.delete_calendar()

    with pytest.raises(RemoteNotFound):
        driver.connector().start_channel(
            driver.calendar,
            address="https://bridge.example/hooks/google",
            channel_id=str(uuid.uuid4()),
            token="t",
            ttl=dt.timedelta(days=1),
        )


# -- tokens ----------------------------------------------------------------------------------


def _connector_with_access_token(driver: GoogleDriver, lifetime: int) -> google.GoogleConnector:
    token = driver.fake.issue_access_token(driver.account, lifetime=lifetime)
    expiry = driver.fake.now() + dt.timedelta(seconds=lifetime)
    stored = {
        "refresh_token": driver.refresh_token,
        "access_token": token,
        "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scopes": ["https://www.googleapis.com/auth/calendar"],
    }
    return google.from_credentials(google_settings_for(driver.fake), json.dumps(stored))


def test_refresh_access_renews_a_token_about_to_expire(driver: GoogleDriver) -> None:
    connector = _connector_with_access_token(driver, lifetime=120)
    before = json.loads(connector.credentials() or "null")

    connector.refresh_access()

    assert before is None
    assert [r.path for r in driver.fake.requests] == ["/token"]
    stored = json.loads(connector.credentials() or "{}")
    assert stored["refresh_token"] == driver.refresh_token
    expiry = dt.datetime.fromisoformat(stored["expiry"])
    assert expiry > driver.fake.now() + dt.timedelta(minutes=30)
    assert connector.account() == driver.address  # the new token works
    assert [r.path for r in driver.fake.requests].count("/token") == 1


def test_refresh_access_leaves_a_fresh_token_alone(driver: GoogleDriver) -> None:
    connector = _connector_with_access_token(driver, lifetime=3600)

    connector.refresh_access()
    connector.account()

    assert "/token" not in [r.path for r in driver.fake.requests]
    assert connector.credentials() is None


def test_refresh_access_after_revocation_needs_reauthorisation(driver: GoogleDriver) -> None:
    connector = _connector_with_access_token(driver, lifetime=60)
    driver.revoke()

    with pytest.raises(NeedsReauth):
        connector.refresh_access()


def test_credentials_after_a_renewal_on_use_carry_the_new_token(driver: GoogleDriver) -> None:
    connector = driver.connector()  # stored without an access token

    connector.account()

    stored = json.loads(connector.credentials() or "{}")
    assert stored["access_token"]
    assert stored["scopes"] == ["https://www.googleapis.com/auth/calendar"]
    again = google.from_credentials(google_settings_for(driver.fake), json.dumps(stored))
    driver.fake.clear_requests()
    assert again.account() == driver.address
    assert "/token" not in [r.path for r in driver.fake.requests]


def test_the_connector_closes_its_connections(driver: GoogleDriver) -> None:
    connector = driver.connector()
    connector.account()

    connector.close()
    connector.close()
