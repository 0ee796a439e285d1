"""Google event resources ⇄ connector values (pure: resources written by hand)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from bridge.connectors.base import Blocking, OutboundEvent, RemoteDeletion, RemoteEvent
from bridge.connectors.google_events import (
    Unmappable,
    blocking,
    event_id,
    insert_body,
    matches,
    to_change,
    write_body,
    written,
)

BERLIN = dt.timezone(dt.timedelta(hours=2))


def item(**fields: Any) -> dict[str, Any]:
    return {
        "id": "abc123def",
        "etag": '"3500000000001024"',
        "status": "confirmed",
        "iCalUID": "abc123def@google.com",
        "start": {"dateTime": "2030-06-04T10:00:00+02:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-06-04T11:00:00+02:00", "timeZone": "Europe/Berlin"},
        **fields,
    }


def outbound(**fields: Any) -> OutboundEvent:
    values: dict[str, Any] = {
        "booking_uid": "b-1@bridge",
        "summary": "Consultation",
        "description": "Notes",
        "start": dt.datetime(2030, 6, 4, 8, tzinfo=dt.UTC),
        "end": dt.datetime(2030, 6, 4, 8, 30, tzinfo=dt.UTC),
        "time_zone": "Europe/Berlin",
        **fields,
    }
    return OutboundEvent(**values)


def test_event_ids_are_stable_valid_base32hex_and_distinct() -> None:
    first = event_id("b-1@bridge")

    assert first == event_id("b-1@bridge")
    assert re.fullmatch(r"[a-v0-9]{5,1024}", first)
    assert first != event_id("b-2@bridge")


def test_write_body_is_in_the_events_zone_without_attendees() -> None:
    body = insert_body(outbound(start=dt.datetime(2030, 6, 4, 8, 0, 0, 500, tzinfo=dt.UTC)))

    assert body["id"] == event_id("b-1@bridge")
    assert body["start"] == {"dateTime": "2030-06-04T10:00:00+02:00", "timeZone": "Europe/Berlin"}
    assert body["end"] == {"dateTime": "2030-06-04T10:30:00+02:00", "timeZone": "Europe/Berlin"}
    assert "attendees" not in body
    assert "status" not in write_body(outbound())


def test_a_timed_event() -> None:
    change = to_change(
        item(extendedProperties={"private": {"bridgeBookingUid": "b-1@bridge"}}), None
    )

    assert change == RemoteEvent(
        remote_id="abc123def",
        etag='"3500000000001024"',
        start=dt.datetime(2030, 6, 4, 10, tzinfo=BERLIN),
        end=dt.datetime(2030, 6, 4, 11, tzinfo=BERLIN),
        blocks=Blocking.BUSY,
        time_zone="Europe/Berlin",
        ident="abc123def@google.com",
        marker="b-1@bridge",
    )


def test_a_local_time_takes_the_zone_of_the_event_or_else_the_calendar() -> None:
    local = {"dateTime": "2030-01-04T10:00:00"}
    change = to_change(item(start=local, end={"dateTime": "2030-01-04T11:00:00"}), "Asia/Tokyo")

    assert isinstance(change, RemoteEvent)
    assert change.start == dt.datetime(2030, 1, 4, 1, tzinfo=dt.UTC)
    assert change.time_zone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": None}, "no id"),
        ({"start": None}, "no start"),
        ({"end": None}, "no end"),
        ({"start": {"date": "2030-02-30"}, "end": {"date": "2030-03-02"}}, "unreadable"),
        ({"start": {"date": "2030-06-04"}}, "mix a date"),
        ({"end": {"dateTime": "2030-06-04T09:00:00+02:00"}}, "ends before"),
        ({"start": {"dateTime": "2030-06-04T10:00:00"}}, "without a time zone"),
        ({"start": {"dateTime": "2030-06-04T10:00:00", "timeZone": "Mars/Olympus"}}, "unknown"),
        ({"start": {"when": "today"}}, "neither"),
        ({"start": "2030-06-04"}, "not an object"),
        ({"recurrence": "RRULE:FREQ=DAILY"}, "recurrence"),
    ],
)
def test_what_cannot_be_mapped_says_why(fields: dict[str, Any], reason: str) -> None:
    resource = item(**fields)

    with pytest.raises(Unmappable, match=reason):
        to_change({k: v for k, v in resource.items() if v is not None}, None)


def test_a_minimal_tombstone_is_a_deletion() -> None:
    assert to_change({"id": "abc123def", "status": "cancelled"}, None) == RemoteDeletion(
        "abc123def"
    )


def test_a_cancelled_all_day_occurrence_names_its_series_and_day() -> None:
    tombstone = {
        "id": "series1_20300604",
        "status": "cancelled",
        "recurringEventId": "series1",
        "originalStartTime": {"date": "2030-06-04"},
    }

    assert to_change(tombstone, "Europe/Berlin") == RemoteDeletion(
        "series1_20300604", series_id="series1", original_start=dt.date(2030, 6, 4)
    )


@pytest.mark.parametrize(
    ("fields", "blocks"),
    [
        ({"eventType": "birthday"}, Blocking.FREE),
        ({"eventType": "workingLocation"}, Blocking.FREE),
        ({"eventType": "outOfOffice"}, Blocking.BUSY),
        ({"eventType": "focusTime"}, Blocking.BUSY),
        ({"eventType": "fromGmail"}, Blocking.BUSY),
        ({"status": "tentative"}, Blocking.BUSY),
        ({"transparency": "transparent"}, Blocking.FREE),
        ({"attendees": [{"email": "x@example.org", "responseStatus": "declined"}]}, Blocking.BUSY),
        ({"attendees": [{"email": "me@example.org", "self": True}]}, Blocking.BUSY),
        (
            {
                "attendees": [
                    {"email": "me@example.org", "self": True, "responseStatus": "declined"}
                ]
            },
            Blocking.FREE,
        ),
    ],
)
def test_blocking(fields: dict[str, Any], blocks: Blocking) -> None:
    assert blocking(item(**fields)) == blocks


def test_matches_compares_times_texts_marker_and_liveness() -> None:
    event = outbound()
    same = item(
        start={"dateTime": "2030-06-04T10:00:00+02:00"},
        end={"dateTime": "2030-06-04T10:30:00+02:00"},
        summary="Consultation",
        description="Notes",
        extendedProperties={"private": {"bridgeBookingUid": "b-1@bridge"}},
    )

    assert matches(same, event)
    assert not matches({**same, "status": "cancelled"}, event)
    assert not matches({**same, "transparency": "transparent"}, event)
    assert not matches({**same, "summary": "Changed"}, event)
    assert not matches({**same, "extendedProperties": {}}, event)
    assert not matches({**same, "start": {"dateTime": "2030-06-04T09:00:00+02:00"}}, event)


def test_written_falls_back_to_what_was_sent() -> None:
    event = outbound()

    result = written({"id": "abc123def", "etag": '"1"'}, event)

    assert (result.remote_id, result.etag, result.start, result.end) == (
        "abc123def",
        '"1"',
        event.start,
        event.end,
    )
