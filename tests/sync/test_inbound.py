"""Applying pulls: echoes, our events moved or deleted remotely, and foreign busy time."""

from __future__ import annotations

import dataclasses
import datetime as dt

from bridge.connectors.base import Blocking
from bridge.store import Store
from bridge.store.models import BOOKING_CANCELLED, BOOKING_CONFIRMED
from bridge.store.sync_models import NOTICE_CONFLICT
from bridge.sync.engine import SyncEngine
from tests.booking.helpers import offered
from tests.sync.conftest import SETTINGS, Linked, Linker
from tests.sync.helpers import (
    TUESDAY,
    book,
    busy,
    busy_of,
    get_booking,
    history_actors,
    local,
    merged_busy,
    mirror_of,
    notices,
    outbox_rows,
    remote_events,
)

UTC = dt.UTC


def _written(store: Store, engine: SyncEngine, linked: Linked, hour: int = 10):
    booking = book(store, linked.ref, local(linked.ref, TUESDAY, hour))
    engine.drain_outbox()
    mirror = mirror_of(store, booking.id, linked.calendar_id)
    assert mirror is not None
    return booking, mirror


# -- our own events ------------------------------------------------------------------------


def test_the_echo_of_our_write_is_ignored(store: Store, engine: SyncEngine, linked: Linked) -> None:
    booking, mirror = _written(store, engine, linked)

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.error is None
    assert (result.applied, result.busy_events, result.rescheduled) == (1, 0, 0)
    assert busy(store, linked.ref) == []
    assert history_actors(store, booking.id) == ["client"]
    after = mirror_of(store, booking.id, linked.calendar_id)
    assert after is not None and after.remote_etag == mirror.remote_etag
    assert outbox_rows(store, linked) == []


