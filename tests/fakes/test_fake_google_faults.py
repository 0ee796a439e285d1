"""Fault injection on the fake, seen through the real client's retry and timeout handling."""

from __future__ import annotations

import json
import uuid

import google_auth_httplib2
import httplib2
import pytest
from googleapiclient.errors import HttpError

from tests.fakes.google.testing import (  # noqa: F401 - fixtures
    account_fixture,
    calendar_fixture,
    credentials,
    fake_fixture,
    make_service_fixture,
    no_backoff_fixture,
    service_fixture,
    timed,
)


def _posts(fake) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.endswith("/events"))


def test_5xx_is_retried_by_the_client(fake, service, no_backoff):
    fault = fake.faults.add(method="POST", path="/events", status=500, times=2)
    event = service.events().insert(calendarId="primary", body=timed()).execute(num_retries=3)
    assert event["status"] == "confirmed"
    assert _posts(fake) == 3
    assert len(no_backoff) == 2
    assert (fault.hits, fault.remaining) == (2, 0)
    assert fake.faults.active == []


def test_5xx_without_retries_surfaces_googles_error(fake, service, calendar):
    fake.faults.add(path="/events", status=503)
    with pytest.raises(HttpError) as caught:
        service.events().insert(calendarId="primary", body=timed()).execute()
    assert caught.value.resp.status == 503
    assert caught.value.error_details[0]["reason"] == "backendError"
    assert calendar.live_events() == []  # the write did not happen


@pytest.mark.parametrize(
    ("status", "reason", "domain"),
    [(429, None, "usageLimits"), (403, "userRateLimitExceeded", "usageLimits")],
)
def test_rate_limits_carry_retry_after(fake, service, status, reason, domain):
    fake.faults.add(method="GET", status=status, reason=reason, retry_after=7)
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary").execute()
    assert caught.value.resp.status == status
    assert caught.value.resp["retry-after"] == "7"
    error = json.loads(caught.value.content)["error"]
    assert error["code"] == status
    assert error["errors"][0]["domain"] == domain
    assert error["errors"][0]["reason"] == (reason or "rateLimitExceeded")


def test_rate_limit_403_is_retried_but_quota_exceeded_is_not(fake, service):
    fake.faults.add(method="GET", status=403, reason="rateLimitExceeded")
    service.events().list(calendarId="primary").execute(num_retries=2)
    fake.faults.add(method="GET", status=403, reason="quotaExceeded")
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary").execute(num_retries=2)
    assert caught.value.error_details[0]["message"] == "Calendar usage limits exceeded."


def test_delay_makes_the_client_time_out(fake, account, make_service):
    http = google_auth_httplib2.AuthorizedHttp(
        credentials(fake, account), http=httplib2.Http(timeout=0.3)
    )
    service = make_service(account, http=http)
    service.events().list(calendarId="primary").execute()  # token fetched, connection warm
    fake.faults.add(method="GET", path="/events", delay=30)

    with pytest.raises(TimeoutError):
        service.events().list(calendarId="primary").execute()

    assert service.events().list(calendarId="primary").execute()["items"] == []


def test_dropped_connection(fake, service):
    # httplib2 silently resends once when a kept-alive connection closes without an answer,
    # so only a second drop reaches googleapiclient.
    fake.faults.add(method="GET", drop=True)
    assert service.events().list(calendarId="primary").execute()["items"] == []
    fake.faults.add(method="GET", drop=True, times=2)
    with pytest.raises(ConnectionError):
        service.events().list(calendarId="primary").execute()
    fake.faults.add(method="GET", drop=True, times=2)
    assert service.events().list(calendarId="primary").execute(num_retries=1)["items"] == []


def test_lost_answer_after_the_write_makes_the_retry_a_duplicate(fake, service, calendar):
    event_id = uuid.uuid4().hex
    fake.faults.add(method="POST", path="/events", status=503, apply_first=True)
    with pytest.raises(HttpError) as caught:
        service.events().insert(calendarId="primary", body=timed(id=event_id)).execute(
            num_retries=1
        )
    assert caught.value.resp.status == 409
    assert caught.value.error_details[0]["reason"] == "duplicate"
    assert [e["id"] for e in calendar.live_events()] == [event_id]


def test_dropped_answer_after_an_insert_is_resent_by_httplib2(fake, service, calendar):
    event_id = uuid.uuid4().hex
    fake.faults.add(method="POST", path="/events", drop=True, apply_first=True)
    with pytest.raises(HttpError) as caught:
        service.events().insert(calendarId="primary", body=timed(id=event_id)).execute()
    assert caught.value.resp.status == 409
    assert _posts(fake) == 2
    assert [e["id"] for e in calendar.live_events()] == [event_id]


def test_injected_401_makes_the_client_refresh(fake, service):
    service.events().list(calendarId="primary").execute()
    fake.faults.add(method="GET", path="/events", status=401)
    fake.clear_requests()
    service.events().list(calendarId="primary").execute()
    assert [r.path for r in fake.requests] == [
        "/calendar/v3/calendars/primary/events",
        "/token",
        "/calendar/v3/calendars/primary/events",
    ]


def test_injected_410_on_a_list_is_full_sync_required(fake, service):
    fake.faults.add(method="GET", path="/events", status=410)
    with pytest.raises(HttpError) as caught:
        service.events().list(calendarId="primary", syncToken="anything").execute()
    assert caught.value.error_details[0]["reason"] == "fullSyncRequired"
    assert caught.value.error_details[0]["location"] == "syncToken"


def test_token_endpoint_faults_are_retried_by_google_auth(fake, service, no_backoff):
    fake.faults.add(path="/token", status=503)
    service.events().list(calendarId="primary").execute()
    assert [r.path for r in fake.requests].count("/token") == 2


def test_faults_match_method_and_path_and_can_be_withdrawn(fake, service, calendar):
    event = calendar.create_event(timed())
    fault = fake.faults.add(method="DELETE", path=event["id"], status=500)
    service.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert fault.hits == 0
    fault.remove()
    service.events().delete(calendarId="primary", eventId=event["id"]).execute()
    fake.faults.add(path="ada@example.com", status=500)
    with pytest.raises(HttpError):
        service.events().list(calendarId="ada@example.com").execute()
    fake.faults.add(status=500)
    fake.faults.clear()
    service.events().list(calendarId="primary").execute()
    with pytest.raises(ValueError):
        fake.faults.add(method="GET")
