"""Working hours, date overrides and blocked times, and what they do to the slots.

The clock is pinned to Monday 2026-06-01 08:00 in Berlin.
"""

from __future__ import annotations

import pytest

from tests.web.conftest import provider_url, slot_starts

pytestmark = pytest.mark.usefixtures("frozen_now")

TUESDAY = {"start": "2026-06-02", "end": "2026-06-02"}
SATURDAY = {"start": "2026-06-06", "end": "2026-06-06"}


def put_hours(client, provider, headers, hours, **extra):
    return client.put(
        provider_url(provider, "hours"), json={"hours": hours, **extra}, headers=headers
    )


# -- weekly hours -------------------------------------------------------------------------------


def test_hours_put_then_get_round_trips(client, provider, provider_auth):
    hours = [
        {"weekday": "saturday", "start": "20:00", "end": "24:00"},
        {"weekday": "tuesday", "start": "08:00", "end": "12:00"},
        {"weekday": "tuesday", "start": "13:00", "end": "15:30"},
    ]

    put = put_hours(client, provider, provider_auth, hours)
    got = client.get(provider_url(provider, "hours"), headers=provider_auth)

    assert put.status_code == 200, put.text
    assert got.json() == put.json()
    assert got.json() == {
        "hours": [
            {"weekday": "tuesday", "start": "08:00", "end": "12:00"},
            {"weekday": "tuesday", "start": "13:00", "end": "15:30"},
            {"weekday": "saturday", "start": "20:00", "end": "24:00"},
        ],
        "time_zone": "Europe/Berlin",
    }


def test_new_hours_decide_the_slots(client, provider, provider_auth):
    put_hours(
        client,
        provider,
        provider_auth,
        [
            {"weekday": "tuesday", "start": "08:00", "end": "09:00"},
            {"weekday": "saturday", "start": "23:00", "end": "24:00"},
        ],
    )

    assert slot_starts(client, provider, **TUESDAY) == [
        "2026-06-02T08:00:00+02:00",
        "2026-06-02T08:30:00+02:00",
    ]
    assert slot_starts(client, provider, **SATURDAY) == [
        "2026-06-06T23:00:00+02:00",
        "2026-06-06T23:30:00+02:00",
    ]
    assert slot_starts(client, provider, start="2026-06-03", end="2026-06-05") == []


def test_hours_with_a_new_time_zone_move_the_slots(client, provider, provider_auth):
    response = put_hours(
        client,
        provider,
        provider_auth,
        [{"weekday": "tuesday", "start": "09:00", "end": "10:00"}],
        time_zone="America/New_York",
    )

    assert response.json()["time_zone"] == "America/New_York"
    assert slot_starts(client, provider, **TUESDAY) == [
        "2026-06-02T09:00:00-04:00",
        "2026-06-02T09:30:00-04:00",
    ]


def test_empty_hours_leave_no_slots(client, provider, provider_auth):
    assert put_hours(client, provider, provider_auth, []).status_code == 200

    assert slot_starts(client, provider) == []


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ({"weekday": "tuesday", "start": "9am", "end": "17:00"}, "hours[0].start"),
        ({"weekday": "tuesday", "start": "09:00", "end": "24:30"}, "hours[0].end"),
        ({"weekday": "tuesday", "start": "17:00", "end": "09:00"}, "hours[0]"),
        ({"weekday": "someday", "start": "09:00", "end": "17:00"}, "hours[0].weekday"),
        ({"weekday": "tuesday", "start": "09:00"}, "hours[0].end"),
    ],
)
def test_bad_hours_are_422_and_change_nothing(client, provider, provider_auth, period, field):
    response = put_hours(client, provider, provider_auth, [period])

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    hours = client.get(provider_url(provider, "hours"), headers=provider_auth).json()["hours"]
    assert len(hours) == 5


def test_bad_time_zone_in_hours_is_422(client, provider, provider_auth):
    response = put_hours(client, provider, provider_auth, [], time_zone="Nowhere/Land")

    assert response.status_code == 422
    assert "time_zone" in response.json()["error"]["fields"]


# -- date overrides -----------------------------------------------------------------------------


def add_override(client, provider, headers, **body):
    return client.post(provider_url(provider, "overrides"), json=body, headers=headers)


def test_day_off_removes_the_days_slots(client, provider, provider_auth):
    response = add_override(client, provider, provider_auth, date="2026-06-02", available=False)

    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "date": "2026-06-02",
        "available": False,
        "start": None,
        "end": None,
    }
    assert slot_starts(client, provider, **TUESDAY) == []
    assert len(slot_starts(client, provider, start="2026-06-03", end="2026-06-03")) == 16


def test_hours_off_remove_only_those_hours(client, provider, provider_auth):
    add_override(
        client,
        provider,
        provider_auth,
        date="2026-06-02",
        available=False,
        start="10:00",
        end="16:00",
    )

    assert slot_starts(client, provider, **TUESDAY) == [
        "2026-06-02T09:00:00+02:00",
        "2026-06-02T09:30:00+02:00",
        "2026-06-02T16:00:00+02:00",
        "2026-06-02T16:30:00+02:00",
    ]


