"""A fake Google per test module, a fresh account per test, settings pointing at the fake."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from bridge.connectors.google_tokens import GoogleTokens
from bridge.settings import Secret, Settings
from tests.fakes.google import CALENDAR_SCOPE, FakeAccount, FakeGoogle


@pytest.fixture(scope="module")
def fake_google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh_fake_switches(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults and switches one test sets never leak into the next (for modules using the fake)."""
    if "fake_google" not in request.fixturenames:
        yield
        return
    fake: FakeGoogle = request.getfixturevalue("fake_google")
    fake.faults.clear()
    fake.short_pages = False
    fake.notifications_enabled = True
    fake.consenting_account = None
    fake.clear_requests()
    yield
    fake.faults.clear()


@pytest.fixture
def google_settings(fake_google: FakeGoogle) -> Settings:
    return google_settings_for(fake_google)


def google_settings_for(fake: FakeGoogle, *, timeout: float = 2.0) -> Settings:
    return Settings(
        google_client_id=fake.client_id,
        google_client_secret=Secret(fake.client_secret),
        google_api_endpoint=fake.api_endpoint,
        google_auth_uri=fake.auth_uri,
        google_token_uri=fake.token_uri,
        google_revoke_uri=fake.revoke_uri,
        connector_timeout=timeout,
    )


@pytest.fixture
def account(fake_google: FakeGoogle) -> FakeAccount:
    return fake_google.add_account(f"dr.who.{uuid.uuid4().hex[:10]}@example.com")


def credentials_for(refresh_token: str) -> str:
    """Stored credentials as right after consent, minus the access token (renewed on use)."""
    return GoogleTokens(refresh_token, None, None, (CALENDAR_SCOPE,)).to_json()
