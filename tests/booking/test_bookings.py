"""Booking, cancelling and rescheduling, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge import clock
from bridge.booking import bookings, schedule
from bridge.booking.secrets import hash_secret
from bridge.errors import InvalidStateChange, NotFound, SlotUnavailable, ValidationFailed
from bridge.store.models import BOOKING_CANCELLED, BOOKING_CONFIRMED, Booking, BusyInterval
from tests.booking.helpers import (
    ADA,
    PROVIDER,
    TUESDAY,
    book,
    confirmed_at,
    local,
    offered,
    update_service,
)
from tests.conftest import new_provider

pytestmark = pytest.mark.usefixtures("frozen_now")

SATURDAY = TUESDAY + dt.timedelta(days=4)


def history_of(store, booking_id):
    with store.read() as session:
        return bookings.history(session, booking_id)


def reload(store, booking_id) -> Booking:
    with store.read() as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        return booking


# --- Booking --------------------------------------------------------------------------------


def test_booking_an_offered_slot_confirms_it_for_the_service_length(store, provider):
    start = local(provider, TUESDAY, 10)
    new = book(store, provider, start)
    booking = reload(store, new.booking.id)
    assert booking.status == BOOKING_CONFIRMED
    assert booking.start_at == start
    assert booking.end_at == start + dt.timedelta(minutes=30)
    assert booking.version == 1
    assert booking.uid.endswith("@calendar-bridge")
    assert booking.client_name == "Ada Lovelace"
    assert booking.source == "test"
    assert "10:00" not in offered(store, provider, TUESDAY)


def test_a_start_given_with_any_offset_is_stored_as_the_same_utc_instant(store, provider):
    start = local(provider, TUESDAY, 11).astimezone(dt.timezone(dt.timedelta(hours=-7)))
    booking = reload(store, book(store, provider, start).booking.id)
    assert booking.start_at == start
    assert booking.start_at.utcoffset() == dt.timedelta(0)


def test_the_manage_token_finds_the_booking_and_only_its_hash_is_stored(store, provider):
    new = book(store, provider, local(provider, TUESDAY, 10))
    assert new.manage_token.startswith("bmt_")
    with store.read() as session:
        found = bookings.find_by_manage_token(session, new.manage_token)
        assert found is not None and found.id == new.booking.id
        assert found.manage_token_hash == hash_secret(new.manage_token)
        assert new.manage_token not in found.manage_token_hash
        assert bookings.find_by_manage_token(session, new.manage_token + "x") is None


@pytest.mark.parametrize(
    ("day_offset", "hour", "minute"),
    [
        pytest.param(1, 10, 10, id="off-the-step-grid"),
        pytest.param(1, 8, 30, id="before-working-hours"),
        pytest.param(1, 17, 0, id="would-end-after-working-hours"),
        pytest.param(5, 10, 0, id="saturday"),
        pytest.param(0, 9, 0, id="inside-the-minimum-notice"),
        pytest.param(-3, 10, 0, id="in-the-past"),
        pytest.param(64, 10, 0, id="beyond-the-horizon"),
    ],
)
def test_a_client_can_only_book_a_slot_the_page_offers(store, provider, day_offset, hour, minute):
    day = dt.date(2026, 6, 1) + dt.timedelta(days=day_offset)
    with pytest.raises(SlotUnavailable):
        book(store, provider, local(provider, day, hour, minute))
    with store.read() as session:
        assert bookings.list_bookings(session, provider.id) == []


def test_a_booked_slot_cannot_be_booked_again(store, provider):
    start = local(provider, TUESDAY, 10)
    book(store, provider, start)
    with pytest.raises(SlotUnavailable):
        book(store, provider, start)
    assert len(confirmed_at(store, provider, start)) == 1


def test_a_naive_start_is_refused(store, provider):
    with pytest.raises(ValidationFailed) as failure:
        book(store, provider, dt.datetime(2026, 6, 2, 10, 0))
    assert set(failure.value.fields) == {"start"}


def test_bad_client_details_are_all_reported_by_field(store, provider):
    client = bookings.ClientDetails(name="  ", email="not-an-address", phone="call me")
    with pytest.raises(ValidationFailed) as failure:
        bookings.book(
            store,
            provider.slug,
            provider.service_id,
            local(provider, TUESDAY, 10),
            client,
            source="test",
        )
    assert set(failure.value.fields) == {"client.name", "client.email", "client.phone"}


def test_client_details_are_trimmed_and_normalised(store, provider):
    client = bookings.ClientDetails(
        name="  Grace Hopper ", email="grace@EXAMPLE.org", phone="+1 (555) 010-0000", notes=" hi "
    )
    new = bookings.book(
        store,
        provider.slug,
        provider.service_id,
        local(provider, TUESDAY, 10),
        client,
        source="test",
    )
    booking = reload(store, new.booking.id)
    assert (booking.client_name, booking.client_email) == ("Grace Hopper", "grace@example.org")
    assert (booking.client_phone, booking.client_notes) == ("+1 (555) 010-0000", "hi")


def test_an_unknown_or_inactive_service_is_a_validation_error(store, provider):
    other = new_provider(store)
    start = local(provider, TUESDAY, 10)
    with pytest.raises(ValidationFailed) as failure:
        bookings.book(store, provider.slug, other.service_id, start, ADA, source="test")
    assert set(failure.value.fields) == {"service"}
    update_service(store, provider, active=False)
    with pytest.raises(ValidationFailed) as failure:
        book(store, provider, start)
    assert set(failure.value.fields) == {"service"}


def test_an_unknown_provider_is_not_found(store):
    with pytest.raises(NotFound):
        bookings.book(
            store, "nobody-here", 1, dt.datetime(2026, 6, 2, 8, tzinfo=dt.UTC), ADA, source="test"
        )


def test_buffers_of_an_existing_booking_block_neighbouring_slots(store, provider):
    update_service(store, provider, buffer_before_minutes=30, buffer_after_minutes=15)
    book(store, provider, local(provider, TUESDAY, 12))
    # The new slots carry the same buffers: 11:00 would end 11:30 and need until 11:30 + 15.
    # 11:30 and 12:30 overlap the booking's own buffers (11:30-12:45).
    starts = offered(store, provider, TUESDAY)
    assert "11:00" not in starts and "12:30" not in starts and "11:30" not in starts
    assert "13:00" not in starts  # its 30-minute buffer before reaches back to 12:30
    assert "10:30" in starts and "13:30" in starts
    # Buffers are copied when booked: dropping the service's buffers keeps the booking's.
    update_service(store, provider, buffer_before_minutes=0, buffer_after_minutes=0)
    starts = offered(store, provider, TUESDAY)
    assert "11:00" in starts and "13:00" in starts
    assert "11:30" not in starts and "12:30" not in starts


def test_blocked_time_removes_slots(store, provider):
    with store.write() as session:
        schedule.add_blocked_time(
            session, provider.id, local(provider, TUESDAY, 11), local(provider, TUESDAY, 12, 15)
        )
    starts = offered(store, provider, TUESDAY)
    assert "11:00" not in starts and "11:30" not in starts and "12:00" not in starts
    assert "10:30" in starts and "12:30" in starts
    with pytest.raises(SlotUnavailable):
        book(store, provider, local(provider, TUESDAY, 11, 30))


def test_imported_busy_time_removes_slots(store, provider):
    with store.write() as session:
        session.add(
            BusyInterval(
                provider_id=provider.id,
                source="google:primary",
                remote_id="evt-1",
                start_at=local(provider, TUESDAY, 14, 10),
                end_at=local(provider, TUESDAY, 14, 20),
            )
        )
    starts = offered(store, provider, TUESDAY)
    assert "14:00" not in starts
    assert "13:30" in starts and "14:30" in starts
    with pytest.raises(SlotUnavailable):
        book(store, provider, local(provider, TUESDAY, 14))


def test_busy_time_of_another_provider_changes_nothing(store, provider):
    other = new_provider(store)
    book(store, other, local(other, TUESDAY, 10))
    assert offered(store, provider, TUESDAY)[:3] == ["09:00", "09:30", "10:00"]


# --- Cancelling -----------------------------------------------------------------------------


def test_a_cancelled_booking_frees_its_slot(store, provider):
    start = local(provider, TUESDAY, 10)
    new = book(store, provider, start)
    cancelled = bookings.cancel(store, provider.slug, new.booking.id, actor=bookings.CLIENT)
    assert cancelled.status == BOOKING_CANCELLED
    assert cancelled.cancelled_at == clock.now()
    assert "10:00" in offered(store, provider, TUESDAY)
    rebooked = book(store, provider, start)
    assert rebooked.booking.id != new.booking.id


def test_cancelling_twice_changes_nothing_the_second_time(store, provider):
    new = book(store, provider, local(provider, TUESDAY, 10))
    first = bookings.cancel(store, provider.slug, new.booking.id, actor=bookings.CLIENT)
    second = bookings.cancel(store, provider.slug, new.booking.id, actor=PROVIDER)
    assert first.version == second.version == 2
    assert [change.action for change in history_of(store, new.booking.id)] == [
        "created",
        "cancelled",
    ]


def test_a_booking_of_another_provider_is_not_found(store, provider):
    other = new_provider(store)
    new = book(store, other, local(other, TUESDAY, 10))
    with pytest.raises(NotFound):
        bookings.cancel(store, provider.slug, new.booking.id, actor=PROVIDER)
    with pytest.raises(NotFound):
        bookings.reschedule(
            store, provider.slug, new.booking.id, local(provider, TUESDAY, 11), actor=PROVIDER
        )


# --- Rescheduling ---------------------------------------------------------------------------


def test_a_client_moves_a_booking_to_an_offered_slot(store, provider):
    new = book(store, provider, local(provider, TUESDAY, 10))
    target = local(provider, TUESDAY, 15)
    moved = bookings.reschedule(store, provider.slug, new.booking.id, target, actor=bookings.CLIENT)
    assert (moved.start_at, moved.end_at) == (target, target + dt.timedelta(minutes=30))
    assert moved.uid == new.booking.uid
    assert moved.version == 2
    starts = offered(store, provider, TUESDAY)
    assert "10:00" in starts and "15:00" not in starts


def test_a_bookings_own_time_does_not_block_its_clients_move(store, provider):
    update_service(store, provider, buffer_after_minutes=30)
    new = book(store, provider, local(provider, TUESDAY, 10))
    assert "10:30" not in offered(store, provider, TUESDAY)
    target = local(provider, TUESDAY, 10, 30)
    moved = bookings.reschedule(store, provider.slug, new.booking.id, target, actor=bookings.CLIENT)
    assert moved.start_at == target


@pytest.mark.parametrize(
    ("day", "hour", "minute"),
    [
        pytest.param(SATURDAY, 10, 0, id="outside-working-hours"),
        pytest.param(TUESDAY, 12, 10, id="off-the-step-grid"),
        pytest.param(TUESDAY, 14, 0, id="onto-another-booking"),
    ],
)
def test_a_client_cannot_move_a_booking_to_a_time_not_offered(store, provider, day, hour, minute):
    new = book(store, provider, local(provider, TUESDAY, 10))
    book(store, provider, local(provider, TUESDAY, 14))
    with pytest.raises(SlotUnavailable):
        bookings.reschedule(
            store,
            provider.slug,
            new.booking.id,
            local(provider, day, hour, minute),
            actor=bookings.CLIENT,
        )
    assert reload(store, new.booking.id).start_at == local(provider, TUESDAY, 10)
    assert reload(store, new.booking.id).version == 1


def test_the_provider_may_move_a_booking_outside_working_hours(store, provider):
    new = book(store, provider, local(provider, TUESDAY, 10))
    target = local(provider, SATURDAY, 7, 10)
    moved = bookings.reschedule(store, provider.slug, new.booking.id, target, actor=PROVIDER)
    assert moved.start_at == target


def test_the_provider_may_not_move_a_booking_into_another_ones_buffer(store, provider):
    update_service(store, provider, buffer_after_minutes=15)
    first = book(store, provider, local(provider, TUESDAY, 10))
    second = book(store, provider, local(provider, TUESDAY, 14))
    with pytest.raises(SlotUnavailable):
        # 10:30 touches the first booking but lies in its 15-minute buffer after.
        bookings.reschedule(
            store,
            provider.slug,
            second.booking.id,
            local(provider, TUESDAY, 10, 30),
            actor=PROVIDER,
        )
    moved = bookings.reschedule(
        store, provider.slug, second.booking.id, local(provider, TUESDAY, 10, 45), actor=PROVIDER
    )
    assert moved.start_at == local(provider, TUESDAY, 10, 45)
    assert reload(store, first.booking.id).start_at == local(provider, TUESDAY, 10)


def test_the_provider_may_not_move_a_booking_whose_own_buffer_overlaps_another(store, provider):
    first = book(store, provider, local(provider, TUESDAY, 10))
    update_service(store, provider, buffer_before_minutes=20)
    second = book(store, provider, local(provider, TUESDAY, 14))
    with pytest.raises(SlotUnavailable):
        bookings.reschedule(
            store,
            provider.slug,
            second.booking.id,
            local(provider, TUESDAY, 10, 30),
            actor=PROVIDER,
        )
    assert reload(store, first.booking.id).status == BOOKING_CONFIRMED


def test_a_cancelled_booking_cannot_be_rescheduled(store, provider):
    new = book(store, provider, local(provider, TUESDAY, 10))
    bookings.cancel(store, provider.slug, new.booking.id, actor=PROVIDER)
    for actor in (bookings.CLIENT, PROVIDER):
        with pytest.raises(InvalidStateChange):
            bookings.reschedule(
                store, provider.slug, new.booking.id, local(provider, TUESDAY, 11), actor=actor
            )


def test_a_client_cannot_change_a_booking_that_has_started(store, provider):
    start = local(provider, TUESDAY, 10)
    new = book(store, provider, start)
    with clock.frozen(start + dt.timedelta(minutes=5)):
        with pytest.raises(InvalidStateChange):
            bookings.cancel(store, provider.slug, new.booking.id, actor=bookings.CLIENT)
        with pytest.raises(InvalidStateChange):
            bookings.reschedule(
                store,
                provider.slug,
                new.booking.id,
                local(provider, TUESDAY, 15),
                actor=bookings.CLIENT,
            )
        assert reload(store, new.booking.id).status == BOOKING_CONFIRMED
        # The provider still can.
        cancelled = bookings.cancel(store, provider.slug, new.booking.id, actor=PROVIDER)
    assert cancelled.status == BOOKING_CANCELLED


def test_a_naive_new_start_is_refused(store, provider):
    new = book(store, provider, local(provider, TUESDAY, 10))
    with pytest.raises(ValidationFailed) as failure:
        bookings.reschedule(
            store, provider.slug, new.booking.id, dt.datetime(2026, 6, 2, 12), actor=PROVIDER
        )
    assert set(failure.value.fields) == {"start"}


def test_moving_a_booking_to_its_own_time_changes_nothing(store, provider):
    start = local(provider, TUESDAY, 10)
    new = book(store, provider, start)
    same = bookings.reschedule(store, provider.slug, new.booking.id, start, actor=bookings.CLIENT)
    assert same.version == 1
    assert len(history_of(store, new.booking.id)) == 1


# --- Versions and history -------------------------------------------------------------------


def test_every_change_bumps_the_version_and_writes_a_history_row(store, provider):
    first, second = local(provider, TUESDAY, 10), local(provider, TUESDAY, 15)
    new = book(store, provider, first)
    bookings.reschedule(store, provider.slug, new.booking.id, second, actor=bookings.CLIENT)
    third = local(provider, SATURDAY, 8)
    bookings.reschedule(store, provider.slug, new.booking.id, third, actor=PROVIDER)
    cancelled = bookings.cancel(store, provider.slug, new.booking.id, actor=PROVIDER)
    assert cancelled.version == 4
    assert cancelled.uid == new.booking.uid

    changes = history_of(store, new.booking.id)
    assert [(c.action, c.actor, c.version) for c in changes] == [
        ("created", "client", 1),
        ("rescheduled", "client", 2),
        ("rescheduled", "provider:owner", 3),
        ("cancelled", "provider:owner", 4),
    ]
    created, moved, moved_again, gone = changes
    assert created.before is None
    assert created.after == {
        "start": first.isoformat(),
        "end": (first + dt.timedelta(minutes=30)).isoformat(),
        "status": "confirmed",
        "version": 1,
    }
    assert moved.before == created.after
    assert moved.after["start"] == second.isoformat()
    assert moved_again.before == moved.after
    assert moved_again.after["start"] == third.isoformat()
    assert gone.before == moved_again.after
    assert gone.after["status"] == "cancelled"
    assert all(change.at == clock.now() for change in changes)


def test_the_version_on_the_returned_booking_matches_the_database(store, provider):
    new = book(store, provider, local(provider, TUESDAY, 10))
    moved = bookings.reschedule(
        store, provider.slug, new.booking.id, local(provider, TUESDAY, 11), actor=PROVIDER
    )
    assert moved.version == reload(store, new.booking.id).version == 2


def test_a_client_move_keeps_the_bookings_own_length_clear_of_other_bookings(store, provider):
    update_service(store, provider, duration_minutes=60)
    long = book(store, provider, local(provider, TUESDAY, 9))
    update_service(store, provider, duration_minutes=30, slot_step_minutes=30)
    book(store, provider, local(provider, TUESDAY, 14, 30))
    # 14:00 is an offered 30-minute slot, but the booking still lasts an hour.
    assert "14:00" in offered(store, provider, TUESDAY)
    with pytest.raises(SlotUnavailable):
        bookings.reschedule(
            store,
            provider.slug,
            long.booking.id,
            local(provider, TUESDAY, 14),
            actor=bookings.CLIENT,
        )
    assert len(confirmed_at(store, provider, local(provider, TUESDAY, 14, 30))) == 1
