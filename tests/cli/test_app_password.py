"""``bridge app-password create|list|revoke``: CalDAV passwords for devices."""

from __future__ import annotations

import pytest

from bridge.booking import app_passwords
from bridge.booking.providers import get_provider
from tests.cli.conftest import Database, Invoke, assert_clean_failure


@pytest.fixture
def provider_slug(bridge: Invoke, database: Database) -> str:
    for slug in ("dr-who", "dr-no"):
        result = bridge(
            "provider", "add", "--slug", slug, "--name", "Dr.", "--email", f"{slug}@example.org",
            "--timezone", "Europe/London", "--password-stdin", input="tardis-tardis",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    return "dr-who"


def create(bridge: Invoke, label: str, slug: str = "dr-who") -> str:
    result = bridge("app-password", "create", "--provider", slug, "--label", label)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def signs_in(database: Database, secret: str, slug: str = "dr-who") -> bool:
    with database.store() as store, store.read() as session:
        provider = get_provider(session, slug)
        return app_passwords.find_live(session, provider.id, secret) is not None


def test_create_prints_the_password_alone_on_stdout_once_and_it_signs_in(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    result = bridge("app-password", "create", "--provider", provider_slug, "--label", "iPhone")

    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert "\n" not in secret and len(secret.replace("-", "")) == 24
    assert result.output.count(secret) == 1
    assert "shown this once" in result.stderr and "user name dr-who" in result.stderr
    assert signs_in(database, secret)
    assert not signs_in(database, secret, "dr-no")


def test_create_needs_a_label(bridge: Invoke, sqlite_database: Database) -> None:
    result = bridge("app-password", "create", "--provider", "dr-who")

    assert result.exit_code == 2 and "--label" in result.stderr


def test_list_shows_labels_and_dates_but_never_the_password(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    phone = create(bridge, "iPhone")
    laptop = create(bridge, "Thunderbird on the laptop")
    create(bridge, "not mine", slug="dr-no")

    result = bridge("app-password", "list", "--provider", provider_slug)

    assert result.exit_code == 0, result.output
    assert phone not in result.output and laptop not in result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "LABEL", "CREATED", "LAST", "USED"]
    assert len(rows) == 2 and "not mine" not in result.stdout
    assert "iPhone" in rows[0] and rows[0].endswith("never")
    assert "Thunderbird on the laptop" in rows[1]


def test_list_without_passwords_says_so(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    result = bridge("app-password", "list", "--provider", provider_slug)

    assert result.exit_code == 0 and "dr-who has no app passwords." in result.stdout


def test_revoke_stops_the_password(bridge: Invoke, database: Database, provider_slug: str) -> None:
    revoked = create(bridge, "old phone")
    kept = create(bridge, "new phone")
    revoked_id = bridge("app-password", "list", "--provider", provider_slug).stdout.splitlines()[1]

    result = bridge("app-password", "revoke", "--provider", provider_slug, revoked_id.split()[0])

    assert result.exit_code == 0, result.output
    assert "Revoked app password" in result.stdout and "(old phone)" in result.stdout
    assert not signs_in(database, revoked) and signs_in(database, kept)
    listed = bridge("app-password", "list", "--provider", provider_slug).stdout
    assert "old phone" not in listed and "new phone" in listed


def test_revoking_another_providers_password_fails(
    bridge: Invoke, database: Database, provider_slug: str
) -> None:
    theirs = create(bridge, "theirs", slug="dr-no")
    their_id = bridge("app-password", "list", "--provider", "dr-no").stdout.splitlines()[1]

    result = bridge("app-password", "revoke", "--provider", provider_slug, their_id.split()[0])

    assert "app password" in assert_clean_failure(result, 1)
    assert signs_in(database, theirs, "dr-no")


def test_an_unknown_provider_is_a_clean_failure(bridge: Invoke, sqlite_database: Database) -> None:
    for args in (["create", "--label", "x"], ["list"], ["revoke", "1"]):
        result = bridge("app-password", *args[:1], "--provider", "nobody", *args[1:])

        assert "provider 'nobody' not found" in assert_clean_failure(result, 1)
