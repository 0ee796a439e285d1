"""No double booking under concurrency, on SQLite and PostgreSQL.

Two kinds of test, as ``engineering-notes.md`` asks: many attempts released together by a
``threading.Barrier``, and deterministic races that widen the window between an attempt's
availability check and its write through ``bookings.Hooks(after_check=...)``. The deterministic
ones fail when ``Store.lock_provider`` and SQLite's ``BEGIN IMMEDIATE`` are taken away.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import pytest

from bridge.booking import bookings
from bridge.errors import SlotUnavailable
from tests.booking.helpers import TUESDAY, book, confirmed_at, local

pytestmark = pytest.mark.usefixtures("frozen_now")

# Upper bound for things that happen at once unless something is broken (never reached when
# the suite passes).
DEADLINE = 30.0
# How long the first attempt, paused between its check and its write, gives the second attempt
# to get past its own check. With the lock the second attempt is blocked, so a passing run
# spends exactly this long; without it the second check takes milliseconds.
PAUSE = 0.4


@dataclasses.dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def run_in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, Outcome]:
    outcome = Outcome()

    def run() -> None:
        try:
            outcome.value = target()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome.error = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def join(thread: threading.Thread) -> None:
    thread.join(DEADLINE)
    assert not thread.is_alive(), "an attempt hung"


@dataclasses.dataclass
class Race:
    first: Outcome
    second: Outcome
    second_checked_while_first_paused: bool


def race(first: Callable[[bookings.Hooks], Any], second: Callable[[bookings.Hooks], Any]) -> Race:
    """Run ``first`` until it has checked, start ``second``, then let ``first`` write.

    ``first`` waits (at most :data:`PAUSE`) for ``second`` to pass its own check before
    writing. With the per-provider lock ``second`` cannot even start checking, so it never
    does while ``first`` is paused, and then sees ``first``'s write.
    """
    first_checked = threading.Event()
    second_starting = threading.Event()
    second_checked = threading.Event()
    overlapped: list[bool] = []

    def pause() -> None:
        first_checked.set()
        assert second_starting.wait(DEADLINE)
        overlapped.append(second_checked.wait(PAUSE))

    first_thread, first_outcome = run_in_thread(lambda: first(bookings.Hooks(after_check=pause)))
    assert first_checked.wait(DEADLINE), f"the first attempt never checked: {first_outcome}"

    def start_second() -> Any:
        second_starting.set()
        return second(bookings.Hooks(after_check=second_checked.set))

    second_thread, second_outcome = run_in_thread(start_second)
    join(first_thread)
    join(second_thread)
    return Race(first_outcome, second_outcome, overlapped == [True])


def assert_one_winner(outcomes: list[Outcome]) -> Outcome:
    unexpected = [o.error for o in outcomes if o.error and not isinstance(o.error, SlotUnavailable)]
    assert unexpected == [], unexpected
    winners = [o for o in outcomes if o.error is None]
    assert len(winners) == 1, f"{len(winners)} attempts succeeded"
    return winners[0]


def test_twenty_simultaneous_attempts_at_one_slot_give_one_booking(store, provider):
    start = local(provider, TUESDAY, 10)
    attempts = 20
    barrier = threading.Barrier(attempts)

    def attempt() -> bookings.NewBooking:
        barrier.wait(DEADLINE)
        return book(store, provider, start)

    threads = [run_in_thread(attempt) for _ in range(attempts)]
    for thread, _ in threads:
        join(thread)
    outcomes = [outcome for _, outcome in threads]
    winner = assert_one_winner(outcomes)
    assert sum(isinstance(o.error, SlotUnavailable) for o in outcomes) == attempts - 1
    (booking,) = confirmed_at(store, provider, start)
    assert booking.id == winner.value.booking.id


def test_a_second_booking_cannot_check_the_slot_while_the_first_is_writing(store, provider):
    start = local(provider, TUESDAY, 11)
    result = race(
        lambda hooks: book(store, provider, start, hooks=hooks),
        lambda hooks: book(store, provider, start, hooks=hooks),
    )
    assert not result.second_checked_while_first_paused, "two attempts checked the slot at once"
    assert result.first.error is None
    assert isinstance(result.second.error, SlotUnavailable)
    (booking,) = confirmed_at(store, provider, start)
    assert booking.id == result.first.value.booking.id


def test_two_reschedules_onto_one_free_slot_give_one_move(store, provider):
    a = book(store, provider, local(provider, TUESDAY, 9)).booking
    b = book(store, provider, local(provider, TUESDAY, 10)).booking
    target = local(provider, TUESDAY, 15)

    def move(booking_id: int) -> Callable[[bookings.Hooks], Any]:
        return lambda hooks: bookings.reschedule(
            store, provider.slug, booking_id, target, actor=bookings.CLIENT, hooks=hooks
        )

    result = race(move(a.id), move(b.id))
    assert not result.second_checked_while_first_paused, "two moves checked the slot at once"
    assert result.first.error is None
    assert isinstance(result.second.error, SlotUnavailable)
    (booking,) = confirmed_at(store, provider, target)
    assert booking.id == a.id
    assert [x.id for x in confirmed_at(store, provider, local(provider, TUESDAY, 10))] == [b.id]


def test_a_booking_and_a_reschedule_onto_one_slot_give_one_winner(store, provider):
    existing = book(store, provider, local(provider, TUESDAY, 9)).booking
    target = local(provider, TUESDAY, 16)
    barrier = threading.Barrier(2)

    def new_booking() -> Any:
        barrier.wait(DEADLINE)
        return book(store, provider, target)

    def move() -> Any:
        barrier.wait(DEADLINE)
        return bookings.reschedule(store, provider.slug, existing.id, target, actor=bookings.CLIENT)

    threads = [run_in_thread(new_booking), run_in_thread(move)]
    for thread, _ in threads:
        join(thread)
    assert_one_winner([outcome for _, outcome in threads])
    assert len(confirmed_at(store, provider, target)) == 1


def test_a_cancel_waits_for_a_concurrent_move_of_the_same_booking(store, provider):
    new = book(store, provider, local(provider, TUESDAY, 9)).booking
    target = local(provider, TUESDAY, 13)
    result = race(
        lambda hooks: bookings.reschedule(
            store, provider.slug, new.id, target, actor=bookings.CLIENT, hooks=hooks
        ),
        lambda hooks: bookings.cancel(
            store, provider.slug, new.id, actor=bookings.CLIENT, hooks=hooks
        ),
    )
    assert not result.second_checked_while_first_paused
    assert result.first.error is None and result.second.error is None
    cancelled = result.second.value
    assert (cancelled.status, cancelled.version, cancelled.start_at) == ("cancelled", 3, target)
