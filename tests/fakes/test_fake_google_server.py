"""The fake as an HTTP server: lifecycle, keep-alive, concurrency, routing, recording."""

from __future__ import annotations

import threading

import httpx

from tests.fakes.google import FakeGoogle
from tests.fakes.google.testing import (  # noqa: F401 - fixtures
    account_fixture,
    build_service,
    credentials,
    fake_fixture,
    list_all,
    make_service_fixture,
    no_backoff_fixture,
    service_fixture,
    timed,
)


def _fake_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("fake-google")}


def test_stop_closes_kept_alive_connections_and_joins_threads(no_backoff):
    before = _fake_threads()
    fake = FakeGoogle()
    fake.start()
    account = fake.add_account("ada@example.com")
    service = build_service(fake, credentials(fake, account))
    service.events().list(calendarId="primary").execute()  # the connection stays open
    assert len(_fake_threads() - before) >= 3  # server, notifier, one connection

    fake.stop()

    assert _fake_threads() - before == set()
    service.close()
    fake.stop()  # stopping twice is harmless


def test_concurrent_clients(fake, account, make_service):
    services = [make_service(account) for _ in range(4)]  # httplib2 is not thread-safe
    failures: list[BaseException] = []

    def insert_ten(service) -> None:
        try:
            for _ in range(10):
                service.events().insert(calendarId="primary", body=timed()).execute()
        except BaseException as exc:  # reported to the test thread
            failures.append(exc)

    threads = [threading.Thread(target=insert_ten, args=(s,)) for s in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    items, _, _ = list_all(services[0])
    assert len({e["id"] for e in items}) == 40
    assert len({e["etag"] for e in items}) == 40


def test_unknown_routes_are_404(fake, account):
    token = fake.issue_access_token(account)
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in (("GET", "calendars/primary/acl"), ("DELETE", "calendars/primary/events")):
        response = httpx.request(method, fake.api_endpoint + path, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["errors"][0]["reason"] == "notFound"
    assert httpx.get(fake.url + "/elsewhere").status_code == 404


def test_requests_are_recorded(fake, service):
    service.events().insert(calendarId="primary", body=timed(summary="rec")).execute()
    recorded = fake.requests[-1]
    assert recorded.method == "POST"
    assert recorded.path == "/calendar/v3/calendars/primary/events"
    assert recorded.query == {"alt": ["json"]}
    assert recorded.headers["content-type"] == "application/json"
    assert recorded.json()["summary"] == "rec"
    fake.clear_requests()
    assert fake.requests == []


def test_calendar_ids_in_paths_are_percent_decoded(fake, account, service):
    team = account.add_calendar("en.german#holiday@group.v.calendar.google.com", "Holidays")
    service.events().insert(calendarId=team.id, body=timed()).execute()
    assert fake.requests[-1].path.endswith(
        "/en.german%23holiday%40group.v.calendar.google.com/events"
    )
    assert len(team.live_events()) == 1
