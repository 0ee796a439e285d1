from __future__ import annotations

import pytest

from bridge.booking import tokens
from tests.cli.conftest import Database, Invoke, assert_clean_failure


@pytest.fixture
def provider_slug(bridge: Invoke) -> str:
    result = bridge(
        "provider", "add", "--slug", "dr-who", "--name", "Dr. Who", "--email", "who@example.org",
        "--timezone", "Europe/London", "--password-stdin", input="tardis-tardis",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return "dr-who"


def create(bridge: Invoke, *scope: str) -> str:
    result = bridge("token", "create", *scope)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def authenticates(database: Database, secret: str) -> bool:
    with database.store() as store, store.write() as session:
        return tokens.authenticate(session, secret) is not None


def test_create_prints_the_secret_alone_on_stdout_once_and_it_authenticates(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    result = bridge("token", "create", "--provider", provider_slug, "--label", "laptop")

    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("bat_") and "\n" not in secret
    assert result.output.count(secret) == 1
    assert "shown this once" in result.stderr
    with database.store() as store, store.write() as session:
        token = tokens.authenticate(session, secret)
        assert token is not None
        assert token.provider is not None and token.provider.slug == provider_slug
        assert token.label == "laptop" and not token.is_admin


def test_create_admin_token(bridge: Invoke, database: Database) -> None:
    secret = create(bridge, "--admin")

    with database.store() as store, store.write() as session:
        token = tokens.authenticate(session, secret)
        assert token is not None and token.is_admin and token.provider_id is None


@pytest.mark.parametrize("scope", [[], ["--admin", "--provider", "dr-who"]])
def test_create_needs_exactly_one_scope(
    bridge: Invoke, sqlite_database: Database, scope: list[str]
) -> None:
    result = bridge("token", "create", *scope)

    assert "exactly one of --provider SLUG or --admin" in assert_clean_failure(result, 2)


def test_create_for_an_unknown_provider_fails(bridge: Invoke, sqlite_database: Database) -> None:
    result = bridge("token", "create", "--provider", "nobody")

    assert "provider 'nobody' not found" in assert_clean_failure(result, 1)


def test_list_shows_scope_and_label_but_never_the_secret(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    provider_secret = create(bridge, "--provider", provider_slug, "--label", "calendar app")
    admin_secret = create(bridge, "--admin", "--label", "ops")

    everything = bridge("token", "list")
    only_provider = bridge("token", "list", "--provider", provider_slug)
    only_admin = bridge("token", "list", "--admin")

    for result in (everything, only_provider, only_admin):
        assert result.exit_code == 0, result.output
        assert provider_secret not in result.output and admin_secret not in result.output
        assert "bat_" not in result.output
    header, *rows = everything.stdout.splitlines()
    assert header.split() == ["ID", "SCOPE", "LABEL", "CREATED", "LAST", "USED"]
    assert "provider dr-who  calendar app" in rows[0] and rows[0].endswith("never")
    assert "admin" in rows[1] and "ops" in rows[1]
    assert len(only_provider.stdout.splitlines()) == 2 and "dr-who" in only_provider.stdout
    assert len(only_admin.stdout.splitlines()) == 2 and "admin" in only_admin.stdout


def test_list_shows_when_a_token_was_last_used(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    assert authenticates(database, create(bridge, "--provider", provider_slug))

    row = bridge("token", "list").stdout.splitlines()[1]

    assert not row.endswith("never") and row.endswith("UTC")


def test_revoke_stops_the_secret_from_authenticating(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    secret = create(bridge, "--provider", provider_slug)
    kept = create(bridge, "--admin")
    token_id = bridge("token", "list").stdout.splitlines()[1].split()[0]

    result = bridge("token", "revoke", token_id)

    assert result.exit_code == 0, result.output
    assert f"Revoked API token {token_id}" in result.stdout
    assert not authenticates(database, secret)
    assert authenticates(database, kept)
    assert token_id not in [line.split()[0] for line in bridge("token", "list").stdout.splitlines()]


def test_revoke_an_unknown_token_fails(bridge: Invoke, sqlite_database: Database) -> None:
    result = bridge("token", "revoke", "4711")

    assert "token 4711 not found" in assert_clean_failure(result, 1)
