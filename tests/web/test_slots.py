"""``GET /providers/{slug}/slots``: shape, values, bounds, zones, limits.

The clock is pinned to Monday 2026-06-01 08:00 in Berlin; a new provider works weekdays 9-17
there, with a 30-minute service bookable from two hours ahead, up to 60 days ahead.
"""

from __future__ import annotations

import pytest

from tests.conftest import ProviderRef, new_provider
from tests.web.conftest import TestClient, provider_url, slot_starts

pytestmark = pytest.mark.usefixtures("frozen_now")

TUESDAY_BERLIN = [f"2026-06-02T{h:02d}:{m:02d}:00+02:00" for h in range(9, 17) for m in (0, 30)]


def get_slots(client: TestClient, provider: ProviderRef, **params: object):
    params.setdefault("service", provider.service_id)
    return client.get(provider_url(provider, "slots"), params=params)


def test_slots_are_an_object_with_offset_times_in_the_provider_zone(client, provider):
    response = get_slots(client, provider)

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"slots", "time_zone", "warnings"}
    assert body["time_zone"] == "Europe/Berlin"
    assert body["warnings"] == []
    # Now is 08:00 local; two hours' notice makes 10:00 the first slot.
    assert body["slots"][0] == {
        "start": "2026-06-01T10:00:00+02:00",
        "end": "2026-06-01T10:30:00+02:00",
    }
    assert body["range"] == {
        "start": "2026-06-01T08:00:00+02:00",
        "end": "2026-06-08T08:00:00+02:00",
    }
    # Monday 10:00-16:30 (14), Tuesday to Friday (4 x 16); next Monday starts after the range.
    assert len(body["slots"]) == 14 + 4 * 16
    assert body["slots"][-1]["start"] == "2026-06-05T16:30:00+02:00"


def test_date_bounds_cover_whole_local_days(client, provider):
    assert slot_starts(client, provider, start="2026-06-02", end="2026-06-02") == TUESDAY_BERLIN


def test_datetime_bounds_take_any_offset(client, provider):
    local = slot_starts(
        client, provider, start="2026-06-02T12:00:00+02:00", end="2026-06-02T14:00:00+02:00"
    )
    utc = slot_starts(client, provider, start="2026-06-02T10:00:00Z", end="2026-06-02T12:00:00Z")

    expected = [f"2026-06-02T{t}:00+02:00" for t in ("12:00", "12:30", "13:00", "13:30")]
    assert local == expected
    assert utc == expected


def test_unencoded_plus_in_offset_is_understood(client, provider):
    # A '+' left unencoded in a query string arrives as a space.
    url = provider_url(provider, "slots") + (
        f"?service={provider.service_id}"
        "&start=2026-06-02T16:00:00+02:00&end=2026-06-02T17:00:00+02:00"
    )
    response = client.get(url)

    assert response.status_code == 200, response.text
    starts = [slot["start"] for slot in response.json()["slots"]]
    assert starts == ["2026-06-02T16:00:00+02:00", "2026-06-02T16:30:00+02:00"]


def test_tz_renders_times_in_that_zone(client, provider):
    response = get_slots(client, provider, start="2026-06-02", end="2026-06-02", tz="Asia/Tokyo")

    body = response.json()
    assert body["time_zone"] == "Asia/Tokyo"
    # The dates stay the provider's: Tuesday in Berlin, 09:00 there is 16:00 in Tokyo.
    assert body["slots"][0] == {
        "start": "2026-06-02T16:00:00+09:00",
        "end": "2026-06-02T16:30:00+09:00",
    }
    assert len(body["slots"]) == len(TUESDAY_BERLIN)


def test_provider_zone_decides_dates_and_offsets(client, store):
    new_york = new_provider(store, time_zone="America/New_York")

    starts = slot_starts(client, new_york, start="2026-06-02", end="2026-06-02")

    assert starts[0] == "2026-06-02T09:00:00-04:00"
    assert starts[-1] == "2026-06-02T16:30:00-04:00"


def test_unknown_tz_is_422(client, provider):
    response = get_slots(client, provider, tz="Mars/Olympus_Mons")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "Mars/Olympus_Mons" in error["fields"]["tz"]


def test_range_longer_than_92_days_is_422(client, provider):
    response = get_slots(client, provider, start="2026-06-01", end="2026-09-01")

    assert response.status_code == 422
    assert "92 days" in response.json()["error"]["fields"]["end"]


def test_range_of_92_days_is_served_with_a_horizon_warning(client, provider):
    response = get_slots(client, provider, start="2026-06-01", end="2026-08-31")

    assert response.status_code == 200
    body = response.json()
    assert [w["code"] for w in body["warnings"]] == ["beyond_horizon"]
    # Nothing after now + 60 days, Friday 2026-07-31 08:00 Berlin, before that day's hours.
    assert body["slots"][-1]["start"] == "2026-07-30T16:30:00+02:00"


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({"start": "2026-02-30"}, "start", "not a valid date"),
        ({"start": "tomorrow"}, "start", "YYYY-MM-DD"),
        ({"start": "2026-06-02T10:00:00"}, "start", "UTC offset"),
        ({"end": "2026-06-02T10:00"}, "end", "UTC offset"),
        ({"start": "2026-06-03", "end": "2026-06-02"}, "end", "after start"),
        ({"service": "abc"}, "service", "integer"),
    ],
)
def test_bad_query_values_are_422_with_the_field_named(client, provider, params, field, fragment):
    response = get_slots(client, provider, **params)

    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert list(fields) == [field]
    assert fragment in fields[field]


def test_missing_service_is_422(client, provider):
    response = client.get(provider_url(provider, "slots"))

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"service": "required"}


def test_service_of_another_provider_is_422(client, provider, store):
    other = new_provider(store)

    response = get_slots(client, provider, service=other.service_id)

    assert response.status_code == 422
    assert "no service" in response.json()["error"]["fields"]["service"]


def test_unknown_provider_is_404(client):
    response = client.get("/api/v1/providers/nobody-here/slots", params={"service": 1})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
