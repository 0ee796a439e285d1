"""Fixtures for the API tests: the app over the session's store (SQLite and PostgreSQL), a
client, and bearer tokens for a fresh provider and for admin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bridge.booking import tokens
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.models import Provider
from bridge.web import create_app
from tests.conftest import ProviderRef

API = "/api/v1"


def provider_url(provider: ProviderRef, *parts: object) -> str:
    """``/api/v1/providers/<slug>/<parts...>``."""
    return "/".join([f"{API}/providers/{provider.slug}", *(str(p) for p in parts)])


def issue_token(store: Store, provider: ProviderRef | None, label: str = "test") -> str:
    """A new API token's secret: for ``provider``, or an admin token when None."""
    with store.write() as session:
        owner = session.get(Provider, provider.id) if provider is not None else None
        return tokens.create_token(session, provider=owner, label=label).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def booking_body(service: int, start: str, **client: Any) -> dict[str, Any]:
    details = {"name": "Ada Client", "email": "ada@example.org", **client}
    return {"service": service, "start": start, "client": details}


@pytest.fixture(scope="session")
def app(store: Store) -> FastAPI:
    return create_app(Settings(), store)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def provider_auth(store: Store, provider: ProviderRef) -> dict[str, str]:
    """Headers with a token of ``provider`` labelled ``laptop``."""
    return bearer(issue_token(store, provider, "laptop"))


@pytest.fixture
def admin_auth(store: Store) -> dict[str, str]:
    return bearer(issue_token(store, None, "ops"))


def slot_starts(client: TestClient, provider: ProviderRef, **params: Any) -> list[str]:
    """The starts of the free slots ``/slots`` offers for ``provider``'s default service."""
    params.setdefault("service", provider.service_id)
    response = client.get(provider_url(provider, "slots"), params=params)
    assert response.status_code == 200, response.text
    return [slot["start"] for slot in response.json()["slots"]]
