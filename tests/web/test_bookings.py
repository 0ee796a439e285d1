"""Booking through the API: book, the slot taken, cancel and reschedule by manage token or
provider token, listing and history.

The clock is pinned to Monday 2026-06-01 08:00 in Berlin (see ``tests/conftest.py``).
"""

from __future__ import annotations

import datetime as dt

import pytest

from bridge import clock
from tests.conftest import new_provider
from tests.web.conftest import bearer, booking_body, provider_url, slot_starts

pytestmark = pytest.mark.usefixtures("frozen_now")

TEN = "2026-06-01T10:00:00+02:00"
ELEVEN = "2026-06-01T11:00:00+02:00"


@pytest.fixture
def book(client, provider):
    """Book ``start`` for ``provider``'s default service; returns the response."""

    def book_at(start: str, **client_fields):
        return client.post(
            provider_url(provider, "bookings"),
            json=booking_body(provider.service_id, start, **client_fields),
        )

    return book_at


@pytest.fixture
def booked(book):
    """A booking at Monday 10:00 Berlin: the response body (with its manage token)."""
    response = book(TEN)
    assert response.status_code == 201, response.text
    return response.json()


def test_booking_returns_201_with_the_booking_and_a_manage_token(book, provider):
    response = book(TEN, phone="+49 30 1234567", notes="first visit")

    assert response.status_code == 201
    body = response.json()
    assert body["manage_token"].startswith("bmt_")
    assert response.headers["location"] == provider_url(provider, "bookings", body["id"])
    assert body["service"] == {"id": provider.service_id, "name": "Appointment"}
    assert (body["start"], body["end"]) == (TEN, "2026-06-01T10:30:00+02:00")
    assert body["time_zone"] == "Europe/Berlin"
    assert (body["status"], body["version"], body["source"]) == ("confirmed", 1, "api")
    assert body["client"] == {
        "name": "Ada Client",
        "email": "ada@example.org",
        "phone": "+49 30 1234567",
        "notes": "first visit",
    }
    assert body["uid"].endswith("@calendar-bridge")
    assert body["created_at"] == "2026-06-01T06:00:00Z"
    assert body["cancelled_at"] is None


def test_taken_slot_gets_409(book, booked):
    response = book(TEN, name="Bob", email="bob@example.org")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"


def test_booked_slot_disappears_from_slots(client, provider, booked):
    starts = slot_starts(client, provider, start="2026-06-01", end="2026-06-01")

    assert TEN not in starts
    assert "2026-06-01T10:30:00+02:00" in starts


def test_manage_token_reads_its_booking(client, provider, booked):
    response = client.get(
        provider_url(provider, "bookings", booked["id"]), headers=bearer(booked["manage_token"])
    )

    assert response.status_code == 200
    assert response.json()["id"] == booked["id"]
    assert "manage_token" not in response.json()


def test_cancel_with_manage_token_gives_the_slot_back(client, provider, booked):
    response = client.post(
        provider_url(provider, "bookings", booked["id"], "cancel"),
        headers=bearer(booked["manage_token"]),
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["version"]) == ("cancelled", 2)
    assert body["cancelled_at"] == "2026-06-01T06:00:00Z"
    assert TEN in slot_starts(client, provider, start="2026-06-01", end="2026-06-01")


def test_cancelling_twice_changes_nothing(client, provider, booked):
    url = provider_url(provider, "bookings", booked["id"], "cancel")
    client.post(url, headers=bearer(booked["manage_token"]))

    again = client.post(url, headers=bearer(booked["manage_token"]))

    assert again.status_code == 200
    assert again.json()["version"] == 2


def test_reschedule_with_manage_token_to_free_slot_gives_version_2(client, provider, booked):
    response = client.post(
        provider_url(provider, "bookings", booked["id"], "reschedule"),
        json={"start": ELEVEN},
        headers=bearer(booked["manage_token"]),
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"], body["version"]) == (
        ELEVEN,
        "2026-06-01T11:30:00+02:00",
        2,
    )
    starts = slot_starts(client, provider, start="2026-06-01", end="2026-06-01")
    assert TEN in starts
    assert ELEVEN not in starts