def test_a_title_change_of_our_event_only_updates_the_etag(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    linked.system.edit_event("primary", mirror.remote_id, summary="Ada (bring X-rays)")

    engine.pull_calendar(linked.calendar_id)

    after = mirror_of(store, booking.id, linked.calendar_id)
    assert after is not None
    assert after.remote_etag == linked.system.event("primary", mirror.remote_id).etag
    assert after.remote_etag != mirror.remote_etag
    assert get_booking(store, booking.id).version == 1
    assert outbox_rows(store, linked) == []
    assert busy(store, linked.ref) == []


def test_a_remote_move_reschedules_the_booking(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    new_start = local(linked.ref, TUESDAY, 18)  # outside working hours: a provider may do that
    linked.system.move_event(
        "primary", mirror.remote_id, new_start, new_start + dt.timedelta(minutes=30)
    )

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.rescheduled == 1
    moved = get_booking(store, booking.id)
    assert (moved.start_at, moved.version) == (new_start, 2)
    assert history_actors(store, booking.id) == ["client", f"memory:Work: {mirror.remote_id}"]
    engine.drain_outbox()
    assert [c[0] for c in linked.system.writes()] == ["create"]  # nothing to write back
    assert busy(store, linked.ref) == []


def test_a_remote_move_onto_another_booking_is_put_back_with_a_notice(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    other = book(store, linked.ref, local(linked.ref, TUESDAY, 14))
    engine.drain_outbox()
    linked.system.move_event("primary", mirror.remote_id, other.start_at, other.end_at)

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.rescheduled == 0
    assert get_booking(store, booking.id).start_at == booking.start_at
    [notice] = notices(store, linked.ref, NOTICE_CONFLICT)
    assert notice.booking_id == booking.id and "put back" in notice.message
    engine.drain_outbox()
    event = linked.system.event("primary", mirror.remote_id)
    assert (event.start, event.end) == (booking.start_at, booking.end_at)
    engine.pull_calendar(linked.calendar_id)  # the put-back's echo changes nothing
    assert len(notices(store, linked.ref, NOTICE_CONFLICT)) == 1
    assert get_booking(store, booking.id).version == 1


def test_a_remote_resize_moves_the_start_and_keeps_the_length(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    new_start = local(linked.ref, TUESDAY, 11)
    linked.system.move_event(
        "primary", mirror.remote_id, new_start, new_start + dt.timedelta(hours=2)
    )

    engine.pull_calendar(linked.calendar_id)
    engine.drain_outbox()

    moved = get_booking(store, booking.id)
    assert (moved.start_at, moved.end_at) == (new_start, new_start + dt.timedelta(minutes=30))
    event = linked.system.event("primary", mirror.remote_id)
    assert (event.start, event.end) == (moved.start_at, moved.end_at)


def test_a_remote_delete_cancels_the_booking(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    linked.system.delete_event("primary", mirror.remote_id)

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and (result.cancelled, result.held) == (1, 0)
    cancelled = get_booking(store, booking.id)
    assert cancelled.status == BOOKING_CANCELLED
    assert history_actors(store, booking.id)[-1] == f"memory:Work: {mirror.remote_id}"
    engine.drain_outbox()
    assert [c[0] for c in linked.system.writes()] == ["create"]
    assert outbox_rows(store, linked) == []


def test_an_event_back_after_its_deletion_is_rewritten(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    linked.system.delete_event("primary", mirror.remote_id)
    engine.pull_calendar(linked.calendar_id)
    linked.system.edit_event("primary", mirror.remote_id, deleted=False)  # restored from trash

    engine.pull_calendar(linked.calendar_id)
    engine.drain_outbox()

    assert get_booking(store, booking.id).status == BOOKING_CANCELLED
    assert booking.uid not in linked.system.live_marked()


def test_copies_of_our_events_made_by_other_tools_are_not_busy(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, mirror = _written(store, engine, linked)
    start, end = booking.start_at, booking.end_at
    linked.system.add_event("primary", start, end, ident=booking.uid)  # keeps the UID
    linked.system.add_event("primary", start, end, ident=f"{mirror.remote_id}@google.com")
    linked.system.add_event("primary", start, end, marker=booking.uid, ident="x@y")

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.busy_events == 0
    assert busy(store, linked.ref) == []
    assert remote_events(store, linked) == []
    assert get_booking(store, booking.id).version == 1


def test_a_foreign_event_that_turns_out_ours_loses_its_busy_time(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    booking, _ = _written(store, engine, linked)
    copy = linked.system.add_event("primary", booking.start_at, booking.end_at, ident="x@y")
    engine.pull_calendar(linked.calendar_id)
    assert busy_of(store, linked.ref, copy)

    linked.system.edit_event("primary", copy, ident=booking.uid)
    engine.pull_calendar(linked.calendar_id)

    assert busy_of(store, linked.ref, copy) == []


# -- foreign events ------------------------------------------------------------------------


def test_a_foreign_busy_event_blocks_its_time(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    start, end = local(linked.ref, TUESDAY, 13), local(linked.ref, TUESDAY, 14)
    remote_id = linked.system.add_event("primary", start, end, summary="Dentist")

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.busy_events == 1
    assert busy_of(store, linked.ref, remote_id) == [(start, end)]
    assert "13:00" not in offered(store, linked.ref, TUESDAY)
    assert "12:30" in offered(store, linked.ref, TUESDAY)


def test_free_and_declined_events_block_nothing(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    start, end = local(linked.ref, TUESDAY, 13), local(linked.ref, TUESDAY, 14)
    linked.system.add_event("primary", start, end, blocks=Blocking.FREE)

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.busy_events == 0
    assert busy(store, linked.ref) == []
    [row] = remote_events(store, linked)
    assert row.blocks == "free"


def test_unanswered_invitations_block_unless_the_setting_says_free(
    store: Store, keyring, linker: Linker, linked: Linked
) -> None:
    start, end = local(linked.ref, TUESDAY, 13), local(linked.ref, TUESDAY, 14)
    remote_id = linked.system.add_event("primary", start, end, blocks=Blocking.UNANSWERED)
    from bridge.sync.engine import SyncEngine as Engine

    busy_engine = Engine(store, SETTINGS, keyring, connector_factory=linker.factory)
    busy_engine.pull_calendar(linked.calendar_id)
    assert busy_of(store, linked.ref, remote_id) == [(start, end)]

    free = dataclasses.replace(SETTINGS, unanswered_invitations="free")
    free_engine = Engine(store, free, keyring, connector_factory=linker.factory)
    free_engine.pull_calendar(linked.calendar_id, full=True)
    assert busy_of(store, linked.ref, remote_id) == []


def test_a_transparent_event_turning_busy_starts_blocking(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    start, end = local(linked.ref, TUESDAY, 13), local(linked.ref, TUESDAY, 14)
    remote_id = linked.system.add_event("primary", start, end, blocks=Blocking.FREE)
    engine.pull_calendar(linked.calendar_id)

    linked.system.edit_event("primary", remote_id, blocks=Blocking.BUSY)
    engine.pull_calendar(linked.calendar_id)

    assert busy_of(store, linked.ref, remote_id) == [(start, end)]


def test_an_all_day_event_blocks_the_whole_local_day(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    remote_id = linked.system.add_event("primary", TUESDAY, TUESDAY + dt.timedelta(days=1))

    engine.pull_calendar(linked.calendar_id)

    # Berlin is UTC+2 in June: the local day is 22:00 UTC to 22:00 UTC.
    day = (dt.datetime(2026, 6, 1, 22, tzinfo=UTC), dt.datetime(2026, 6, 2, 22, tzinfo=UTC))
    assert merged_busy(store, linked.ref, remote_id) == [day]
    assert offered(store, linked.ref, TUESDAY) == []


def test_all_day_events_follow_dst_in_the_providers_zone(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock
) -> None:
    moving_clock.now = dt.datetime(2026, 10, 20, 6, tzinfo=UTC)
    change_day = dt.date(2026, 10, 25)  # Berlin leaves summer time: a 25-hour day
    remote_id = linked.system.add_event("primary", change_day, change_day + dt.timedelta(days=2))

    engine.pull_calendar(linked.calendar_id)

    assert merged_busy(store, linked.ref, remote_id) == [
        (dt.datetime(2026, 10, 24, 22, tzinfo=UTC), dt.datetime(2026, 10, 26, 23, tzinfo=UTC))
    ]


def test_a_recurring_event_blocks_every_occurrence_with_its_exceptions(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    first = local(linked.ref, TUESDAY, 9)
    series = linked.system.add_event(
        "primary",
        first,
        first + dt.timedelta(hours=1),
        time_zone="Europe/Berlin",
        recurrence=("RRULE:FREQ=WEEKLY;COUNT=4",),
    )
    week = dt.timedelta(days=7)
    moved_to = local(linked.ref, TUESDAY + week, 15)
    linked.system.add_event(
        "primary",
        moved_to,
        moved_to + dt.timedelta(hours=1),
        remote_id=f"{series}_2",
        series_id=series,
        original_start=first + week,
    )
    linked.system.cancel_occurrence("primary", series, first + 2 * week, f"{series}_3")

    result = engine.pull_calendar(linked.calendar_id)

    assert result is not None and result.error is None
    hour = dt.timedelta(hours=1)
    assert busy_of(store, linked.ref, series) == [
        (first, first + hour),
        (moved_to, moved_to + hour),
        (first + 3 * week, first + 3 * week + hour),
    ]


def test_an_exception_arriving_before_its_series_still_replaces_its_occurrence(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    first = local(linked.ref, TUESDAY, 9)
    week, hour = dt.timedelta(days=7), dt.timedelta(hours=1)
    moved_to = local(linked.ref, TUESDAY + week, 15)
    linked.system.add_event(
        "primary",
        moved_to,
        moved_to + hour,
        remote_id="series1_2",
        series_id="series1",
        original_start=first + week,
    )
    engine.pull_calendar(linked.calendar_id)
    assert busy_of(store, linked.ref, "series1") == [(moved_to, moved_to + hour)]

    linked.system.add_event(
        "primary",
        first,
        first + hour,
        remote_id="series1",
        time_zone="Europe/Berlin",
        recurrence=("RRULE:FREQ=WEEKLY;COUNT=3",),
    )
    engine.pull_calendar(linked.calendar_id)

    assert busy_of(store, linked.ref, "series1") == [
        (first, first + hour),
        (moved_to, moved_to + hour),
        (first + 2 * week, first + 2 * week + hour),
    ]


def test_deleting_a_series_frees_all_its_time(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    first = local(linked.ref, TUESDAY, 9)
    series = linked.system.add_event(
        "primary", first, first + dt.timedelta(hours=1), recurrence=("RRULE:FREQ=DAILY;COUNT=5",)
    )
    single = linked.system.add_event(
        "primary", local(linked.ref, TUESDAY, 16), local(linked.ref, TUESDAY, 17)
    )
    engine.pull_calendar(linked.calendar_id)
    assert len(busy_of(store, linked.ref, series)) == 5

    linked.system.delete_event("primary", series)
    linked.system.delete_event("primary", single)
    engine.pull_calendar(linked.calendar_id)

    assert busy(store, linked.ref) == []
    assert remote_events(store, linked) == []


def test_foreign_events_of_a_calendar_not_checking_conflicts_are_ignored(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    from bridge.sync import connections

    with store.write() as session:
        connections.set_calendar_options(
            session, linked.ref.id, linked.calendar_id, check_conflicts=False
        )
    booking, mirror = _written(store, engine, linked)
    linked.system.add_event(
        "primary", local(linked.ref, TUESDAY, 13), local(linked.ref, TUESDAY, 14)
    )
    new_start = local(linked.ref, TUESDAY, 15)
    linked.system.move_event(
        "primary", mirror.remote_id, new_start, new_start + dt.timedelta(minutes=30)
    )

    engine.pull_calendar(linked.calendar_id)

    assert busy(store, linked.ref) == []
    moved = get_booking(store, booking.id)
    assert (moved.status, moved.start_at) == (BOOKING_CONFIRMED, new_start)
