"""Pulling a calendar: cursors, full resyncs, pages, leases, failures and coalescing."""

from __future__ import annotations

import datetime as dt
import threading

from bridge.booking.busy import replace_remote_busy
from bridge.connectors.errors import RateLimited, RemoteRejected, Transient
from bridge.store import Store
from bridge.store.models import BOOKING_CANCELLED
from bridge.store.sync_models import (
    CALENDAR_ERROR,
    CALENDAR_OK,
    CONNECTION_NEEDS_REAUTH,
    NOTICE_SKIPPED_EVENT,
    Connection,
)
from bridge.sync.connections import CALENDAR_GONE
from bridge.sync.engine import SyncEngine
from tests.sync.conftest import SETTINGS, Clock, Linked, Linker
from tests.sync.helpers import (
    TUESDAY,
    book,
    busy,
    busy_of,
    calendar_row,
    get_booking,
    local,
    mirror_of,
    notices,
    remote_events,
)


def _event(linked: Linked, hour: int) -> str:
    return linked.system.add_event(
        "primary", local(linked.ref, TUESDAY, hour), local(linked.ref, TUESDAY, hour + 1)
    )


def test_a_first_pull_is_full_and_saves_the_cursor(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    _event(linked, 13)

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.full and result.applied == 1
    calendar = calendar_row(store, linked.calendar_id)
    assert calendar.cursor is not None
    assert (calendar.status, calendar.failures, calendar.last_error) == (CALENDAR_OK, 0, None)
    assert calendar.last_synced_at is not None
    again = engine.pull_calendar(linked.calendar_id)
    assert again is not None and not again.full and again.applied == 0


def test_an_expired_cursor_resyncs_fully_without_duplicates_and_sweeps_deletions(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    kept, gone = _event(linked, 13), _event(linked, 15)
    engine.pull_calendar(linked.calendar_id)
    linked.system.delete_event("primary", gone)
    linked.system.expire_cursors("primary")
    # A deletion the incremental pull would have said, lost with the cursor:
    assert busy_of(store, linked.ref, gone)

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.full and result.error is None
    assert [r for _, _, r in busy(store, linked.ref)] == [kept]
    assert [e.remote_id for e in remote_events(store, linked)] == [kept]
    assert calendar_row(store, linked.calendar_id).cursor is not None


def test_a_full_pull_checks_a_mirror_it_did_not_see_before_cancelling(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.drain_outbox()
    engine.pull_calendar(linked.calendar_id)
    mirror = mirror_of(store, booking.id, linked.calendar_id)
    assert mirror is not None
    linked.system.delete_event("primary", mirror.remote_id)
    linked.system.expire_cursors("primary")
    gets: list[str] = []
    linked.system.on_call = lambda op: gets.append(op) if op == "get" else None

    result = engine.pull_calendar(linked.calendar_id)

    assert gets == ["get"]
    assert result is not None and result.cancelled == 1
    assert get_booking(store, booking.id).status == BOOKING_CANCELLED


def test_a_full_pull_keeps_a_mirror_that_still_exists(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, 10))
    engine.drain_outbox()
    mirror = mirror_of(store, booking.id, linked.calendar_id)
    assert mirror is not None
    linked.system.edit_event("primary", mirror.remote_id, malformed="unreadable")  # not listed

    result = engine.pull_calendar(linked.calendar_id, full=True)

    assert result is not None and result.cancelled == 0
    assert get_booking(store, booking.id).version == 1


def test_a_skipped_event_is_noticed_once_and_the_pull_goes_on(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    linked.system.add_event(
        "primary", TUESDAY, TUESDAY, remote_id="broken1", malformed="no start time"
    )
    good = _event(linked, 13)

    result = engine.pull_calendar(linked.calendar_id)
    engine.pull_calendar(linked.calendar_id, full=True)

    assert result is not None and (result.skipped, result.busy_events) == (1, 1)
    assert busy_of(store, linked.ref, good)
    [notice] = notices(store, linked.ref, NOTICE_SKIPPED_EVENT)
    assert notice.detail == {"reason": "no start time", "remote_id": "broken1"}


def test_an_unexpandable_series_blocks_its_first_occurrence_and_is_noticed(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    start = local(linked.ref, TUESDAY, 9)
    series = linked.system.add_event(
        "primary", start, start + dt.timedelta(hours=1), recurrence=("RRULE:FREQ=SOMETIMES",)
    )

    engine.pull_calendar(linked.calendar_id)
    engine.extend_recurrences()

    assert busy_of(store, linked.ref, series) == [(start, start + dt.timedelta(hours=1))]
    assert len(notices(store, linked.ref, NOTICE_SKIPPED_EVENT)) == 1


def test_the_cursor_is_saved_only_after_the_last_page(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    ids = [_event(linked, h) for h in (9, 11, 13)]
    linked.system.page_size = 1
    linked.system.fail("pull_page", Transient("connection dropped"))
    pages: list[int] = []

    broken = engine.pull_calendar(linked.calendar_id, progress=pages.append)

    assert broken is not None and broken.error == "connection dropped"
    assert pages == [1]
    assert calendar_row(store, linked.calendar_id).cursor is None
    assert [r for _, _, r in busy(store, linked.ref)] == ids[:1]  # the first page is applied

    result = engine.pull_calendar(linked.calendar_id, progress=pages.append)

    assert result is not None and result.full and result.error is None
    assert pages == [1, 1, 2, 3]
    assert sorted(r for _, _, r in busy(store, linked.ref)) == sorted(ids)


def test_an_interrupted_pull_stops_after_its_page_and_the_next_one_finishes(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    """A shutdown must not wait for a long import: the pull stops between pages."""
    ids = [_event(linked, h) for h in (9, 11, 13)]
    linked.system.page_size = 1
    pages: list[int] = []

    def stop_after_first_page(applied: int) -> None:
        pages.append(applied)
        engine.interrupt()

    stopped = engine.pull_calendar(linked.calendar_id, progress=stop_after_first_page)

    assert stopped is not None and stopped.error is not None and "shutting down" in stopped.error
    assert pages == [1]
    calendar = calendar_row(store, linked.calendar_id)
    assert calendar.cursor is None and calendar.lease_owner is None
    assert [r for _, _, r in busy(store, linked.ref)] == ids[:1]

    restarted = SyncEngine(
        store, SETTINGS, engine.runtime.keyring, connector_factory=engine.runtime.connector_factory
    )
    result = restarted.pull_calendar(linked.calendar_id)

    assert result is not None and result.full and result.error is None
    assert sorted(r for _, _, r in busy(store, linked.ref)) == sorted(ids)


def test_only_one_pull_of_a_calendar_runs_at_a_time(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    start = threading.Barrier(2)
    loser_done = threading.Event()
    results: list[object] = []

    def hold_the_pull() -> None:
        assert loser_done.wait(timeout=30), "the other pull did not return"

    linked.system.before_pull = hold_the_pull

    def attempt() -> None:
        start.wait(timeout=30)
        result = engine.pull_calendar(linked.calendar_id)
        if result is None:
            loser_done.set()
        results.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(r is None for r in results) == [False, True]
    assert calendar_row(store, linked.calendar_id).lease_owner is None


def test_revoked_access_marks_the_connection(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    linked.system.revoke()

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.error is not None
    with store.read() as session:
        connection = session.get(Connection, linked.connection_id)
        assert connection is not None and connection.status == CONNECTION_NEEDS_REAUTH
    assert linked.calendar_id not in engine.due_calendars()


def test_a_transient_failure_backs_off(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock: Clock
) -> None:
    linked.system.fail("pull", RateLimited("slow down", retry_after=60))

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.error == "slow down"
    calendar = calendar_row(store, linked.calendar_id)
    assert (calendar.failures, calendar.last_error) == (1, "slow down")
    assert calendar.retry_at == moving_clock.now + dt.timedelta(seconds=60)
    assert linked.calendar_id not in engine.due_calendars()
    moving_clock.advance(seconds=60)
    assert linked.calendar_id in engine.due_calendars()
    engine.pull_calendar(linked.calendar_id)
    calendar = calendar_row(store, linked.calendar_id)
    assert (calendar.failures, calendar.last_error, calendar.retry_at) == (0, None, None)


def test_a_deleted_calendar_is_an_error_without_endless_retries(
    store: Store, engine: SyncEngine, linked: Linked, linker: Linker, moving_clock: Clock
) -> None:
    linked.system.delete_calendar("primary")

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.error == CALENDAR_GONE
    calendar = calendar_row(store, linked.calendar_id)
    assert (calendar.status, calendar.last_error, calendar.retry_at) == (
        CALENDAR_ERROR,
        CALENDAR_GONE,
        None,
    )
    moving_clock.advance(days=1)
    assert linked.calendar_id not in engine.due_calendars()

    linked.system.calendars["primary"].deleted = False  # shared again, and reconnected
    linker.link(linked.system, linked.ref)
    assert calendar_row(store, linked.calendar_id).status == CALENDAR_OK
    assert linked.calendar_id in engine.due_calendars()


def test_a_refusing_server_puts_the_calendar_in_error(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    linked.system.fail("pull", RemoteRejected("calendar access is disabled"))

    engine.pull_calendar(linked.calendar_id)

    calendar = calendar_row(store, linked.calendar_id)
    assert (calendar.status, calendar.last_error) == (CALENDAR_ERROR, "calendar access is disabled")


def test_due_calendars_follow_the_poll_interval_and_requests(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock: Clock
) -> None:
    assert linked.calendar_id in engine.due_calendars()  # never synced
    engine.pull_calendar(linked.calendar_id)
    assert linked.calendar_id not in engine.due_calendars()

    engine.request_pull(linked.calendar_id)
    assert linked.calendar_id in engine.due_calendars()
    engine.pull_calendar(linked.calendar_id)
    assert calendar_row(store, linked.calendar_id).pull_requested_at is None
    assert linked.calendar_id not in engine.due_calendars()

    moving_clock.advance(seconds=SETTINGS.sync_poll_interval)
    assert linked.calendar_id in engine.due_calendars()


def test_a_request_during_a_pull_runs_the_pull_once_more(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    pulls: list[int] = []

    def request_once() -> None:
        pulls.append(1)
        if len(pulls) == 1:
            engine.request_pull(linked.calendar_id)

    linked.system.before_pull = request_once
    engine.request_pull(linked.calendar_id)  # before the pull: served by it

    engine.pull_calendar(linked.calendar_id)

    assert len(pulls) == 2
    assert calendar_row(store, linked.calendar_id).pull_requested_at is None


def test_busy_rows_of_other_sources_survive_a_full_resync(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    from bridge.availability import Interval

    with store.write() as session:
        start = local(linked.ref, TUESDAY, 8)
        replace_remote_busy(
            session, linked.ref.id, "other", "x1", [Interval(start, start + dt.timedelta(hours=1))]
        )
    engine.pull_calendar(linked.calendar_id, full=True)

    assert busy_of(store, linked.ref, "x1")


def test_a_change_that_cannot_be_applied_is_skipped_and_the_pull_goes_on(
    store: Store, engine: SyncEngine, linked: Linked, monkeypatch
) -> None:
    from bridge.sync import busytime

    real = busytime.store_event

    def store_event(session, scope, event, generation):  # noqa: ANN001, ANN202
        if event.remote_id == "boom":
            raise ValueError("unexpected data")
        return real(session, scope, event, generation)

    monkeypatch.setattr(busytime, "store_event", store_event)
    _event(linked, 9)
    linked.system.add_event(
        "primary", local(linked.ref, TUESDAY, 11), local(linked.ref, TUESDAY, 12), remote_id="boom"
    )
    good = _event(linked, 13)

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.error is None
    assert (result.skipped, result.busy_events) == (1, 2)
    assert busy_of(store, linked.ref, good)
    assert busy_of(store, linked.ref, "boom") == []
    [notice] = notices(store, linked.ref, NOTICE_SKIPPED_EVENT)
    assert notice.detail is not None and notice.detail["remote_id"] == "boom"
