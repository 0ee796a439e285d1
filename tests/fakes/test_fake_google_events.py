"""Event CRUD on the fake: versions (etags), tombstones, ids and Google's validation."""

from __future__ import annotations

import json
import uuid

import pytest
from googleapiclient.errors import HttpError

from tests.fakes.google.testing import (  # noqa: F401 - fixtures
    account_fixture,
    calendar_fixture,
    fake_fixture,
    make_service_fixture,
    no_backoff_fixture,
    raw_http,
    service_fixture,
    timed,
)


def _error(call) -> tuple[int, dict]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    details = caught.value.error_details
    return caught.value.resp.status, details[0] if details else {}


def _berlin(**fields) -> dict:
    return {
        "start": {"dateTime": "2026-03-02T10:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-02T11:00:00", "timeZone": "Europe/Berlin"},
        **fields,
    }


def _conditional(request, header: str, etag: str):
    request.headers[header] = etag
    return request


def test_insert_then_get_returns_googles_resource(service):
    event_id = uuid.uuid4().hex
    body = timed(
        id=event_id,
        summary="Booking #42",
        extendedProperties={"private": {"bookingId": "42"}},
        attendees=[{"email": "client@example.org"}, {"email": "ada@example.com"}],
    )
    created = service.events().insert(calendarId="primary", body=body, sendUpdates="none").execute()

    assert created["kind"] == "calendar#event"
    assert created["id"] == event_id
    assert created["status"] == "confirmed"
    assert created["etag"].startswith('"') and created["etag"].endswith('"')
    assert created["iCalUID"] == f"{event_id}@google.com"
    assert created["eventType"] == "default"
    assert created["sequence"] == 0
    assert "transparency" not in created  # opaque is the default and left out
    assert created["created"].endswith("Z") and len(created["created"]) == 24
    assert created["organizer"] == {"email": "ada@example.com", "self": True}
    assert created["attendees"] == [
        {"email": "client@example.org", "responseStatus": "needsAction"},
        {
            "email": "ada@example.com",
            "responseStatus": "needsAction",
            "self": True,
            "organizer": True,
        },
    ]
    assert created["start"] == {"dateTime": "2026-03-02T10:00:00+01:00"}
    fetched = service.events().get(calendarId="primary", eventId=event_id).execute()
    assert fetched == created


def test_times_render_in_the_calendar_zone_or_the_requested_one(service):
    body = {
        "start": {"dateTime": "2026-07-01T09:00:00Z"},
        "end": {"dateTime": "2026-07-01T17:00:00", "timeZone": "America/New_York"},
    }
    created = service.events().insert(calendarId="primary", body=body).execute()
    assert created["start"] == {"dateTime": "2026-07-01T11:00:00+02:00"}
    assert created["end"] == {
        "dateTime": "2026-07-01T23:00:00+02:00",
        "timeZone": "America/New_York",
    }
    in_utc = service.events().get(calendarId="primary", eventId=created["id"], timeZone="UTC")
    assert in_utc.execute()["start"] == {"dateTime": "2026-07-01T09:00:00Z"}


def test_patch_and_update_with_etags(service):
    event = service.events().insert(calendarId="primary", body=timed(summary="a")).execute()
    patch = service.events().patch(calendarId="primary", eventId=event["id"], body={"summary": "b"})

    status, detail = _error(_conditional(patch, "If-Match", '"stale"'))
    assert status == 412
    assert detail == {
        "domain": "global",
        "reason": "conditionNotMet",
        "message": "Precondition Failed",
        "locationType": "header",
        "location": "If-Match",
    }

    patch = service.events().patch(calendarId="primary", eventId=event["id"], body={"summary": "b"})
    patched = _conditional(patch, "If-Match", event["etag"]).execute()
    assert patched["summary"] == "b" and patched["etag"] != event["etag"]
    assert patched["sequence"] == 0  # the time did not change

    update = service.events().update(
        calendarId="primary",
        eventId=event["id"],
        body=timed("2026-03-02T12:00:00+01:00", "2026-03-02T13:00:00+01:00", summary="c"),
    )
    updated = _conditional(update, "If-Match", patched["etag"]).execute()
    assert updated["summary"] == "c"
    assert updated["sequence"] == 1
    assert updated["etag"] not in (event["etag"], patched["etag"])


def test_conditional_get_answers_304_while_unchanged(service):
    event = service.events().insert(calendarId="primary", body=timed()).execute()
    get = service.events().get(calendarId="primary", eventId=event["id"])
    status, _ = _error(_conditional(get, "If-None-Match", event["etag"]))
    assert status == 304
    service.events().patch(
        calendarId="primary", eventId=event["id"], body={"summary": "x"}
    ).execute()
    get = service.events().get(calendarId="primary", eventId=event["id"])
    assert _conditional(get, "If-None-Match", event["etag"]).execute()["summary"] == "x"


