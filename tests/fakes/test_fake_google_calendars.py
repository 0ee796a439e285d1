"""calendarList, access roles, deleted calendars and freeBusy on the fake."""

from __future__ import annotations

import pytest
from googleapiclient.errors import HttpError

from tests.fakes.google.testing import (  # noqa: F401 - fixtures
    account_fixture,
    calendar_fixture,
    fake_fixture,
    make_service_fixture,
    no_backoff_fixture,
    service_fixture,
    timed,
)

WINDOW = {"timeMin": "2026-03-02T00:00:00+01:00", "timeMax": "2026-03-03T00:00:00+01:00"}


def _status(call) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.resp.status, caught.value.error_details[0]["reason"]


@pytest.fixture
def shared(fake, account):
    """Bob's calendar, shared with Ada read-only."""
    bob = fake.add_account("bob@example.com", time_zone="America/New_York")
    account.add_calendar("bob@example.com", "Bob", access_role="reader")
    return bob


def test_calendar_list_entries(service, account, shared):
    account.add_calendar("team@group.calendar.google.com", "Team", time_zone="UTC")
    items = service.calendarList().list().execute()["items"]
    by_id = {e["id"]: e for e in items}
    assert list(by_id) == ["ada@example.com", "bob@example.com", "team@group.calendar.google.com"]
    primary = by_id["ada@example.com"]
    assert primary["kind"] == "calendar#calendarListEntry"
    assert primary["primary"] is True
    assert primary["accessRole"] == "owner"
    assert primary["timeZone"] == "Europe/Berlin"
    assert {"etag", "summary", "selected", "backgroundColor"} <= set(primary)
    assert "primary" not in by_id["bob@example.com"]
    assert by_id["bob@example.com"]["accessRole"] == "reader"
    assert by_id["bob@example.com"]["timeZone"] == "America/New_York"
    assert by_id["team@group.calendar.google.com"]["summary"] == "Team"

    writable = service.calendarList().list(minAccessRole="writer").execute()["items"]
    assert [e["id"] for e in writable] == ["ada@example.com", "team@group.calendar.google.com"]


def test_calendar_list_pages_and_syncs(service, account):
    for n in range(3):
        account.add_calendar(f"c{n}@group.calendar.google.com", f"C{n}")
    first = service.calendarList().list(maxResults=2).execute()
    second = service.calendarList().list(maxResults=2, pageToken=first["nextPageToken"]).execute()
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert "nextSyncToken" not in first and "nextPageToken" not in second
    account.calendars[1].delete_calendar()
    changes = service.calendarList().list(syncToken=second["nextSyncToken"]).execute()
    assert changes["items"] == [
        {
            "kind": "calendar#calendarListEntry",
            "etag": changes["items"][0]["etag"],
            "id": "c0@group.calendar.google.com",
            "deleted": True,
        }
    ]


def test_access_roles_limit_writes(service, shared):
    shared.primary.create_event(timed(summary="Bob's meeting"))
    items = service.events().list(calendarId="bob@example.com").execute()["items"]
    assert [e["summary"] for e in items] == ["Bob's meeting"]
    assert _status(service.events().insert(calendarId="bob@example.com", body=timed())) == (
        403,
        "requiredAccessLevel",
    )


def test_deleted_calendar_is_gone(service, account):
    team = account.add_calendar("team@group.calendar.google.com", "Team")
    service.events().insert(calendarId=team.id, body=timed()).execute()
    team.delete_calendar()
    assert _status(service.events().list(calendarId=team.id)) == (404, "notFound")
    ids = [e["id"] for e in service.calendarList().list().execute()["items"]]
    assert ids == ["ada@example.com"]


def test_secondary_calendar_events_have_the_calendar_as_organizer(service, account):
    team = account.add_calendar("team@group.calendar.google.com", "Team")
    event = service.events().insert(calendarId=team.id, body=timed()).execute()
    assert event["organizer"] == {"email": team.id, "displayName": "Team", "self": True}
    assert event["creator"] == {"email": account.email, "self": True}


def _busy(service, items=("primary",), **extra) -> dict:
    body = {**WINDOW, "items": [{"id": i} for i in items], **extra}
    return service.freebusy().query(body=body).execute()


def test_free_busy_counts_only_opaque_live_time(service, calendar):
    calendar.create_event(timed("2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00"))
    calendar.create_event(timed("2026-03-02T09:30:00+01:00", "2026-03-02T10:30:00+01:00"))
    calendar.create_event(
        timed("2026-03-02T12:00:00+01:00", "2026-03-02T13:00:00+01:00", transparency="transparent")
    )
    gone = calendar.create_event(timed("2026-03-02T14:00:00+01:00", "2026-03-02T15:00:00+01:00"))
    calendar.delete_event(gone["id"])
    calendar.create_event(
        timed(
            "2026-03-02T16:00:00+01:00",
            "2026-03-02T17:00:00+01:00",
            attendees=[{"email": "ada@example.com", "responseStatus": "declined"}],
        )
    )
    calendar.create_event(timed("2026-03-02T23:00:00+01:00", "2026-03-03T01:00:00+01:00"))

    answer = _busy(service)

    assert answer["kind"] == "calendar#freeBusy"
    assert answer["timeMin"] == "2026-03-01T23:00:00.000Z"
    assert answer["timeMax"] == "2026-03-02T23:00:00.000Z"
    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2026-03-02T08:00:00Z", "end": "2026-03-02T09:30:00Z"},
        {"start": "2026-03-02T22:00:00Z", "end": "2026-03-02T23:00:00Z"},
    ]


def test_free_busy_all_day_recurring_and_time_zone(service, calendar):
    calendar.create_event({"start": {"date": "2026-03-02"}, "end": {"date": "2026-03-03"}})
    calendar.create_event(
        {
            "id": "standup001",
            "start": {"dateTime": "2026-03-01T09:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2026-03-01T09:15:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
        }
    )
    calendar.delete_event("standup001_20260303T080000Z")
    week = {"timeMin": "2026-03-01T00:00:00+01:00", "timeMax": "2026-03-06T00:00:00+01:00"}
    busy = _busy(service, **week, timeZone="Europe/Berlin")["calendars"]["primary"]["busy"]
    assert busy == [
        {"start": "2026-03-01T09:00:00+01:00", "end": "2026-03-01T09:15:00+01:00"},
        {"start": "2026-03-02T00:00:00+01:00", "end": "2026-03-03T00:00:00+01:00"},
        {"start": "2026-03-04T09:00:00+01:00", "end": "2026-03-04T09:15:00+01:00"},
        {"start": "2026-03-05T09:00:00+01:00", "end": "2026-03-05T09:15:00+01:00"},
    ]


def test_free_busy_errors(service, shared):
    answer = _busy(service, items=("primary", "nobody@example.com", "bob@example.com"))
    assert answer["calendars"]["nobody@example.com"] == {
        "errors": [{"domain": "global", "reason": "notFound"}],
        "busy": [],
    }
    assert answer["calendars"]["bob@example.com"] == {"busy": []}
    assert _status(service.freebusy().query(body={"timeMax": WINDOW["timeMax"]})) == (
        400,
        "required",
    )
    swapped = {"timeMin": WINDOW["timeMax"], "timeMax": WINDOW["timeMin"], "items": []}
    assert _status(service.freebusy().query(body=swapped)) == (400, "timeRangeEmpty")
