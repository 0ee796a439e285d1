"""What the web tests of connections, callbacks and webhooks share: the fake Google, settings
pointing at it, and connecting an account through the real consent flow."""

from __future__ import annotations

import dataclasses
import urllib.parse
import uuid
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import delete

from bridge.settings import Secret, SecretKeys, Settings
from bridge.store import Store
from bridge.store.sync_models import Connection
from tests.conftest import ProviderRef
from tests.fakes.google import FakeAccount, FakeGoogle
from tests.web.conftest import provider_url

PUBLIC_URL = "https://book.example.org"
SECRET_KEY = "web-sync-test-key-" + "w" * 40


def settings_for(fake: FakeGoogle, **changes: Any) -> Settings:
    """Settings whose Google endpoints are the fake's."""
    return Settings(
        public_url=PUBLIC_URL,
        secret_key=SecretKeys((SECRET_KEY,)),
        google_client_id=fake.client_id,
        google_client_secret=Secret(fake.client_secret),
        google_api_endpoint=fake.api_endpoint,
        google_auth_uri=fake.auth_uri,
        google_token_uri=fake.token_uri,
        google_revoke_uri=fake.revoke_uri,
        connector_timeout=10.0,
        **changes,
    )


def new_account(fake: FakeGoogle, *, family: bool = True) -> FakeAccount:
    account = fake.add_account(f"dr-{uuid.uuid4().hex[:8]}@example.com")
    if family:
        account.add_calendar(f"family-{uuid.uuid4().hex[:8]}@group.example.com", "Family")
    fake.consenting_account = account
    return account


def consent(fake: FakeGoogle, url: str) -> dict[str, str]:
    """Approve at the fake; the query it redirects to our callback with."""
    answer = httpx.get(url, follow_redirects=False, trust_env=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{PUBLIC_URL}/oauth/google/callback?"), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


@dataclasses.dataclass
class Linked:
    account: FakeAccount
    connection: dict[str, Any]

    @property
    def primary(self) -> dict[str, Any]:
        return next(c for c in self.connection["calendars"] if c["primary"])

    @property
    def family(self) -> dict[str, Any]:
        return next(c for c in self.connection["calendars"] if c["name"] == "Family")


def forget_connections(store: Store, provider_id: int) -> None:
    """Remove a provider's connections (and their calendars), so that no later test of the
    shared store meets them."""
    with store.write() as session:
        session.execute(delete(Connection).where(Connection.provider_id == provider_id))


def connect(
    client: TestClient, fake: FakeGoogle, provider: ProviderRef, auth: dict[str, str]
) -> Linked:
    """Connect a new account through the API, the fake's consent page and our callback."""
    account = new_account(fake)
    started = client.post(provider_url(provider, "connections", "google"), headers=auth)
    assert started.status_code == 200, started.text
    back = consent(fake, started.json()["consent_url"])
    page = client.get("/oauth/google/callback", params=back)
    assert page.status_code == 200, page.text
    listed = client.get(provider_url(provider, "connections"), headers=auth)
    assert listed.status_code == 200, listed.text
    connection = next(c for c in listed.json()["connections"] if c["account"] == account.email)
    return Linked(account, connection)
