"""The stale rule and the live check before a client's booking or move.

Connectors are :class:`FreeBusyOnly` fakes keyed by connection id; the end-to-end version
against the real Google connector and the fake Google lives in ``tests/web/test_live_check.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import defaultdict

import pytest

from bridge import clock
from bridge.availability import Interval
from bridge.booking import bookings
from bridge.booking.calendar_guard import (
    CalendarGuard,
    LiveCalendar,
    LiveConnection,
    request_pulls_in,
)
from bridge.connectors.errors import NeedsReauth, Transient
from bridge.errors import CalendarUnavailable, SlotUnavailable
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.sync_models import CONNECTION_ERROR, CONNECTION_NEEDS_REAUTH, Mirror
from tests.booking.calendar_helpers import FreeBusyOnly, add_calendar, pull_requested_at
from tests.booking.helpers import PROVIDER, TUESDAY, book, local, update_service
from tests.conftest import ProviderRef

pytestmark = pytest.mark.usefixtures("frozen_now")

SETTINGS = Settings(free_busy_timeout=5.0)
SHORT = Settings(free_busy_timeout=0.05)


@dataclasses.dataclass
class Remote:
    """The fake remote side: one :class:`FreeBusyOnly` per connection id."""

    connectors: defaultdict[int, FreeBusyOnly] = dataclasses.field(
        default_factory=lambda: defaultdict(FreeBusyOnly)
    )

    def factory(self, target: LiveConnection) -> FreeBusyOnly:
        return self.connectors[target.id]

    def asked(self) -> int:
        return sum(len(c.asked) for c in self.connectors.values())


@pytest.fixture
def remote() -> Remote:
    return Remote()


def guard(store: Store, remote: Remote, settings: Settings = SETTINGS, **changes) -> CalendarGuard:
    return CalendarGuard(
        dataclasses.replace(settings, **changes),
        remote.factory,
        request_pulls=request_pulls_in(store),
    )


def span(provider: ProviderRef, hour: int, minute: int = 0, length: int = 30) -> Interval:
    start = local(provider, TUESDAY, hour, minute)
    return Interval(start, start + dt.timedelta(minutes=length))


# -- the live check itself ----------------------------------------------------------------------


def target(ident: int, *calendars: str) -> LiveConnection:
    return LiveConnection(
        ident,
        "memory",
        f"account{ident}@example.org",
        None,
        tuple(LiveCalendar(100 * ident + i, c, c.title()) for i, c in enumerate(calendars)),
    )


def test_busy_overlapping_the_span_is_reported_per_calendar(store, provider, remote):
    slot = span(provider, 10)
    remote.connectors[1].busy = {
        "work": [
            Interval(slot.start - dt.timedelta(minutes=5), slot.start + dt.timedelta(minutes=1))
        ],
        "home": [Interval(slot.end, slot.end + dt.timedelta(hours=1))],  # touches: not busy
    }

    result = guard(store, remote).live_check([target(1, "work", "home")], slot)

    assert [c.remote_id for c in result.busy] == ["work"]
    assert result.failures == ()
    ((calendars, window, timeout),) = remote.connectors[1].asked
    assert calendars == ("work", "home") and window == slot and timeout == 5.0


def test_our_own_events_do_not_count_as_busy(store, provider, remote):
    slot = span(provider, 10, length=60)
    own = Interval(slot.start - dt.timedelta(minutes=30), slot.start + dt.timedelta(minutes=30))
    remote.connectors[1].busy = {"work": [own]}

    checker = guard(store, remote)
    assert checker.live_check([target(1, "work")], slot, [own]).busy == ()
    # A foreign event sticking out of our own event still blocks.
    remote.connectors[1].busy = {"work": [Interval(own.start, own.end + dt.timedelta(minutes=1))]}
    assert len(checker.live_check([target(1, "work")], slot, [own]).busy) == 1


@pytest.mark.parametrize(
    "error",
    [Transient("Google answered 503"), NeedsReauth("invalid_grant"), RuntimeError("bug")],
    ids=["transient", "reauth", "unexpected"],
)
def test_a_failed_check_is_a_failure_naming_the_calendars(store, provider, remote, error, caplog):
    remote.connectors[1].error = error

    result = guard(store, remote).live_check([target(1, "work")], span(provider, 10))

    assert result.busy == ()
    (failure,) = result.failures
    assert failure.calendars == ("Work",) and failure.account == "account1@example.org"
    if isinstance(error, NeedsReauth):
        assert failure.reason == "the connection needs re-authorisation"
    else:
        assert failure.reason == "it could not be reached"
    # The connector's own words are kept for the log; an unexpected error's never are.
    assert failure.detail == (
        str(error) if not isinstance(error, RuntimeError) else "unexpected RuntimeError"
    )


def test_a_calendar_missing_from_the_answer_is_a_failure(store, provider, remote):
    remote.connectors[1].drop = {"home"}

    result = guard(store, remote).live_check([target(1, "work", "home")], span(provider, 10))

    assert [(f.calendars, f.reason) for f in result.failures] == [(("Home",), "no answer for it")]


def test_a_connection_that_cannot_be_built_is_a_failure(store, provider, remote):
    def broken(_target: LiveConnection) -> FreeBusyOnly:
        raise NeedsReauth("the stored credentials cannot be decrypted")

    checker = CalendarGuard(SETTINGS, broken)

    (failure,) = checker.live_check([target(1, "work")], span(provider, 10)).failures
    assert failure.reason == "the connection needs re-authorisation"
    assert "cannot be decrypted" in failure.detail


def test_a_late_answer_is_not_waited_for(store, provider, remote):
    late = remote.connectors[1]
    late.hold = threading.Event()
    try:
        result = guard(store, remote, SHORT).live_check([target(1, "work")], span(provider, 10))
    finally:
        late.hold.set()

    (failure,) = result.failures
    assert failure.reason == "no answer within 0.05 s"


def test_connections_are_asked_at_once(store, provider, remote):
    # Each answer waits for the other to be asked: asked one after the other, both would fail.
    both_asked = threading.Barrier(2, timeout=30)
    for ident in (1, 2):
        remote.connectors[ident].busy = {f"c{ident}": []}

    original = FreeBusyOnly.free_busy

    def meet(self, calendars, window, *, timeout):
        both_asked.wait()
        return original(self, calendars, window, timeout=timeout)

    for connector in remote.connectors.values():
        connector.free_busy = meet.__get__(connector)  # type: ignore[method-assign]

    result = guard(store, remote).live_check([target(1, "c1"), target(2, "c2")], span(provider, 10))

    assert result.busy == () and result.failures == ()


# -- before a booking -----------------------------------------------------------------------------


def test_without_calendars_nothing_is_asked(store, provider, remote):
    guard(store, remote).check_booking(
        store, provider.slug, provider.service_id, local(provider, TUESDAY, 10)
    )

    assert remote.asked() == 0


def test_busy_live_refuses_the_slot_and_asks_for_a_pull(store, provider, remote):
    update_service(store, provider, buffer_before_minutes=10, buffer_after_minutes=5)
    work = add_calendar(store, provider.id, name="Work")
    start = local(provider, TUESDAY, 10)
    # An event created a second ago, never pulled, inside the buffer after the slot.
    remote.connectors[work.connection_id].busy = {
        work.remote_id: [Interval(start + dt.timedelta(minutes=32), start + dt.timedelta(hours=1))]
    }

    with pytest.raises(SlotUnavailable):
        guard(store, remote).check_booking(store, provider.slug, provider.service_id, start)

    ((calendars, window, _),) = remote.connectors[work.connection_id].asked
    assert calendars == (work.remote_id,)
    assert window == Interval(start - dt.timedelta(minutes=10), start + dt.timedelta(minutes=35))
    assert pull_requested_at(store, work.id) == clock.now()


def test_a_slot_the_database_refuses_costs_no_remote_call(store, provider, remote):
    work = add_calendar(store, provider.id)
    start = local(provider, TUESDAY, 10)
    book(store, provider, start)

    guard(store, remote).check_booking(store, provider.slug, provider.service_id, start)
    guard(store, remote).check_booking(store, provider.slug, 999_999, start)  # unknown service

    assert remote.asked() == 0
    assert work


def test_free_live_lets_the_booking_go_ahead(store, provider, remote):
    work = add_calendar(store, provider.id)
    other = add_calendar(store, provider.id, name="Home", connection_id=work.connection_id)
    start = local(provider, TUESDAY, 10)

    guard(store, remote).check_booking(store, provider.slug, provider.service_id, start)

    ((calendars, _, _),) = remote.connectors[work.connection_id].asked  # one query per connection
    assert set(calendars) == {work.remote_id, other.remote_id}
    assert pull_requested_at(store, work.id) is None


def test_the_live_check_holds_no_lock(store, provider, remote):
    work = add_calendar(store, provider.id)
    start = local(provider, TUESDAY, 10)
    locked: list[bool] = []

    def lock_meanwhile(calendars, window, *, timeout):
        # If the caller held the provider's lock, this would wait for it and time out.
        with store.write() as session:
            Store.lock_provider(session, provider.id)
            locked.append(True)
        return {calendar: [] for calendar in calendars}

    remote.connectors[work.connection_id].free_busy = lock_meanwhile  # type: ignore[method-assign]

    guard(store, remote).check_booking(store, provider.slug, provider.service_id, start)

    assert locked == [True]


@pytest.mark.parametrize("policy", ["hide", "warn"])
def test_a_failed_check_follows_the_stale_rule(store, provider, remote, policy):
    work = add_calendar(store, provider.id, name="Work")
    remote.connectors[work.connection_id].error = Transient("timed out")
    checker = guard(store, remote, stale_calendar_policy=policy)
    start = local(provider, TUESDAY, 10)

    if policy == "hide":
        with pytest.raises(CalendarUnavailable, match="Work"):
            checker.check_booking(store, provider.slug, provider.service_id, start)
    else:
        checker.check_booking(store, provider.slug, provider.service_id, start)
    assert remote.asked() == 1


@pytest.mark.parametrize("policy", ["hide", "warn"])
def test_a_late_check_follows_the_stale_rule(store, provider, remote, policy):
    work = add_calendar(store, provider.id, name="Work")
    late = remote.connectors[work.connection_id]
    late.hold = threading.Event()
    checker = guard(store, remote, SHORT, stale_calendar_policy=policy)
    start = local(provider, TUESDAY, 10)
    try:
        if policy == "hide":
            with pytest.raises(CalendarUnavailable, match="no answer within"):
                checker.check_booking(store, provider.slug, provider.service_id, start)
        else:
            checker.check_booking(store, provider.slug, provider.service_id, start)
    finally:
        late.hold.set()


# -- the stale rule before a booking ---------------------------------------------------------------


@pytest.mark.parametrize(
    "calendar",
    [
        {"connection_status": CONNECTION_NEEDS_REAUTH},
        {"connection_status": CONNECTION_ERROR},
        {"calendar_status": "error"},
        {"synced_ago": None},
        {"synced_ago": dt.timedelta(hours=2)},
    ],
    ids=["needs_reauth", "connection_error", "calendar_error", "never_synced", "stale"],
)
def test_a_broken_or_stale_calendar_pauses_bookings_without_asking(
    store, provider, remote, calendar
):
    add_calendar(store, provider.id, name="Work", **calendar)
    start = local(provider, TUESDAY, 10)

    with pytest.raises(CalendarUnavailable, match="'Work'") as refused:
        guard(store, remote, sync_stale_after=1800.0).check_booking(
            store, provider.slug, provider.service_id, start
        )

    assert refused.value.calendars == ("Work",)
    assert remote.asked() == 0


def test_under_warn_a_stale_calendar_lets_bookings_through_after_a_live_check(
    store, provider, remote
):
    stale = add_calendar(store, provider.id, name="Work", synced_ago=dt.timedelta(days=1))
    reauth = add_calendar(store, provider.id, name="Old", connection_status=CONNECTION_NEEDS_REAUTH)

    guard(store, remote, stale_calendar_policy="warn").check_booking(
        store, provider.slug, provider.service_id, local(provider, TUESDAY, 10)
    )

    # The stale calendar is asked live; the one needing re-authorisation is not.
    assert list(remote.connectors) == [stale.connection_id]
    assert reauth.connection_id not in remote.connectors


def test_a_calendar_that_does_not_check_conflicts_is_ignored(store, provider, remote):
    add_calendar(store, provider.id, check_conflicts=False, synced_ago=None)

    guard(store, remote).check_booking(
        store, provider.slug, provider.service_id, local(provider, TUESDAY, 10)
    )

    assert remote.asked() == 0


# -- before a client's move ---------------------------------------------------------------------


def test_a_move_is_checked_without_the_booking_blocking_itself(store, provider, remote):
    update_service(store, provider, duration_minutes=60, slot_step_minutes=30)
    start = local(provider, TUESDAY, 10)
    booked = book(store, provider, start).booking
    work = add_calendar(store, provider.id)
    with store.write() as session:
        session.add(
            Mirror(
                booking_id=booked.id,
                calendar_id=work.id,
                remote_id="ours",
                booking_version=1,
                remote_start=start,
                remote_end=start + dt.timedelta(hours=1),
            )
        )
    # Google shows our own event at 10:00-11:00; the booking moves half an hour later.
    remote.connectors[work.connection_id].busy = {
        work.remote_id: [Interval(start, start + dt.timedelta(hours=1))]
    }
    checker = guard(store, remote)

    checker.check_move(store, provider.slug, booked.id, start + dt.timedelta(minutes=30))

    # A foreign event right after the booking's own time blocks the move.
    remote.connectors[work.connection_id].busy = {
        work.remote_id: [Interval(start, start + dt.timedelta(hours=1, minutes=15))]
    }
    with pytest.raises(SlotUnavailable):
        checker.check_move(store, provider.slug, booked.id, start + dt.timedelta(minutes=30))


def test_a_move_the_database_refuses_costs_no_remote_call(store, provider, remote):
    start = local(provider, TUESDAY, 10)
    booked = book(store, provider, start).booking
    book(store, provider, start + dt.timedelta(hours=1))
    add_calendar(store, provider.id)

    guard(store, remote).check_move(store, provider.slug, booked.id, start + dt.timedelta(hours=1))
    guard(store, remote).check_move(store, provider.slug, booked.id, start)  # not a move

    assert remote.asked() == 0


def test_a_stale_calendar_pauses_client_moves(store, provider, remote):
    start = local(provider, TUESDAY, 10)
    booked = book(store, provider, start).booking
    add_calendar(store, provider.id, synced_ago=None)

    with pytest.raises(CalendarUnavailable):
        guard(store, remote).check_move(
            store, provider.slug, booked.id, start + dt.timedelta(hours=2)
        )
    assert remote.asked() == 0

    # A cancelled booking is not moved at all: nothing to check, the move itself refuses it.
    bookings.cancel(store, provider.slug, booked.id, actor=PROVIDER)
    guard(store, remote).check_move(store, provider.slug, booked.id, start + dt.timedelta(hours=2))


def test_the_stale_event_of_a_cancelled_booking_does_not_block_a_new_one(store, provider, remote):
    start = local(provider, TUESDAY, 10)
    old = book(store, provider, start).booking
    work = add_calendar(store, provider.id)
    with store.write() as session:
        session.add(
            Mirror(
                booking_id=old.id,
                calendar_id=work.id,
                remote_id="ours",
                booking_version=1,
                remote_start=start,
                remote_end=start + dt.timedelta(minutes=30),
            )
        )
    bookings.cancel(store, provider.slug, old.id, actor=PROVIDER)
    # The outbox has not deleted the event yet: Google still shows it busy.
    remote.connectors[work.connection_id].busy = {
        work.remote_id: [Interval(start, start + dt.timedelta(minutes=30))]
    }

    guard(store, remote).check_booking(store, provider.slug, provider.service_id, start)

    assert remote.asked() == 1