def test_patch_merges_extended_properties_and_update_replaces_them(service):
    body = timed(extendedProperties={"private": {"bookingId": "42", "bridge": "v1"}})
    event = service.events().insert(calendarId="primary", body=body).execute()
    patched = (
        service.events()
        .patch(
            calendarId="primary",
            eventId=event["id"],
            body={"extendedProperties": {"private": {"bridge": "v2"}, "shared": {"s": "1"}}},
        )
        .execute()
    )
    assert patched["extendedProperties"] == {
        "private": {"bookingId": "42", "bridge": "v2"},
        "shared": {"s": "1"},
    }
    updated = (
        service.events()
        .update(calendarId="primary", eventId=event["id"], body=timed(summary="replaced"))
        .execute()
    )
    assert "extendedProperties" not in updated


def test_delete_leaves_a_tombstone(service):
    event = service.events().insert(calendarId="primary", body=timed(summary="gone")).execute()
    delete = service.events().delete(calendarId="primary", eventId=event["id"])
    status, _ = _error(_conditional(delete, "If-Match", '"stale"'))
    assert status == 412

    assert service.events().delete(calendarId="primary", eventId=event["id"]).execute() == ""

    tombstone = service.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert tombstone["status"] == "cancelled"
    assert tombstone["etag"] != event["etag"]
    status, detail = _error(service.events().delete(calendarId="primary", eventId=event["id"]))
    assert (status, detail["reason"], detail["domain"]) == (410, "deleted", "global")
    listed = service.events().list(calendarId="primary").execute()["items"]
    assert listed == []


def test_duplicate_ids_conflict_even_with_a_tombstone_and_patch_undeletes(service):
    event_id = uuid.uuid4().hex
    service.events().insert(calendarId="primary", body=timed(id=event_id)).execute()
    status, detail = _error(service.events().insert(calendarId="primary", body=timed(id=event_id)))
    assert (status, detail) == (
        409,
        {
            "domain": "global",
            "reason": "duplicate",
            "message": "The requested identifier already exists.",
        },
    )
    service.events().delete(calendarId="primary", eventId=event_id).execute()
    status, detail = _error(service.events().insert(calendarId="primary", body=timed(id=event_id)))
    assert (status, detail["reason"]) == (409, "duplicate")

    restored = (
        service.events()
        .patch(
            calendarId="primary", eventId=event_id, body={"status": "confirmed", "summary": "back"}
        )
        .execute()
    )
    assert restored["status"] == "confirmed"
    assert [e["id"] for e in service.events().list(calendarId="primary").execute()["items"]] == [
        event_id
    ]


def test_unknown_ids_are_404(service):
    status, detail = _error(service.events().get(calendarId="primary", eventId="nosuchevent"))
    assert (status, detail["reason"]) == (404, "notFound")
    status, _ = _error(service.events().patch(calendarId="primary", eventId="nosuch", body={}))
    assert status == 404
    status, _ = _error(service.events().list(calendarId="nobody@example.com"))
    assert status == 404


@pytest.mark.parametrize(
    "event_id",
    ["abc", "UPPERCASE1", "with-dash-01", "wxyz0123", "a" * 1025, "series_20260101"],
)
def test_client_ids_must_be_base32hex(service, event_id):
    status, detail = _error(service.events().insert(calendarId="primary", body=timed(id=event_id)))
    assert (status, detail["reason"]) == (400, "invalid")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"start": {"dateTime": "2026-03-02T10:00:00+01:00"}}, "required"),
        (timed(end="2026-03-02T09:00:00+01:00"), "timeRangeEmpty"),
        ({"start": {"date": "2026-03-02"}, "end": {"date": "2026-03-02"}}, "timeRangeEmpty"),
        (timed(start="2026-03-02T10:00:00"), "required"),
        ({"start": {"date": "2026-03-02"}, "end": {"dateTime": "2026-03-03T00:00:00Z"}}, "invalid"),
        (timed(recurrence=["RRULE:FREQ=DAILY"]), "required"),
        (_berlin(recurrence=["DTSTART:20260302T090000Z", "RRULE:FREQ=DAILY"]), "invalid"),
        (_berlin(recurrence=["RRULE:FREQ=SOMETIMES"]), "invalid"),
        (_berlin(recurrence="RRULE:FREQ=DAILY"), "invalid"),
        ({"start": {"dateTime": "soon"}, "end": {"dateTime": "later"}}, "invalid"),
        (timed(transparency="see-through"), "invalid"),
        (timed(eventType="fromGmail"), "invalid"),
        (timed(extendedProperties={"private": {"n": 1}}), "invalid"),
        (timed(summray="typo"), "invalid"),
        (_berlin(start={"dateTime": "2026-03-02T10:00:00", "timeZone": "Mars/Olympus"}), "invalid"),
    ],
)
def test_invalid_bodies_get_400(service, body, reason):
    status, detail = _error(service.events().insert(calendarId="primary", body=body))
    assert (status, detail["reason"]) == (400, reason)


