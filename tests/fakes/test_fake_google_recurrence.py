"""Recurring events on the fake: expansion across DST, exceptions, instances, series in sync."""

from __future__ import annotations

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
)

SERIES = "series0001"
BERLIN = "Europe/Berlin"


def _series(**fields) -> dict:
    """Daily at 10:00 Berlin from Thu 26 March 2026, six times: DST starts on Sunday the 29th."""
    return {
        "id": SERIES,
        "summary": "Daily",
        "start": {"dateTime": "2026-03-26T10:00:00", "timeZone": BERLIN},
        "end": {"dateTime": "2026-03-26T11:00:00", "timeZone": BERLIN},
        "recurrence": [
            "RRULE:FREQ=DAILY;COUNT=6",
            "EXDATE;TZID=Europe/Berlin:20260327T100000",
        ],
        **fields,
    }


@pytest.fixture
def series(service) -> dict:
    """The series, with the 30th moved to 14:00 and the 31st cancelled."""
    master = service.events().insert(calendarId="primary", body=_series()).execute()
    service.events().patch(
        calendarId="primary",
        eventId=f"{SERIES}_20260330T080000Z",
        body={
            "start": {"dateTime": "2026-03-30T14:00:00+02:00"},
            "end": {"dateTime": "2026-03-30T15:00:00+02:00"},
        },
    ).execute()
    service.events().delete(calendarId="primary", eventId=f"{SERIES}_20260331T080000Z").execute()
    return master


def _starts(items) -> list[tuple[str, str]]:
    return [(e["id"], e["start"]["dateTime"]) for e in items]


def test_single_events_expands_in_the_series_zone_across_dst(service, series):
    items, _, _ = list_all(service, singleEvents=True, orderBy="startTime")
    assert _starts(items) == [
        (f"{SERIES}_20260326T090000Z", "2026-03-26T10:00:00+01:00"),
        (f"{SERIES}_20260328T090000Z", "2026-03-28T10:00:00+01:00"),
        (f"{SERIES}_20260329T080000Z", "2026-03-29T10:00:00+02:00"),
        (f"{SERIES}_20260330T080000Z", "2026-03-30T14:00:00+02:00"),
    ]
    moved = items[-1]
    assert moved["recurringEventId"] == SERIES
    assert moved["originalStartTime"] == {
        "dateTime": "2026-03-30T10:00:00+02:00",
        "timeZone": BERLIN,
    }
    assert {e["iCalUID"] for e in items} == {series["iCalUID"]}
    assert all("recurrence" not in e for e in items)
    assert items[0]["end"] == {"dateTime": "2026-03-26T11:00:00+01:00", "timeZone": BERLIN}


def test_cancelled_instance_is_a_minimal_tombstone_with_show_deleted(service, series):
    items, _, _ = list_all(service, singleEvents=True, showDeleted=True)
    cancelled = [e for e in items if e["status"] == "cancelled"]
    assert len(cancelled) == 1
    assert set(cancelled[0]) == {"kind", "etag", "id", "status", "updated"} | {
        "recurringEventId",
        "originalStartTime",
    }
    assert cancelled[0]["id"] == f"{SERIES}_20260331T080000Z"
    assert cancelled[0]["originalStartTime"]["dateTime"] == "2026-03-31T10:00:00+02:00"


def test_without_single_events_the_master_and_its_exceptions_are_items(service, series):
    items, _, _ = list_all(service)
    by_id = {e["id"]: e for e in items}
    assert set(by_id) == {SERIES, f"{SERIES}_20260330T080000Z", f"{SERIES}_20260331T080000Z"}
    assert by_id[SERIES]["recurrence"] == series["recurrence"]
    assert by_id[f"{SERIES}_20260331T080000Z"]["status"] == "cancelled"


def test_instances_method_has_an_inclusive_time_min(service, series):
    everything = service.events().instances(calendarId="primary", eventId=SERIES).execute()
    assert len(everything["items"]) == 4
    # The 28th ends at 11:00+01:00 = 10:00Z: included by instances, excluded by list.
    low = "2026-03-28T10:00:00Z"
    instances = service.events().instances(calendarId="primary", eventId=SERIES, timeMin=low)
    assert _starts(instances.execute()["items"])[0][0] == f"{SERIES}_20260328T090000Z"
    listed, _, _ = list_all(service, singleEvents=True, orderBy="startTime", timeMin=low)
    assert _starts(listed)[0][0] == f"{SERIES}_20260329T080000Z"
    with_deleted = service.events().instances(
        calendarId="primary", eventId=SERIES, showDeleted=True
    )
    assert len(with_deleted.execute()["items"]) == 5


def test_instances_are_addressable_by_id(service, series):
    instance_id = f"{SERIES}_20260328T090000Z"
    got = service.events().get(calendarId="primary", eventId=instance_id).execute()
    assert got["recurringEventId"] == SERIES
    assert got["etag"] == series["etag"]
    cancelled = service.events().get(calendarId="primary", eventId=f"{SERIES}_20260331T080000Z")
    assert cancelled.execute()["status"] == "cancelled"
    with pytest.raises(HttpError) as caught:
        service.events().delete(
            calendarId="primary", eventId=f"{SERIES}_20260331T080000Z"
        ).execute()
    assert caught.value.resp.status == 410
    for missing in (f"{SERIES}_20260327T090000Z", f"{SERIES}_20260401T080000Z"):
        with pytest.raises(HttpError) as caught:
            service.events().get(calendarId="primary", eventId=missing).execute()
        assert caught.value.resp.status == 404


