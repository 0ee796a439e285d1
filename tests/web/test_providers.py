"""Providers (admin) and their services: create, list, read, update, deactivate."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import ProviderRef, new_provider
from tests.web.conftest import API, provider_url, slot_starts


def new_slug() -> str:
    return f"api-{uuid.uuid4().hex[:10]}"


def test_admin_creates_a_provider_that_is_bookable_at_once(client, admin_auth):
    slug = new_slug()

    response = client.post(
        f"{API}/providers",
        json={
            "slug": slug,
            "name": "Dr. Api",
            "email": "Api@Example.org",
            "time_zone": "Europe/Vienna",
            "password": "long enough",
        },
        headers=admin_auth,
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{API}/providers/{slug}"
    body = response.json()
    assert (body["slug"], body["time_zone"], body["has_password"]) == (
        slug,
        "Europe/Vienna",
        True,
    )
    assert "password" not in body and "password_hash" not in body
    services = client.get(f"{API}/providers/{slug}/services").json()["services"]
    assert [(s["name"], s["duration_minutes"]) for s in services] == [("Appointment", 30)]
    hours = client.get(f"{API}/providers/{slug}/hours", headers=admin_auth).json()
    assert [h["weekday"] for h in hours["hours"]] == [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"slug": "api"}, "slug"),
        ({"email": "nobody"}, "email"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"password": "short"}, "password"),
        ({"name": None}, "name"),
    ],
)
def test_bad_provider_fields_are_422(client, admin_auth, change, field):
    body = {"slug": new_slug(), "name": "N", "email": "n@example.org", "time_zone": "UTC"}

    response = client.post(f"{API}/providers", json=body | change, headers=admin_auth)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


def test_taken_slug_is_422(client, admin_auth, provider):
    body = {"slug": provider.slug, "name": "N", "email": "n@example.org", "time_zone": "UTC"}

    response = client.post(f"{API}/providers", json=body, headers=admin_auth)

    assert response.status_code == 422
    assert "taken" in response.json()["error"]["fields"]["slug"]


def test_admin_lists_providers(client, admin_auth, provider):
    response = client.get(f"{API}/providers", headers=admin_auth)

    assert response.status_code == 200
    assert provider.slug in [p["slug"] for p in response.json()["providers"]]


def test_provider_updates_its_own_record(client, provider, provider_auth):
    response = client.patch(
        provider_url(provider),
        json={"name": "Dr. Renamed", "time_zone": "America/New_York"},
        headers=provider_auth,
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["time_zone"], body["email"]) == (
        "Dr. Renamed",
        "America/New_York",
        f"{provider.slug}@example.org",
    )
    assert client.get(provider_url(provider), headers=provider_auth).json() == body


def test_bad_update_changes_nothing(client, provider, provider_auth):
    response = client.patch(
        provider_url(provider),
        json={"name": "Dr. Renamed", "email": "no-at-sign"},
        headers=provider_auth,
    )

    assert response.status_code == 422
    assert client.get(provider_url(provider), headers=provider_auth).json()["name"] == "Dr. Test"


def test_unknown_provider_is_404(client, admin_auth):
    response = client.get(f"{API}/providers/no-such-provider", headers=admin_auth)

    assert response.status_code == 404
    assert "no-such-provider" in response.json()["error"]["message"]


# -- services -----------------------------------------------------------------------------------


def create_service(client, provider: ProviderRef, headers, **fields):
    response = client.post(
        provider_url(provider, "services"), json={"name": "Long", **fields}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_public_service_list_shows_active_services(client, provider):
    response = client.get(provider_url(provider, "services"))

    assert response.status_code == 200
    assert response.json()["services"] == [
        {
            "id": provider.service_id,
            "name": "Appointment",
            "duration_minutes": 30,
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 0,
            "min_notice_minutes": 120,
            "horizon_days": 60,
            "slot_step_minutes": 30,
            "active": True,
        }
    ]


def test_provider_creates_a_service_with_defaults_for_missing_fields(
    client, provider, provider_auth
):
    service = create_service(
        client, provider, provider_auth, duration_minutes=60, buffer_after_minutes=15
    )

    assert service["duration_minutes"] == 60
    assert service["slot_step_minutes"] == 60
    assert service["buffer_after_minutes"] == 15
    assert service["min_notice_minutes"] == 120


@pytest.mark.usefixtures("frozen_now")
def test_new_service_offers_its_own_slots(client, provider, provider_auth):
    service = create_service(client, provider, provider_auth, duration_minutes=120)

    starts = slot_starts(
        client, provider, service=service["id"], start="2026-06-02", end="2026-06-02"
    )

    assert starts == [f"2026-06-02T{h}:00:00+02:00" for h in ("09", "11", "13", "15")]


def test_out_of_range_service_fields_are_422(client, provider, provider_auth):
    response = client.post(
        provider_url(provider, "services"),
        json={"name": "Bad", "duration_minutes": 0, "horizon_days": 10_000},
        headers=provider_auth,
    )

    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"duration_minutes", "horizon_days"}


def test_provider_updates_a_service(client, provider, provider_auth):
    response = client.patch(
        provider_url(provider, "services", provider.service_id),
        json={"name": "Check-up", "buffer_before_minutes": 10},
        headers=provider_auth,
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["buffer_before_minutes"], body["duration_minutes"]) == (
        "Check-up",
        10,
        30,
    )


def test_deleting_a_service_deactivates_it(client, provider, provider_auth):
    response = client.delete(
        provider_url(provider, "services", provider.service_id), headers=provider_auth
    )

    assert response.status_code == 204
    assert client.get(provider_url(provider, "services")).json()["services"] == []
    listed = client.get(
        provider_url(provider, "services"),
        params={"include_inactive": "true"},
        headers=provider_auth,
    ).json()["services"]
    assert [(s["id"], s["active"]) for s in listed] == [(provider.service_id, False)]
    slots = client.get(provider_url(provider, "slots"), params={"service": provider.service_id})
    assert slots.status_code == 422
    assert "not offered" in slots.json()["error"]["fields"]["service"]


def test_listing_inactive_services_needs_a_token(client, provider):
    response = client.get(provider_url(provider, "services"), params={"include_inactive": "true"})

    assert response.status_code == 401


def test_service_of_another_provider_is_404(client, store, provider, provider_auth):
    other = new_provider(store)

    response = client.patch(
        provider_url(provider, "services", other.service_id),
        json={"name": "Mine now"},
        headers=provider_auth,
    )

    assert response.status_code == 404
