"""App passwords over the API: created with the secret shown once, listed without it, revoked."""

from __future__ import annotations

import pytest

from bridge.booking import app_passwords
from bridge.store import Store
from bridge.store.models import Provider
from tests.conftest import ProviderRef, new_provider
from tests.web.conftest import provider_url


def create(client, provider, auth, label="iPhone"):
    response = client.post(
        provider_url(provider, "app-passwords"), json={"label": label}, headers=auth
    )
    assert response.status_code == 201, response.text
    return response.json()


def signs_in(store: Store, provider: ProviderRef, secret: str) -> bool:
    with store.read() as session:
        return app_passwords.find_live(session, provider.id, secret) is not None


def test_create_shows_the_password_once_and_it_signs_in(client, store, provider, provider_auth):
    response = client.post(
        provider_url(provider, "app-passwords"), json={"label": "iPhone"}, headers=provider_auth
    )

    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["label"] == "iPhone" and body["username"] == provider.slug
    assert body["last_used_at"] is None and body["created_at"]
    assert signs_in(store, provider, body["password"])


def test_the_list_shows_label_and_dates_but_never_the_password(client, provider, provider_auth):
    first = create(client, provider, provider_auth, "iPhone")
    second = create(client, provider, provider_auth, "Thunderbird")

    response = client.get(provider_url(provider, "app-passwords"), headers=provider_auth)

    assert response.status_code == 200
    items = response.json()["app_passwords"]
    assert [(i["id"], i["label"]) for i in items] == [
        (first["id"], "iPhone"),
        (second["id"], "Thunderbird"),
    ]
    assert set(items[0]) == {"id", "label", "created_at", "last_used_at"}
    assert first["password"] not in response.text and second["password"] not in response.text


def test_the_list_shows_the_last_use(client, store, provider, provider_auth):
    created = create(client, provider, provider_auth)
    with store.write() as session:
        app_password = app_passwords.find_live(session, provider.id, created["password"])
        assert app_password is not None
        app_passwords.record_use(session, app_password.id)

    [item] = client.get(provider_url(provider, "app-passwords"), headers=provider_auth).json()[
        "app_passwords"
    ]

    assert item["last_used_at"] is not None


def test_revoke_stops_the_password_and_hides_it_from_the_list(
    client, store, provider, provider_auth
):
    revoked = create(client, provider, provider_auth, "old phone")
    kept = create(client, provider, provider_auth, "laptop")

    response = client.delete(
        provider_url(provider, "app-passwords", revoked["id"]), headers=provider_auth
    )

    assert response.status_code == 204
    assert not signs_in(store, provider, revoked["password"])
    assert signs_in(store, provider, kept["password"])
    listed = client.get(provider_url(provider, "app-passwords"), headers=provider_auth).json()
    assert [item["label"] for item in listed["app_passwords"]] == ["laptop"]


def test_revoking_another_providers_password_is_not_found(client, store, provider, provider_auth):
    other = new_provider(store)
    with store.write() as session:
        foreign = app_passwords.create(session, session.get_one(Provider, other.id), "theirs")

    response = client.delete(
        provider_url(provider, "app-passwords", foreign.app_password.id), headers=provider_auth
    )

    assert response.status_code == 404
    assert signs_in(store, other, foreign.secret)


def test_an_admin_may_create_for_any_provider(client, store, provider, admin_auth):
    body = create(client, provider, admin_auth, "set up by support")

    assert signs_in(store, provider, body["password"])


@pytest.mark.parametrize("body", [{}, {"label": ""}, {"label": "x", "extra": 1}])
def test_a_bad_label_is_a_validation_error(client, provider, provider_auth, body):
    response = client.post(
        provider_url(provider, "app-passwords"), json=body, headers=provider_auth
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("method", "parts"),
    [("GET", ()), ("POST", ()), ("DELETE", (1,))],
)
def test_app_password_endpoints_need_the_providers_token(
    client, store, provider, provider_auth, method, parts
):
    other = new_provider(store)
    kwargs = {"json": {"label": "x"}} if method == "POST" else {}

    anonymous = client.request(method, provider_url(provider, "app-passwords", *parts), **kwargs)
    foreign = client.request(
        method, provider_url(other, "app-passwords", *parts), headers=provider_auth, **kwargs
    )

    assert anonymous.status_code == 401
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