def test_extra_hours_add_slots_on_a_free_day(client, provider, provider_auth):
    add_override(
        client,
        provider,
        provider_auth,
        date="2026-06-06",
        available=True,
        start="10:00",
        end="11:00",
    )

    assert slot_starts(client, provider, **SATURDAY) == [
        "2026-06-06T10:00:00+02:00",
        "2026-06-06T10:30:00+02:00",
    ]


def test_deleting_an_override_restores_the_day(client, provider, provider_auth):
    created = add_override(client, provider, provider_auth, date="2026-06-02", available=False)
    url = provider_url(provider, "overrides", created.json()["id"])

    assert client.delete(url, headers=provider_auth).status_code == 204

    assert len(slot_starts(client, provider, **TUESDAY)) == 16
    assert client.delete(url, headers=provider_auth).status_code == 404


def test_overrides_are_listed_by_date(client, provider, provider_auth):
    for day in ("2026-06-02", "2026-06-10", "2026-07-01"):
        add_override(client, provider, provider_auth, date=day, available=False)

    def dates(**params):
        response = client.get(
            provider_url(provider, "overrides"), params=params, headers=provider_auth
        )
        return [o["date"] for o in response.json()["overrides"]]

    assert dates() == ["2026-06-02", "2026-06-10", "2026-07-01"]
    assert dates(start="2026-06-03", end="2026-06-30") == ["2026-06-10"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2026-06-02", "available": True}, "start"),
        ({"date": "2026-06-02", "available": False, "start": "10:00"}, "end"),
        ({"date": "2026-06-02", "available": False, "start": "25:00", "end": "26:00"}, "start"),
        ({"date": "24.12.2026", "available": False}, "date"),
        ({"date": "2026-06-02"}, "available"),
    ],
)
def test_bad_overrides_are_422(client, provider, provider_auth, body, field):
    response = add_override(client, provider, provider_auth, **body)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


# -- blocked times ------------------------------------------------------------------------------


def block(client, provider, headers, start, end, **extra):
    return client.post(
        provider_url(provider, "blocked-times"),
        json={"start": start, "end": end, **extra},
        headers=headers,
    )


def test_blocked_time_removes_slots(client, provider, provider_auth):
    response = block(
        client,
        provider,
        provider_auth,
        "2026-06-02T07:00:00Z",
        "2026-06-02T14:00:00Z",
        summary="Conference",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["start"], body["end"], body["summary"], body["source"]) == (
        "2026-06-02T09:00:00+02:00",
        "2026-06-02T16:00:00+02:00",
        "Conference",
        "api",
    )
    assert slot_starts(client, provider, **TUESDAY) == [
        "2026-06-02T16:00:00+02:00",
        "2026-06-02T16:30:00+02:00",
    ]


def test_deleting_a_blocked_time_frees_the_slots(client, provider, provider_auth):
    created = block(
        client, provider, provider_auth, "2026-06-02T09:00:00+02:00", "2026-06-02T17:00:00+02:00"
    ).json()

    url = provider_url(provider, "blocked-times", created["id"])
    assert client.delete(url, headers=provider_auth).status_code == 204

    assert len(slot_starts(client, provider, **TUESDAY)) == 16


def test_blocked_times_are_listed_by_range(client, provider, provider_auth):
    block(client, provider, provider_auth, "2026-06-02T10:00:00+02:00", "2026-06-02T11:00:00+02:00")
    block(client, provider, provider_auth, "2026-06-04T10:00:00+02:00", "2026-06-04T11:00:00+02:00")

    def starts(**params):
        response = client.get(
            provider_url(provider, "blocked-times"), params=params, headers=provider_auth
        )
        assert response.status_code == 200, response.text
        return [b["start"] for b in response.json()["blocked_times"]]

    assert starts() == ["2026-06-02T10:00:00+02:00", "2026-06-04T10:00:00+02:00"]
    assert starts(start="2026-06-03") == ["2026-06-04T10:00:00+02:00"]
    assert starts(end="2026-06-02") == ["2026-06-02T10:00:00+02:00"]
    assert starts(start="2026-06-02T10:30:00+02:00", end="2026-06-04T10:00:00+02:00") == [
        "2026-06-02T10:00:00+02:00"
    ]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-06-02T10:00:00", "2026-06-02T11:00:00+02:00", "start"),
        ("2026-06-02T11:00:00+02:00", "2026-06-02T10:00:00+02:00", "end"),
        ("2026-06-02T10:00:00+02:00", "2028-06-02T10:00:00+02:00", "end"),
    ],
)
def test_bad_blocked_times_are_422(client, provider, provider_auth, start, end, field):
    response = block(client, provider, provider_auth, start, end)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
