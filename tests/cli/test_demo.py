from __future__ import annotations

from pathlib import Path

from bridge.booking import demo, schedule, tokens
from bridge.booking.secrets import verify_password
from tests.cli.conftest import Database


def test_seed_makes_a_bookable_provider_with_two_services_a_password_and_a_token(
    sqlite_database: Database,
) -> None:
    with sqlite_database.store() as store:
        store.upgrade()
        with store.write() as session:
            seed = demo.seed_demo(session)
        with store.write() as session:
            provider = seed.provider
            assert (provider.slug, provider.time_zone) == ("demo", "Europe/Berlin")
            offered = [(s.name, s.duration_minutes, s.buffer_after_minutes) for s in seed.services]
            assert offered == [("Appointment", 30, 0), ("Consultation", 60, 10)]
            assert len(schedule.get_weekly_hours(session, provider.id)) == 5
            assert provider.password_hash is not None
            assert verify_password(provider.password_hash, seed.password)
            token = tokens.authenticate(session, seed.api_token)
            assert token is not None and token.provider_id == provider.id


def test_passwords_differ_between_seeds(tmp_path: Path) -> None:
    passwords = set()
    for name in ("a", "b"):
        with Database("sqlite", f"sqlite:///{tmp_path / name}.sqlite3").store() as store:
            store.upgrade()
            with store.write() as session:
                passwords.add(demo.seed_demo(session).password)
    assert len(passwords) == 2


def test_seed_if_empty_does_nothing_once_any_provider_exists(sqlite_database: Database) -> None:
    with sqlite_database.store() as store:
        store.upgrade()
        with store.write() as session:
            assert demo.seed_demo_if_empty(session) is not None
        with store.write() as session:
            assert demo.seed_demo_if_empty(session) is None