def test_event_type_cannot_change(service, calendar):
    event = service.events().insert(calendarId="primary", body=timed(eventType="focusTime"))
    event = event.execute()
    assert event["eventType"] == "focusTime"
    status, detail = _error(
        service.events().patch(
            calendarId="primary", eventId=event["id"], body={"eventType": "default"}
        )
    )
    assert (status, detail["reason"]) == (400, "invalid")
    # Gmail creates fromGmail events; the API cannot.
    assert calendar.create_event(timed(eventType="fromGmail"))["eventType"] == "fromGmail"


def test_strict_query_parameters(fake, service):
    http = raw_http(service)
    body = json.dumps(timed())
    headers = {"content-type": "application/json"}
    url = fake.api_endpoint + "calendars/primary/events"
    response, content = http.request(url + "?sendUpdates=sometimes", "POST", body, headers)
    assert response.status == 400
    assert json.loads(content)["error"]["errors"][0]["location"] == "sendUpdates"
    response, content = http.request(url + "?colour=red", "GET")
    assert response.status == 400
    assert json.loads(content)["error"]["errors"][0]["location"] == "colour"
    response, _ = http.request(url + "?maxResults=0", "GET")
    assert response.status == 400
    response, _ = http.request(url + "?sendUpdates=all", "POST", body, headers)
    assert response.status == 200


def test_fields_selects_a_partial_response(service):
    service.events().insert(calendarId="primary", body=timed(summary="s")).execute()
    answer = service.events().list(calendarId="primary", fields="items(id,status),nextSyncToken")
    answer = answer.execute()
    assert set(answer) == {"items", "nextSyncToken"}
    assert set(answer["items"][0]) == {"id", "status"}


def test_max_attendees_keeps_only_self(service):
    attendees = [{"email": f"guest{i}@example.org"} for i in range(3)] + [
        {"email": "ada@example.com", "responseStatus": "accepted"}
    ]
    event = service.events().insert(calendarId="primary", body=timed(attendees=attendees))
    event = event.execute()
    fetched = service.events().get(calendarId="primary", eventId=event["id"], maxAttendees=2)
    fetched = fetched.execute()
    assert fetched["attendeesOmitted"] is True
    assert fetched["attendees"] == [
        {"email": "ada@example.com", "responseStatus": "accepted", "self": True, "organizer": True}
    ]


def test_long_list_urls_are_sent_as_post_with_method_override(fake, service):
    constraints = [f"k{i}={'v' * 60}" for i in range(40)]
    answer = service.events().list(calendarId="primary", privateExtendedProperty=constraints)
    assert answer.execute()["items"] == []
    assert fake.requests[-1].headers["x-http-method-override"] == "GET"


def test_ui_changes_go_through_the_same_rules(service, calendar):
    made = calendar.create_event(timed(summary="from the UI"))
    assert service.events().get(calendarId="primary", eventId=made["id"]).execute() == made
    calendar.patch_event(made["id"], {"location": "Room 1"})
    assert calendar.get_event(made["id"])["location"] == "Room 1"
    calendar.delete_event(made["id"])
    assert calendar.get_event(made["id"])["status"] == "cancelled"
    assert calendar.live_events() == []
    assert calendar.get_event("unknown1") is None


def test_sequence_rises_when_the_time_moves_and_never_goes_back(service):
    event = service.events().insert(calendarId="primary", body=timed()).execute()
    moved = (
        service.events()
        .patch(
            calendarId="primary",
            eventId=event["id"],
            body={"start": {"dateTime": "2026-03-02T09:00:00+01:00"}},
        )
        .execute()
    )
    assert moved["sequence"] == 1
    status, _ = _error(
        service.events().update(calendarId="primary", eventId=event["id"], body=timed(sequence=0))
    )
    assert status == 400


def test_calendar_resources(service, account):
    calendar = service.calendars().get(calendarId="primary").execute()
    assert (calendar["kind"], calendar["id"], calendar["timeZone"]) == (
        "calendar#calendar",
        account.email,
        "Europe/Berlin",
    )
    entry = service.calendarList().get(calendarId=account.email).execute()
    assert entry["primary"] is True