def test_recurrence_cannot_be_set_on_an_instance(service, series):
    with pytest.raises(HttpError) as caught:
        service.events().patch(
            calendarId="primary",
            eventId=f"{SERIES}_20260328T090000Z",
            body={"recurrence": ["RRULE:FREQ=WEEKLY"]},
        ).execute()
    assert caught.value.resp.status == 400


def test_incremental_single_events_sync_reports_series_changes(service, calendar, series):
    _, token, _ = list_all(service, singleEvents=True)
    calendar.patch_event(f"{SERIES}_20260328T090000Z", {"summary": "Only this one"})
    changes, token, _ = list_all(service, singleEvents=True, syncToken=token)
    assert [(e["id"], e["summary"]) for e in changes] == [
        (f"{SERIES}_20260328T090000Z", "Only this one")
    ]

    # An EXDATE added to the master makes that instance vanish: it comes back cancelled.
    recurrence = [*series["recurrence"], "EXDATE;TZID=Europe/Berlin:20260329T100000"]
    service.events().patch(
        calendarId="primary", eventId=SERIES, body={"recurrence": recurrence}
    ).execute()
    changes, token, _ = list_all(service, singleEvents=True, syncToken=token)
    status = {e["id"]: e["status"] for e in changes}
    assert status[f"{SERIES}_20260329T080000Z"] == "cancelled"
    assert status[f"{SERIES}_20260326T090000Z"] == "confirmed"

    service.events().delete(calendarId="primary", eventId=SERIES).execute()
    changes, _, _ = list_all(service, singleEvents=True, syncToken=token)
    assert {e["id"]: e["status"] for e in changes} == {
        f"{SERIES}_20260326T090000Z": "cancelled",
        f"{SERIES}_20260328T090000Z": "cancelled",
        f"{SERIES}_20260330T080000Z": "cancelled",
        f"{SERIES}_20260331T080000Z": "cancelled",
    }
    assert all(set(e) >= {"recurringEventId", "originalStartTime"} for e in changes)


def test_incremental_sync_without_single_events_reports_exceptions(service, calendar, series):
    _, token, _ = list_all(service)
    calendar.delete_event(f"{SERIES}_20260326T090000Z")
    changes, _, _ = list_all(service, syncToken=token)
    assert [(e["id"], e["status"]) for e in changes] == [
        (f"{SERIES}_20260326T090000Z", "cancelled")
    ]


def test_all_day_series_use_date_instance_ids(service):
    body = {
        "id": "dates00001",
        "start": {"date": "2026-03-02"},
        "end": {"date": "2026-03-03"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
    }
    service.events().insert(calendarId="primary", body=body).execute()
    items, _, _ = list_all(service, singleEvents=True, orderBy="startTime")
    assert [(e["id"], e["start"], e["end"]) for e in items] == [
        ("dates00001_20260302", {"date": "2026-03-02"}, {"date": "2026-03-03"}),
        ("dates00001_20260309", {"date": "2026-03-09"}, {"date": "2026-03-10"}),
        ("dates00001_20260316", {"date": "2026-03-16"}, {"date": "2026-03-17"}),
    ]
    assert items[1]["originalStartTime"] == {"date": "2026-03-09"}


def test_rdate_and_unbounded_series(service):
    rdate = "RDATE;TZID=Europe/Berlin:20260405T090000"
    body = _series(id="rdate0001", recurrence=["RRULE:FREQ=DAILY;COUNT=2", rdate])
    service.events().insert(calendarId="primary", body=body).execute()
    items, _, _ = list_all(service, singleEvents=True, orderBy="startTime")
    assert [e["start"]["dateTime"] for e in items] == [
        "2026-03-26T10:00:00+01:00",
        "2026-03-27T10:00:00+01:00",
        "2026-04-05T09:00:00+02:00",
    ]
    forever = _series(id="forever001", recurrence=["RRULE:FREQ=DAILY"])
    service.events().insert(calendarId="primary", body=forever).execute()
    instances = service.events().instances(
        calendarId="primary", eventId="forever001", maxResults=2500
    )
    assert len(instances.execute()["items"]) == 730


def test_a_start_off_the_rule_is_an_extra_first_instance(service):
    # Google shows the start as an instance even when the rule skips that day, on top of COUNT
    # (googleapis/google-api-nodejs-client#2214, fmeringdal/rust-rrule#119).
    body = _series(id="offrule001", recurrence=["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2"])
    service.events().insert(calendarId="primary", body=body).execute()  # starts on a Thursday
    items, _, _ = list_all(service, singleEvents=True, orderBy="startTime")
    assert [e["start"]["dateTime"][:10] for e in items] == [
        "2026-03-26",
        "2026-03-30",
        "2026-04-06",
    ]
