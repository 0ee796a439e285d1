"""Services: defaults, validation ranges and updates."""

from __future__ import annotations

import pytest

from bridge.booking import services
from bridge.booking.services import ServiceSpec
from bridge.errors import NotFound, ValidationFailed
from tests.booking.helpers import TUESDAY, offered
from tests.conftest import new_provider


def create(store, ref, **fields):
    with store.write() as session:
        return services.create_service(session, ref.id, ServiceSpec(**fields))


def test_a_new_service_takes_the_documented_defaults(store, provider):
    service = create(store, provider)
    assert (
        service.name,
        service.duration_minutes,
        service.buffer_before_minutes,
        service.buffer_after_minutes,
        service.min_notice_minutes,
        service.horizon_days,
        service.slot_step_minutes,
        service.active,
    ) == ("Appointment", 30, 0, 0, 120, 60, 30, True)


def test_the_step_defaults_to_the_duration(store, provider):
    assert create(store, provider, duration_minutes=45).slot_step_minutes == 45
    explicit = create(store, provider, duration_minutes=45, slot_step_minutes=15)
    assert explicit.slot_step_minutes == 15


@pytest.mark.usefixtures("frozen_now")
def test_a_service_with_a_defaulted_step_offers_back_to_back_slots(store, provider):
    service = create(store, provider, name="Long", duration_minutes=90)
    assert offered(store, provider, TUESDAY, service.id) == [
        "09:00",
        "10:30",
        "12:00",
        "13:30",
        "15:00",
    ]


OUT_OF_RANGE = [
    ("duration_minutes", 4),
    ("duration_minutes", 1441),
    ("buffer_before_minutes", -1),
    ("buffer_before_minutes", 1441),
    ("buffer_after_minutes", -1),
    ("buffer_after_minutes", 1441),
    ("min_notice_minutes", -1),
    ("min_notice_minutes", 60 * 24 * 365 + 1),
    ("horizon_days", 0),
    ("horizon_days", 731),
    ("slot_step_minutes", 4),
    ("slot_step_minutes", 1441),
]
AT_THE_LIMITS = [
    ("duration_minutes", 5),
    ("duration_minutes", 1440),
    ("buffer_before_minutes", 0),
    ("buffer_after_minutes", 1440),
    ("min_notice_minutes", 0),
    ("min_notice_minutes", 60 * 24 * 365),
    ("horizon_days", 1),
    ("horizon_days", 730),
    ("slot_step_minutes", 5),
    ("slot_step_minutes", 1440),
]


@pytest.mark.parametrize(("field", "value"), OUT_OF_RANGE)
def test_a_value_out_of_range_is_refused_by_field(store, provider, field, value):
    with pytest.raises(ValidationFailed) as failure:
        create(store, provider, **{field: value})
    assert set(failure.value.fields) == {field}
    with store.read() as session:
        assert len(services.list_services(session, provider.id, active_only=False)) == 1


@pytest.mark.parametrize(("field", "value"), AT_THE_LIMITS)
def test_values_at_the_limits_are_accepted(store, provider, field, value):
    assert getattr(create(store, provider, **{field: value}), field) == value


def test_every_problem_is_reported_at_once(store, provider):
    with pytest.raises(ValidationFailed) as failure:
        create(store, provider, duration_minutes=0, horizon_days=0, slot_step_minutes=0)
    assert set(failure.value.fields) == {"duration_minutes", "horizon_days", "slot_step_minutes"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bad\x00name"])
def test_a_bad_name_is_refused(store, provider, name):
    with pytest.raises(ValidationFailed) as failure:
        create(store, provider, name=name)
    assert set(failure.value.fields) == {"name"}


def test_an_update_changes_only_the_given_fields(store, provider):
    with store.write() as session:
        updated = services.update_service(
            session, provider.id, provider.service_id, ServiceSpec(buffer_after_minutes=10)
        )
    assert (updated.buffer_after_minutes, updated.duration_minutes, updated.name) == (
        10,
        30,
        "Appointment",
    )


def test_a_bad_update_changes_nothing(store, provider):
    with pytest.raises(ValidationFailed), store.write() as session:
        services.update_service(
            session,
            provider.id,
            provider.service_id,
            ServiceSpec(duration_minutes=60, horizon_days=9999),
        )
    with store.read() as session:
        service = services.get_service(session, provider.id, provider.service_id)
        assert (service.duration_minutes, service.horizon_days) == (30, 60)


def test_inactive_services_are_listed_only_when_asked(store, provider):
    extra = create(store, provider, name="Extra", active=False)
    with store.read() as session:
        active = services.list_services(session, provider.id, active_only=True)
        everything = services.list_services(session, provider.id, active_only=False)
    assert [s.id for s in active] == [provider.service_id]
    assert [s.id for s in everything] == [provider.service_id, extra.id]


def test_a_service_of_another_provider_is_not_found(store, provider):
    other = new_provider(store)
    with store.read() as session, pytest.raises(NotFound):
        services.get_service(session, provider.id, other.service_id)
    with pytest.raises(NotFound), store.write() as session:
        services.update_service(session, provider.id, other.service_id, ServiceSpec(name="Mine"))
