"""events.list on the fake: paging, incremental sync with sync tokens, 410, filters, strictness."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from googleapiclient.errors import HttpError

from tests.fakes.google.testing import (  # noqa: F401 - fixtures
    account_fixture,
    calendar_fixture,
    fake_fixture,
    list_all,
    make_service_fixture,
    no_backoff_fixture,
    service_fixture,
    timed,
)


def _error(call) -> tuple[int, dict]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.resp.status, json.loads(caught.value.content)["error"]


def _hour(day: int, hour: int, **fields) -> dict:
    start = dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)
    end = start + dt.timedelta(hours=1)
    return timed(start.isoformat(), end.isoformat(), **fields)


@pytest.fixture
def seven(service) -> list[str]:
    ids = []
    for day in range(1, 8):
        event = service.events().insert(calendarId="primary", body=_hour(day, 9, summary=str(day)))
        ids.append(event.execute()["id"])
    return ids


def test_full_sync_pages_and_ends_with_a_sync_token(service, seven):
    items, token, pages = list_all(service, maxResults=3)
    assert sorted(e["id"] for e in items) == sorted(seven)
    assert pages == 3
    assert token


def test_short_and_empty_pages_still_carry_a_page_token(fake, service, seven):
    fake.short_pages = True
    sizes = []
    page_token = None
    while True:
        extra = {"pageToken": page_token} if page_token else {}
        answer = service.events().list(calendarId="primary", maxResults=4, **extra).execute()
        sizes.append(len(answer["items"]))
        if "nextPageToken" not in answer:
            break
        page_token = answer["nextPageToken"]
    assert 0 in sizes and max(sizes) < 4
    assert sum(sizes) == 7
    items, _, _ = list_all(service, maxResults=4)
    assert sorted(e["id"] for e in items) == sorted(seven)


def test_incremental_sync_returns_exactly_the_changes(service, calendar, seven):
    _, token, _ = list_all(service)
    service.events().patch(calendarId="primary", eventId=seven[0], body={"summary": "x"}).execute()
    service.events().delete(calendarId="primary", eventId=seven[1]).execute()
    added = service.events().insert(calendarId="primary", body=_hour(9, 9)).execute()
    by_ui = calendar.create_event(_hour(10, 9, summary="typed in the UI"))
    calendar.delete_event(seven[2])

    changes, token2, _ = list_all(service, syncToken=token)

    by_id = {e["id"]: e for e in changes}
    assert set(by_id) == {seven[0], seven[1], seven[2], added["id"], by_ui["id"]}
    assert by_id[seven[0]]["summary"] == "x"
    tombstone = by_id[seven[1]]
    assert set(tombstone) == {"kind", "etag", "id", "status", "updated"}
    assert tombstone["status"] == "cancelled"
    assert list_all(service, syncToken=token2)[0] == []
    # The old token still works and still sees the same changes.
    assert {e["id"] for e in list_all(service, syncToken=token)[0]} == set(by_id)


def test_deleted_events_only_in_sync_or_with_show_deleted(service, seven):
    service.events().delete(calendarId="primary", eventId=seven[0]).execute()
    plain, _, _ = list_all(service)
    assert seven[0] not in {e["id"] for e in plain}
    with_deleted, _, _ = list_all(service, showDeleted=True)
    assert {e["id"]: e["status"] for e in with_deleted}[seven[0]] == "cancelled"


def test_expired_sync_token_gets_the_documented_410(service, calendar, seven):
    _, token, _ = list_all(service)
    calendar.expire_sync_tokens()
    status, error = _error(service.events().list(calendarId="primary", syncToken=token))
    assert status == 410
    assert error["errors"] == [
        {
            "domain": "calendar",
            "reason": "fullSyncRequired",
            "message": "Sync token is no longer valid, a full sync is required.",
            "locationType": "parameter",
            "location": "syncToken",
        }
    ]
    assert error["code"] == 410
    # After a new full sync the new token works.
    _, token, _ = list_all(service)
    assert list_all(service, syncToken=token)[0] == []


def test_malformed_sync_token_is_410(service):
    status, _ = _error(service.events().list(calendarId="primary", syncToken="CPDAlvWDx70C"))
    assert status == 410


@pytest.mark.parametrize(
    "extra",
    [
        {"iCalUID": "x@google.com"},
        {"orderBy": "updated"},
        {"privateExtendedProperty": "bookingId=1"},
        {"q": "x"},
        {"sharedExtendedProperty": "a=b"},
        {"timeMin": "2026-03-01T00:00:00Z"},
        {"timeMax": "2026-03-01T00:00:00Z"},
        {"updatedMin": "2026-03-01T00:00:00Z"},
        {"showDeleted": False},
        {"singleEvents": True},
    ],
)
def test_parameters_incompatible_with_a_sync_token(service, extra):
    _, token, _ = list_all(service)
    status, error = _error(service.events().list(calendarId="primary", syncToken=token, **extra))
    assert status == 400
    assert error["errors"][0]["reason"] == "invalid"
    assert error["errors"][0]["location"] == next(iter(extra))


def test_page_tokens_are_bound_to_their_query(service, seven):
    first = service.events().list(calendarId="primary", maxResults=2).execute()
    status, _ = _error(
        service.events().list(
            calendarId="primary", maxResults=2, showDeleted=True, pageToken=first["nextPageToken"]
        )
    )
    assert status == 400
    status, _ = _error(service.events().list(calendarId="primary", pageToken="made-up"))
    assert status == 400


def test_order_by_start_time_needs_single_events_and_time_range_must_not_be_empty(service):
    status, error = _error(service.events().list(calendarId="primary", orderBy="startTime"))
    assert (status, error["errors"][0]["location"]) == (400, "orderBy")
    status, error = _error(
        service.events().list(
            calendarId="primary", timeMin="2026-03-02T00:00:00Z", timeMax="2026-03-02T00:00:00Z"
        )
    )
    assert (status, error["errors"][0]["reason"]) == (400, "timeRangeEmpty")


def test_time_window_bounds_are_exclusive(service):
    service.events().insert(calendarId="primary", body=_hour(2, 9, summary="9-10")).execute()
    service.events().insert(calendarId="primary", body=_hour(2, 10, summary="10-11")).execute()

    def window(low, high):
        items, _, _ = list_all(service, timeMin=low, timeMax=high, singleEvents=True)
        return sorted(e["summary"] for e in items)

    assert window("2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z") == ["10-11"]
    assert window("2026-03-02T09:59:59Z", "2026-03-02T10:00:01Z") == ["10-11", "9-10"]
    assert window("2026-03-02T09:00:00+01:00", "2026-03-02T10:00:00+01:00") == []


def test_extended_property_filters_are_anded(service):
    for booking, bridge in (("1", "v1"), ("2", "v1"), ("1", "v2")):
        props = {"private": {"bookingId": booking, "bridge": bridge}}
        service.events().insert(
            calendarId="primary",
            body=_hour(3, 9, summary=booking + bridge, extendedProperties=props),
        ).execute()
    items, _, _ = list_all(service, privateExtendedProperty=["bookingId=1", "bridge=v1"])
    assert [e["summary"] for e in items] == ["1v1"]
    assert list_all(service, sharedExtendedProperty="bookingId=1")[0] == []


def test_search_ical_uid_event_types_and_order(service, calendar):
    a = service.events().insert(calendarId="primary", body=_hour(5, 9, summary="Dentist"))
    a = a.execute()
    service.events().insert(calendarId="primary", body=_hour(4, 9, summary="Lunch")).execute()
    calendar.create_event(_hour(6, 9, eventType="outOfOffice", summary="Away"))
    assert [e["id"] for e in list_all(service, q="dentist")[0]] == [a["id"]]
    assert [e["id"] for e in list_all(service, iCalUID=a["iCalUID"])[0]] == [a["id"]]
    away = list_all(service, eventTypes=["outOfOffice"])[0]
    assert [e["summary"] for e in away] == ["Away"]
    ordered = list_all(service, singleEvents=True, orderBy="startTime")[0]
    assert [e["summary"] for e in ordered] == ["Lunch", "Dentist", "Away"]


def test_sync_token_keeps_the_event_types_filter(service):
    _, token, _ = list_all(service, eventTypes=["default"])
    status, error = _error(service.events().list(calendarId="primary", syncToken=token))
    assert (status, error["errors"][0]["location"]) == (400, "eventTypes")
    assert list_all(service, syncToken=token, eventTypes=["default"])[0] == []


def test_updated_min_returns_changes_and_deletions(fake, service, seven):
    later = fake.now() + dt.timedelta(seconds=1)
    fake.advance_clock(dt.timedelta(seconds=2))
    service.events().delete(calendarId="primary", eventId=seven[3]).execute()
    items, _, _ = list_all(service, updatedMin=later.isoformat())
    assert [(e["id"], e["status"]) for e in items] == [(seven[3], "cancelled")]


def test_collection_fields(service, calendar):
    answer = service.events().list(calendarId="primary").execute()
    assert answer["kind"] == "calendar#events"
    assert answer["summary"] == calendar.id
    assert answer["timeZone"] == "Europe/Berlin"
    assert answer["accessRole"] == "owner"
    assert answer["defaultReminders"] == [{"method": "popup", "minutes": 10}]
    assert {"etag", "updated", "items", "nextSyncToken"} <= set(answer)


def test_insert_with_client_id_is_visible_by_id_in_sync(service):
    _, token, _ = list_all(service)
    event_id = uuid.uuid4().hex
    service.events().insert(calendarId="primary", body=_hour(2, 9, id=event_id)).execute()
    assert [e["id"] for e in list_all(service, syncToken=token)[0]] == [event_id]


def test_a_page_token_asked_twice_gives_the_same_page(service, seven):
    first = service.events().list(calendarId="primary", maxResults=3).execute()
    again = [
        service.events()
        .list(calendarId="primary", maxResults=3, pageToken=first["nextPageToken"])
        .execute()["items"]
        for _ in range(2)
    ]
    assert again[0] == again[1]
    assert {e["id"] for e in again[0]}.isdisjoint(e["id"] for e in first["items"])


def test_instances_page_without_a_sync_token(service):
    body = {
        "id": "paged00001",
        "start": {"date": "2026-03-02"},
        "end": {"date": "2026-03-03"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
    }
    service.events().insert(calendarId="primary", body=body).execute()
    first = service.events().instances(calendarId="primary", eventId="paged00001", maxResults=3)
    first = first.execute()
    rest = (
        service.events()
        .instances(
            calendarId="primary",
            eventId="paged00001",
            maxResults=3,
            pageToken=first["nextPageToken"],
        )
        .execute()
    )
    assert len(first["items"]) == 3 and len(rest["items"]) == 2
    assert "nextPageToken" not in rest and "nextSyncToken" not in rest
