"""Providers: validation, and that a new provider is bookable at once."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from bridge.availability import WeeklyHours
from bridge.booking import providers, schedule, services
from bridge.booking.secrets import verify_password
from bridge.booking.validation import check_slug
from bridge.errors import NotFound, ValidationFailed
from tests.booking.helpers import TUESDAY, book, offered
from tests.conftest import new_provider


def create(store, **fields):
    values = {"slug": "", "name": "Dr. Test", "email": "dr@example.org", "time_zone": "UTC"}
    values.update(fields)
    with store.write() as session:
        return providers.create_provider(session, **values)


def unique_slug() -> str:
    return f"p-{uuid.uuid4().hex[:10]}"


@pytest.mark.usefixtures("frozen_now")
def test_a_new_provider_is_bookable_at_once_in_their_own_zone(store):
    ref = new_provider(store, time_zone="America/New_York")
    with store.read() as session:
        (service,) = services.list_services(session, ref.id, active_only=True)
        assert (service.duration_minutes, service.slot_step_minutes) == (30, 30)
        assert schedule.get_weekly_hours(session, ref.id) == [
            WeeklyHours(day, 9 * 60, 17 * 60) for day in range(5)
        ]
    starts = offered(store, ref, TUESDAY)
    assert (starts[0], starts[-1], len(starts)) == ("09:00", "16:30", 16)
    assert offered(store, ref, TUESDAY + dt.timedelta(days=4)) == []
    booked = book(store, ref, dt.datetime(2026, 6, 2, 13, tzinfo=dt.UTC))  # 09:00 in New York
    assert booked.booking.service_id == ref.service_id


@pytest.mark.parametrize("slug", ["a", "7", "dr-smith", "x" * 64, "a1-b2-c3"])
def test_good_slugs_are_accepted(slug):
    assert check_slug(slug) == slug


def test_a_provider_keeps_the_slug_it_was_created_with(store):
    slug = unique_slug()
    assert create(store, slug=slug).slug == slug


@pytest.mark.parametrize(
    "slug", ["", "A", "Dr-Smith", "-a", "a-", "a_b", "a b", "ä", "x" * 65, "admin", "api", "dav"]
)
def test_bad_or_reserved_slugs_are_refused(store, slug):
    with pytest.raises(ValidationFailed) as failure:
        create(store, slug=slug)
    assert set(failure.value.fields) == {"slug"}


def test_a_taken_slug_is_refused(store, provider):
    with pytest.raises(ValidationFailed) as failure:
        create(store, slug=provider.slug)
    assert "already taken" in failure.value.fields["slug"]


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@", "@example.org", "a b@example.org"])
def test_a_bad_email_is_refused(store, email):
    with pytest.raises(ValidationFailed) as failure:
        create(store, slug=unique_slug(), email=email)
    assert set(failure.value.fields) == {"email"}


def test_the_email_is_normalised(store):
    assert create(store, slug=unique_slug(), email="Dr@EXAMPLE.org").email == "Dr@example.org"


@pytest.mark.parametrize("zone", ["", "Mars/Olympus_Mons", "Europe/berlin ", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused(store, zone):
    with pytest.raises(ValidationFailed) as failure:
        create(store, slug=unique_slug(), time_zone=zone)
    assert set(failure.value.fields) == {"time_zone"}


def test_a_short_password_is_refused_and_a_good_one_stored_hashed(store):
    with pytest.raises(ValidationFailed) as failure:
        create(store, slug=unique_slug(), password="short")
    assert set(failure.value.fields) == {"password"}
    provider = create(store, slug=unique_slug(), password="correct horse")
    assert provider.password_hash is not None
    assert "correct horse" not in provider.password_hash
    assert provider.password_hash.startswith("$argon2id$")
    assert verify_password(provider.password_hash, "correct horse")
    assert not verify_password(provider.password_hash, "wrong horse")


def test_an_empty_name_is_refused(store):
    with pytest.raises(ValidationFailed) as failure:
        create(store, slug=unique_slug(), name="  ")
    assert set(failure.value.fields) == {"name"}


def test_updates_are_validated_too(store, provider):
    with pytest.raises(ValidationFailed) as failure, store.write() as session:
        found = providers.get_provider(session, provider.slug)
        providers.update_provider(session, found, time_zone="Nowhere/Special")
    assert set(failure.value.fields) == {"time_zone"}
    with store.write() as session:
        found = providers.get_provider(session, provider.slug)
        providers.update_provider(session, found, name="Dr. New", time_zone="Asia/Kathmandu")
    with store.read() as session:
        found = providers.get_provider(session, provider.slug)
        assert (found.name, found.time_zone) == ("Dr. New", "Asia/Kathmandu")


def test_setting_a_password_replaces_the_hash(store, provider):
    with store.write() as session:
        found = providers.get_provider(session, provider.slug)
        providers.set_password(session, found, "first password")
        with pytest.raises(ValidationFailed):
            providers.set_password(session, found, "short")
    with store.read() as session:
        found = providers.get_provider(session, provider.slug)
        assert found.password_hash and verify_password(found.password_hash, "first password")


def test_an_unknown_provider_is_not_found(store):
    with store.read() as session, pytest.raises(NotFound):
        providers.get_provider(session, "no-such-provider")
