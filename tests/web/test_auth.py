"""Bearer authentication and access rules: 401 without credentials, 404 for another provider's
things, 403 for the wrong role; token listing and revocation."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge import clock
from tests.conftest import new_provider
from tests.web.conftest import API, bearer, booking_body, issue_token, provider_url

PROVIDER_ENDPOINTS = [
    ("GET", ("hours",)),
    ("GET", ("overrides",)),
    ("GET", ("blocked-times",)),
    ("GET", ("bookings",)),
    ("GET", ()),
]


@pytest.mark.parametrize(("method", "parts"), PROVIDER_ENDPOINTS)
def test_no_token_gets_401_with_www_authenticate(client, provider, method, parts):
    response = client.request(method, provider_url(provider, *parts))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "secret", ["bat_not-a-real-token", "bmt_not-a-real-token", "something-else"]
)
def test_unknown_token_gets_401(client, provider, secret):
    response = client.get(provider_url(provider, "hours"), headers=bearer(secret))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_basic_credentials_are_not_a_bearer_token(client, provider):
    response = client.get(provider_url(provider, "hours"), auth=("user", "password"))

    assert response.status_code == 401


@pytest.mark.parametrize(("method", "parts"), PROVIDER_ENDPOINTS)
def test_provider_token_on_another_provider_gets_404(client, store, provider_auth, method, parts):
    other = new_provider(store)

    response = client.request(method, provider_url(other, *parts), headers=provider_auth)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.usefixtures("frozen_now")
def test_provider_token_on_another_providers_booking_gets_404(client, store, provider_auth):
    other = new_provider(store)
    slots = client.get(provider_url(other, "slots"), params={"service": other.service_id})
    start = slots.json()["slots"][0]["start"]
    booked = client.post(
        provider_url(other, "bookings"), json=booking_body(other.service_id, start)
    ).json()

    for method, suffix in (("GET", ()), ("POST", ("cancel",)), ("GET", ("history",))):
        response = client.request(
            method, provider_url(other, "bookings", booked["id"], *suffix), headers=provider_auth
        )
        assert response.status_code == 404, (method, suffix)


def test_unknown_provider_looks_the_same_as_another_providers(client, provider_auth):
    response = client.get(f"{API}/providers/no-such-provider/hours", headers=provider_auth)

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/providers", None),
        (
            "POST",
            "/providers",
            {"slug": "x-1", "name": "X", "email": "x@example.org", "time_zone": "UTC"},
        ),
    ],
)
def test_provider_token_on_admin_endpoint_gets_403(client, provider_auth, method, path, body):
    response = client.request(method, f"{API}{path}", json=body, headers=provider_auth)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_admin_token_reaches_every_provider(client, store, admin_auth):
    other = new_provider(store)

    response = client.get(provider_url(other, "hours"), headers=admin_auth)

    assert response.status_code == 200


def test_provider_token_reaches_its_own_provider(client, provider, provider_auth):
    response = client.get(provider_url(provider), headers=provider_auth)

    assert response.status_code == 200
    assert response.json()["slug"] == provider.slug


def test_revoked_token_gets_401(client, provider, provider_auth, admin_auth):
    listed = client.get(f"{API}/tokens", headers=provider_auth).json()["tokens"]
    (own,) = listed

    assert client.delete(f"{API}/tokens/{own['id']}", headers=admin_auth).status_code == 204

    assert client.get(provider_url(provider, "hours"), headers=provider_auth).status_code == 401


def test_provider_lists_only_its_own_tokens(client, store, provider, provider_auth):
    other = new_provider(store)
    issue_token(store, other, "theirs")
    issue_token(store, provider, "phone")

    response = client.get(f"{API}/tokens", headers=provider_auth)

    assert response.status_code == 200
    tokens = response.json()["tokens"]
    assert sorted(t["label"] for t in tokens) == ["laptop", "phone"]
    assert {(t["scope"], t["provider"]) for t in tokens} == {("provider", provider.slug)}
    assert all("secret" not in t and "token_hash" not in t for t in tokens)


def test_token_records_its_last_use(client, provider, provider_auth):
    client.get(provider_url(provider, "hours"), headers=provider_auth)

    (token,) = client.get(f"{API}/tokens", headers=provider_auth).json()["tokens"]

    assert token["last_used_at"] is not None


def test_last_use_is_recorded_at_most_once_a_minute(client, provider, provider_auth):
    """Authenticated reads must not each become a write."""

    def last_used() -> str:
        (token,) = client.get(f"{API}/tokens", headers=provider_auth).json()["tokens"]
        return token["last_used_at"]

    start = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    with clock.frozen(start):
        first = last_used()
    with clock.frozen(start + dt.timedelta(seconds=50)):
        assert last_used() == first
    with clock.frozen(start + dt.timedelta(seconds=70)):
        client.get(provider_url(provider, "hours"), headers=provider_auth)
        assert dt.datetime.fromisoformat(last_used()) > dt.datetime.fromisoformat(first)


def test_provider_cannot_revoke_another_providers_token(client, store, provider_auth, admin_auth):
    other = new_provider(store)
    other_auth = bearer(issue_token(store, other, "theirs"))
    (theirs,) = client.get(f"{API}/tokens", headers=other_auth).json()["tokens"]

    response = client.delete(f"{API}/tokens/{theirs['id']}", headers=provider_auth)

    assert response.status_code == 404
    assert client.get(provider_url(other, "hours"), headers=other_auth).status_code == 200


def test_admin_lists_admin_and_provider_tokens(client, provider, provider_auth, admin_auth):
    response = client.get(f"{API}/tokens", headers=admin_auth)

    scopes = {(t["label"], t["scope"], t["provider"]) for t in response.json()["tokens"]}
    assert ("laptop", "provider", provider.slug) in scopes
    assert ("ops", "admin", None) in scopes


@pytest.mark.usefixtures("frozen_now")
def test_manage_token_cannot_manage_tokens_or_settings(client, provider):
    slots = client.get(provider_url(provider, "slots"), params={"service": provider.service_id})
    start = slots.json()["slots"][0]["start"]
    booked = client.post(
        provider_url(provider, "bookings"), json=booking_body(provider.service_id, start)
    ).json()
    headers = bearer(booked["manage_token"])

    assert client.get(f"{API}/tokens", headers=headers).status_code == 403
    assert client.get(provider_url(provider, "hours"), headers=headers).status_code == 403
    assert client.get(f"{API}/providers", headers=headers).status_code == 403
