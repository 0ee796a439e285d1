from __future__ import annotations

import pytest

from bridge.availability import WeeklyHours
from bridge.booking import providers, schedule
from bridge.booking.secrets import verify_password
from bridge.cli import passwords
from tests.cli.conftest import Database, Invoke, assert_clean_failure

ADD = (
    "provider",
    "add",
    "--slug",
    "dr-smith",
    "--name",
    "Dr. Smith",
    "--email",
    "smith@example.org",
    "--timezone",
    "Europe/Berlin",
)
PASSWORD = "correct horse battery"


def test_add_reads_the_password_from_stdin(bridge: Invoke, database: Database) -> None:
    result = bridge(*ADD, "--password-stdin", input=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    assert "Created provider dr-smith: Dr. Smith <smith@example.org>" in result.stdout
    assert "Appointment, 30 min" in result.stdout
    assert "hours: Mon-Fri 09:00-17:00" in result.stdout
    assert PASSWORD not in result.output
    with database.store() as store, store.read() as session:
        created = providers.get_provider(session, "dr-smith")
        assert created.time_zone == "Europe/Berlin"
        assert created.password_hash is not None
        assert verify_password(created.password_hash, PASSWORD)
        assert [(s.name, s.duration_minutes) for s in created.services] == [("Appointment", 30)]
        assert schedule.get_weekly_hours(session, created.id) == [
            WeeklyHours(day, 9 * 60, 17 * 60) for day in range(5)
        ]


def test_add_reads_the_password_from_the_environment(
    bridge: Invoke, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_PROVIDER_PASSWORD", PASSWORD)

    result = bridge(*ADD)

    assert result.exit_code == 0, result.output
    with database.store() as store, store.read() as session:
        created = providers.get_provider(session, "dr-smith")
        assert created.password_hash is not None
        assert verify_password(created.password_hash, PASSWORD)


def test_add_prompts_twice_for_a_hidden_password_on_a_terminal(
    bridge: Invoke, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passwords, "_stdin_is_tty", lambda: True)

    result = bridge(*ADD, input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output
    with sqlite_database.store() as store, store.read() as session:
        created = providers.get_provider(session, "dr-smith")
        assert created.password_hash is not None
        assert verify_password(created.password_hash, PASSWORD)


def test_add_without_any_password_source_fails_and_creates_nothing(
    bridge: Invoke, sqlite_database: Database
) -> None:
    result = bridge(*ADD)

    message = assert_clean_failure(result, 2)
    assert "a password is required" in message
    assert "--password-stdin" in message
    assert "No providers yet" in bridge("provider", "list").stdout


def test_add_refuses_a_short_password(bridge: Invoke, sqlite_database: Database) -> None:
    result = bridge(*ADD, "--password-stdin", input="short\n")

    assert "password: at least 8 characters" in assert_clean_failure(result, 2)


def test_add_names_the_flag_of_an_unknown_time_zone(bridge: Invoke, database: Database) -> None:
    args = [*ADD]
    args[args.index("Europe/Berlin")] = "Mars/Olympus_Mons"

    # No password given: field errors are reported before one is asked for.
    result = bridge(*args)

    message = assert_clean_failure(result, 2)
    assert "--timezone: unknown IANA time zone 'Mars/Olympus_Mons'" in message
    assert "No providers yet" in bridge("provider", "list").stdout


def test_add_reports_every_malformed_field_at_once(
    bridge: Invoke, sqlite_database: Database
) -> None:
    result = bridge(
        "provider", "add", "--slug", "Not A Slug", "--name", " ", "--email", "nope",
        "--timezone", "Nowhere/City", "--password-stdin", input=PASSWORD,
    )  # fmt: skip

    message = assert_clean_failure(result, 2)
    for label in ("--slug:", "--name: must not be empty", "--email:", "--timezone:"):
        assert label in message


def test_add_refuses_a_taken_slug(bridge: Invoke, database: Database) -> None:
    assert bridge(*ADD, "--password-stdin", input=PASSWORD).exit_code == 0

    result = bridge(*ADD, "--password-stdin", input=PASSWORD)

    assert "--slug: 'dr-smith' is already taken" in assert_clean_failure(result, 2)


def test_list_shows_each_provider_with_its_number_of_services(
    bridge: Invoke, database: Database
) -> None:
    assert "No providers yet" in bridge("provider", "list").stdout
    bridge(*ADD, "--password-stdin", input=PASSWORD)
    bridge(
        "provider", "add", "--slug", "anna", "--name", "Anna Tutor", "--email", "anna@example.org",
        "--timezone", "America/New_York", "--password-stdin", input=PASSWORD,
    )  # fmt: skip

    result = bridge("provider", "list")

    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines == [
        ["SLUG", "NAME", "EMAIL", "TIME", "ZONE", "SERVICES"],
        ["anna", "Anna", "Tutor", "anna@example.org", "America/New_York", "1"],
        ["dr-smith", "Dr.", "Smith", "smith@example.org", "Europe/Berlin", "1"],
    ]