def test_reschedule_onto_taken_slot_gets_409(client, provider, book, booked):
    assert book(ELEVEN, email="bob@example.org").status_code == 201

    response = client.post(
        provider_url(provider, "bookings", booked["id"], "reschedule"),
        json={"start": ELEVEN},
        headers=bearer(booked["manage_token"]),
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"


def test_client_may_not_reschedule_outside_working_hours(client, provider, booked):
    response = client.post(
        provider_url(provider, "bookings", booked["id"], "reschedule"),
        json={"start": "2026-06-01T20:00:00+02:00"},
        headers=bearer(booked["manage_token"]),
    )

    assert response.status_code == 409


def test_provider_token_may_reschedule_outside_working_hours(
    client, provider, booked, provider_auth
):
    response = client.post(
        provider_url(provider, "bookings", booked["id"], "reschedule"),
        json={"start": "2026-06-01T20:00:00+02:00"},
        headers=provider_auth,
    )

    assert response.status_code == 200
    assert response.json()["start"] == "2026-06-01T20:00:00+02:00"


def test_rescheduling_a_cancelled_booking_gets_409_invalid_state(client, provider, booked):
    headers = bearer(booked["manage_token"])
    client.post(provider_url(provider, "bookings", booked["id"], "cancel"), headers=headers)

    response = client.post(
        provider_url(provider, "bookings", booked["id"], "reschedule"),
        json={"start": ELEVEN},
        headers=headers,
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"


def test_client_cannot_cancel_once_the_appointment_started(client, provider, booked):
    with clock.frozen(dt.datetime(2026, 6, 1, 8, 5, tzinfo=dt.UTC)):
        response = client.post(
            provider_url(provider, "bookings", booked["id"], "cancel"),
            headers=bearer(booked["manage_token"]),
        )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"


def test_manage_token_of_another_booking_gets_404(client, provider, book, booked):
    other = book(ELEVEN, email="bob@example.org").json()

    for method, suffix in (("GET", ()), ("POST", ("cancel",))):
        response = client.request(
            method,
            provider_url(provider, "bookings", other["id"], *suffix),
            headers=bearer(booked["manage_token"]),
        )
        assert response.status_code == 404, (method, suffix)
    assert (
        client.get(
            provider_url(provider, "bookings", other["id"]), headers=bearer(other["manage_token"])
        ).json()["status"]
        == "confirmed"
    )


def test_manage_token_cannot_list_bookings_or_read_history(client, provider, booked):
    headers = bearer(booked["manage_token"])

    listing = client.get(provider_url(provider, "bookings"), headers=headers)
    history = client.get(
        provider_url(provider, "bookings", booked["id"], "history"), headers=headers
    )

    assert (listing.status_code, history.status_code) == (403, 403)


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"client": {"name": "Ada"}}, "client.email", "required"),
        ({"client": {"name": "Ada", "email": "not-an-address"}}, "client.email", "@"),
        ({"client": {"name": " ", "email": "ada@example.org"}}, "client.name", "empty"),
        (
            {"client": {"name": "Ada", "email": "a@example.org", "phone": "call me"}},
            "client.phone",
            "phone",
        ),
        ({"start": "2026-06-01T10:00:00"}, "start", "UTC offset"),
        ({"start": "2026-06-01"}, "start", "RFC 3339"),
        ({"start": 1780000000}, "start", "RFC 3339"),
        ({"service": 999999999}, "service", "no service"),
        ({"service": None}, "service", "integer"),
        ({"surprise": True}, "surprise", "unknown field"),
    ],
)
def test_bad_booking_requests_are_422_with_field_messages(
    client, provider, change, field, fragment
):
    body = booking_body(provider.service_id, TEN) | change

    response = client.post(provider_url(provider, "bookings"), json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert fragment in error["fields"][field], error


def test_booking_with_unknown_provider_gets_404(client):
    response = client.post("/api/v1/providers/nobody-here/bookings", json=booking_body(1, TEN))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_list_bookings_filters_by_dates_and_status(client, provider, provider_auth, book):
    monday = book(TEN).json()
    tuesday = book("2026-06-02T09:00:00+02:00", email="bob@example.org").json()
    wednesday = book("2026-06-03T09:00:00+02:00", email="cy@example.org").json()
    client.post(
        provider_url(provider, "bookings", wednesday["id"], "cancel"), headers=provider_auth
    )

    def ids(**params):
        response = client.get(
            provider_url(provider, "bookings"), params=params, headers=provider_auth
        )
        assert response.status_code == 200, response.text
        return [b["id"] for b in response.json()["bookings"]]

    assert ids() == [monday["id"], tuesday["id"], wednesday["id"]]
    assert ids(start="2026-06-02", end="2026-06-02") == [tuesday["id"]]
    assert ids(start="2026-06-01T10:15:00+02:00", end="2026-06-02T09:00:00+02:00") == [monday["id"]]
    assert ids(start="2026-06-02") == [tuesday["id"], wednesday["id"]]
    assert ids(status="cancelled") == [wednesday["id"]]
    assert ids(status="confirmed", limit=1) == [monday["id"]]


def test_list_bookings_rejects_an_unknown_status(client, provider, provider_auth):
    response = client.get(
        provider_url(provider, "bookings"), params={"status": "lost"}, headers=provider_auth
    )

    assert response.status_code == 422
    assert "status" in response.json()["error"]["fields"]


def test_history_records_each_change_and_who_made_it(client, provider, provider_auth, booked):
    booking_url = provider_url(provider, "bookings", booked["id"])
    client.post(
        f"{booking_url}/reschedule", json={"start": ELEVEN}, headers=bearer(booked["manage_token"])
    )
    client.post(f"{booking_url}/cancel", headers=provider_auth)

    response = client.get(f"{booking_url}/history", headers=provider_auth)

    assert response.status_code == 200
    changes = response.json()["changes"]
    assert [(c["action"], c["actor"], c["version"]) for c in changes] == [
        ("created", "client", 1),
        ("rescheduled", "client", 2),
        ("cancelled", "provider:laptop", 3),
    ]
    assert changes[0]["before"] is None
    assert changes[1]["before"]["start"] == "2026-06-01T08:00:00+00:00"
    assert changes[1]["after"]["start"] == "2026-06-01T09:00:00+00:00"
    assert changes[2]["after"]["status"] == "cancelled"


def test_admin_changes_are_recorded_as_admin(client, provider, admin_auth, booked):
    booking_url = provider_url(provider, "bookings", booked["id"])

    client.post(f"{booking_url}/cancel", headers=admin_auth)

    history = client.get(f"{booking_url}/history", headers=admin_auth).json()["changes"]
    assert history[-1]["actor"] == "admin:ops"


def test_history_of_another_providers_booking_is_404(client, store, provider_auth, booked):
    other = new_provider(store)

    response = client.get(
        provider_url(other, "bookings", booked["id"], "history"), headers=provider_auth
    )

    assert response.status_code == 404
