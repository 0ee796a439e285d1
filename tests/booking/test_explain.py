"""Why a slot is not offered: each reason by example, and free exactly when find_slots offers it.

The clock is pinned to Monday 2026-06-01 08:00 in Berlin; a new provider works weekdays 9-17
there, with a 30-minute service bookable from two hours ahead, up to 60 days ahead.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from zoneinfo import ZoneInfo

import pytest

from bridge import availability, clock
from bridge.availability import Interval
from bridge.booking import explain, providers, schedule, services, slots
from bridge.store import Store
from bridge.store.models import BOOKING_CONFIRMED, BlockedTime, Booking
from tests.booking.calendar_helpers import add_busy, add_calendar
from tests.booking.helpers import TUESDAY, book, local, update_service
from tests.conftest import ProviderRef, new_provider

DAY = dt.timedelta(days=1)
WEDNESDAY = TUESDAY + DAY


def explained(
    store: Store, ref: ProviderRef, window: Interval, now: dt.datetime | None = None
) -> list[explain.Candidate]:
    with store.read() as session:
        provider = providers.get_provider(session, ref.slug)
        service = services.get_service(session, ref.id, ref.service_id)
        return explain.explain_slots(session, provider, service, window, now or clock.now())


def day(ref: ProviderRef, date: dt.date) -> Interval:
    return Interval(local(ref, date, 0), local(ref, date + DAY, 0))


def by_time(ref: ProviderRef, candidates: list[explain.Candidate]) -> dict[str, list[str]]:
    """``{"09:00": ["booking", ...]}`` in the provider's zone."""
    zone = ZoneInfo(ref.time_zone)
    return {
        c.start.astimezone(zone).strftime("%H:%M"): [r.code for r in c.reasons] for c in candidates
    }


pytestmark = pytest.mark.usefixtures("frozen_now")


def test_a_free_day_lists_every_grid_start_as_free(store, provider):
    candidates = explained(store, provider, day(provider, TUESDAY))

    assert [c.start for c in candidates] == [
        local(provider, TUESDAY, 9) + i * dt.timedelta(minutes=30) for i in range(16)
    ]
    assert all(c.free and c.end - c.start == dt.timedelta(minutes=30) for c in candidates)


def test_booking_blocked_time_and_calendar_busy_name_what_blocks(store, provider):
    booked = book(store, provider, local(provider, TUESDAY, 10)).booking
    with store.write() as session:
        block = schedule.add_blocked_time(
            session,
            provider.id,
            local(provider, TUESDAY, 12),
            local(provider, TUESDAY, 13),
            summary="Lunch with the accountant",
        )
        block_id = block.id
    work = add_calendar(store, provider.id, name="Work", account="dr@example.org")
    add_busy(
        store, provider.id, work.id, local(provider, TUESDAY, 14), local(provider, TUESDAY, 14, 20)
    )
    add_busy(
        store,
        provider.id,
        work.id,
        local(provider, TUESDAY, 14, 10),
        local(provider, TUESDAY, 14, 25),
    )

    candidates = {c.start: c for c in explained(store, provider, day(provider, TUESDAY))}

    (taken,) = candidates[local(provider, TUESDAY, 10)].reasons
    assert (taken.code, taken.booking_id) == ("booking", booked.id)
    for minute in (0, 30):
        (blocked,) = candidates[local(provider, TUESDAY, 12, minute)].reasons
        assert (blocked.code, blocked.blocked_time_id) == ("blocked_time", block_id)
        assert "accountant" not in blocked.message  # the provider's own note stays out too
    busy = candidates[local(provider, TUESDAY, 14)].reasons
    # Two busy rows of one calendar make one reason naming the calendar and its account.
    assert [(r.code, r.calendar) for r in busy] == [
        ("busy", explain.CalendarRef(work.id, "Work", "dr@example.org"))
    ]
    assert "Work" in busy[0].message and "dr@example.org" in busy[0].message
    free = [c for c in candidates.values() if c.free]
    assert len(free) == 16 - 1 - 2 - 1


def test_busy_time_of_two_calendars_gives_a_reason_each(store, provider):
    work = add_calendar(store, provider.id, name="Work")
    home = add_calendar(store, provider.id, name="Home")
    for calendar in (work, home):
        add_busy(
            store,
            provider.id,
            calendar.id,
            local(provider, TUESDAY, 9),
            local(provider, TUESDAY, 10),
        )

    first = explained(store, provider, day(provider, TUESDAY))[0]

    assert sorted(r.calendar.name for r in first.reasons if r.calendar) == ["Home", "Work"]


def test_busy_time_of_an_unknown_source_is_still_a_reason(store, provider):
    with store.write() as session:
        from bridge.booking.busy import replace_remote_busy

        replace_remote_busy(
            session,
            provider.id,
            "legacy",
            "x",
            [Interval(local(provider, TUESDAY, 9), local(provider, TUESDAY, 10))],
        )

    first = explained(store, provider, day(provider, TUESDAY))[0]

    assert [(r.code, r.calendar) for r in first.reasons] == [("busy", None)]


def test_buffers_widen_the_slot_and_the_booking(store, provider):
    update_service(store, provider, buffer_after_minutes=15)
    booked = book(store, provider, local(provider, TUESDAY, 11)).booking  # blocks 11:00-11:45
    update_service(store, provider, buffer_after_minutes=0, buffer_before_minutes=20)

    reasons = by_time(provider, explained(store, provider, day(provider, TUESDAY)))

    # 10:30 is free: the slot ends at 11:00, where the booking starts (its buffer is after it).
    assert reasons["10:30"] == []
    assert reasons["11:00"] == ["booking"]
    # 11:30 is blocked by the booking's own 15 minutes after it; 12:00 with its 20 minutes
    # before reaches 11:40, still inside them.
    assert reasons["11:30"] == ["booking"]
    assert reasons["12:00"] == ["booking"]
    assert reasons["12:30"] == []
    assert booked.id


def test_a_day_off_names_the_override(store, provider):
    with store.write() as session:
        override = schedule.add_override(
            session, provider.id, WEDNESDAY, available=False, start_minute=None, end_minute=None
        )
        override_id = override.id

    candidates = explained(store, provider, day(provider, WEDNESDAY))

    assert len(candidates) == 16
    for candidate in candidates:
        (reason,) = candidate.reasons
        assert (reason.code, reason.override_id) == ("date_override", override_id)
        assert "day off" in reason.message


def test_hours_off_name_the_override_and_extra_hours_add_starts(store, provider):
    with store.write() as session:
        off = schedule.add_override(
            session,
            provider.id,
            WEDNESDAY,
            available=False,
            start_minute=12 * 60,
            end_minute=13 * 60,
        ).id
        schedule.add_override(
            session,
            provider.id,
            WEDNESDAY,
            available=True,
            start_minute=18 * 60,
            end_minute=19 * 60,
        )

    reasons = {
        time: codes
        for time, codes in by_time(
            provider, explained(store, provider, day(provider, WEDNESDAY))
        ).items()
    }
    candidates = {c.start: c for c in explained(store, provider, day(provider, WEDNESDAY))}

    assert reasons["11:30"] == []
    assert reasons["12:00"] == reasons["12:30"] == ["date_override"]
    assert candidates[local(provider, WEDNESDAY, 12)].reasons[0].override_id == off
    assert reasons["13:00"] == []
    assert reasons["18:00"] == reasons["18:30"] == []


def test_a_slot_that_would_end_after_working_hours_says_so(store, provider):
    update_service(store, provider, duration_minutes=60, slot_step_minutes=15)

    reasons = by_time(provider, explained(store, provider, day(provider, TUESDAY)))

    assert reasons["16:00"] == []
    assert reasons["16:15"] == reasons["16:30"] == reasons["16:45"] == ["outside_working_hours"]


def test_notice_and_horizon(store, provider):
    # Now is Monday 08:00; two hours' notice leaves 09:00 and 09:30 out.
    monday = explained(store, provider, day(provider, clock.now().date()))
    reasons = by_time(provider, monday)
    assert reasons["09:00"] == reasons["09:30"] == ["min_notice"]
    assert reasons["10:00"] == []

    update_service(store, provider, horizon_days=2)
    # The horizon ends Wednesday 08:00: 08:00 itself is the last start allowed.
    wednesday = by_time(provider, explained(store, provider, day(provider, WEDNESDAY)))
    assert wednesday["09:00"] == ["beyond_horizon"]

    past = by_time(
        provider, explained(store, provider, day(provider, clock.now().date() - 3 * DAY))
    )
    assert past["09:00"] == ["min_notice"]  # Friday the week before: passed


def test_reasons_combine(store, provider):
    with store.write() as session:
        schedule.add_override(
            session,
            provider.id,
            clock.now().date(),
            available=False,
            start_minute=None,
            end_minute=None,
        )
    booked = book(store, provider, local(provider, TUESDAY, 9))

    monday = by_time(provider, explained(store, provider, day(provider, clock.now().date())))

    assert monday["09:00"] == ["date_override", "min_notice"]
    assert booked


# -- free in the explanation exactly when find_slots offers it ---------------------------------

ZONES = ["Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu"]
# Days around DST changes: Berlin 29 Mar / 25 Oct, Santiago 5 Apr / 6 Sep (midnight gaps),
# Lord Howe 5 Apr / 4 Oct (half-hour shifts).
CLOCKS = [
    dt.datetime(2026, 3, 26, 7, 13, tzinfo=dt.UTC),
    dt.datetime(2026, 4, 2, 23, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 9, 3, 12, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 1, 17, 45, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 22, 3, 30, tzinfo=dt.UTC),
]


def _random_schedule(store: Store, ref: ProviderRef, rng: random.Random, now: dt.datetime) -> None:
    update_service(
        store,
        ref,
        duration_minutes=rng.choice([15, 20, 30, 45, 90]),
        slot_step_minutes=rng.choice([5, 10, 15, 30, 45]),
        buffer_before_minutes=rng.choice([0, 0, 5, 10, 25]),
        buffer_after_minutes=rng.choice([0, 0, 10, 15, 30]),
        min_notice_minutes=rng.randrange(0, 12 * 60),
        horizon_days=rng.randint(3, 9),
    )
    zone = ZoneInfo(ref.time_zone)
    today = now.astimezone(zone).date()
    with store.write() as session:
        hours = []
        for weekday in range(7):
            if rng.random() < 0.15:
                continue
            start = rng.randrange(0, 16 * 60, 15)
            hours.append(availability.WeeklyHours(weekday, start, rng.randint(start + 15, 1440)))
            if rng.random() < 0.3:  # a night shift into the next day
                hours.append(availability.WeeklyHours(weekday, 22 * 60, 1440))
                hours.append(availability.WeeklyHours((weekday + 1) % 7, 0, 90))
        schedule.set_weekly_hours(session, ref.id, hours)
        for _ in range(rng.randint(0, 4)):
            date = today + dt.timedelta(days=rng.randint(-1, 10))
            kind = rng.choice(["off", "hours_off", "extra"])
            start = rng.randrange(0, 1380, 15)
            end = rng.randint(start + 15, 1440)
            schedule.add_override(
                session,
                ref.id,
                date,
                available=kind == "extra",
                start_minute=None if kind == "off" else start,
                end_minute=None if kind == "off" else end,
            )
        service = services.get_service(session, ref.id, ref.service_id)
        cursor = now - dt.timedelta(days=1)
        for index in range(rng.randint(0, 25)):  # bookings never overlap (PostgreSQL excludes it)
            cursor += dt.timedelta(minutes=rng.randrange(30, 600, 5))
            length = dt.timedelta(minutes=rng.choice([15, 30, 60]))
            session.add(
                Booking(
                    uid=f"{uuid.uuid4()}@test",
                    provider_id=ref.id,
                    service_id=service.id,
                    start_at=cursor,
                    end_at=cursor + length,
                    buffer_before_minutes=rng.choice([0, 15]),
                    buffer_after_minutes=rng.choice([0, 10]),
                    status=BOOKING_CONFIRMED if index % 5 else "cancelled",
                    version=1,
                    source="test",
                    client_name="Ada",
                    client_email="ada@example.org",
                )
            )
            cursor += length
        for _ in range(rng.randint(0, 3)):
            start = now + dt.timedelta(minutes=rng.randrange(-1440, 10 * 1440))
            session.add(
                BlockedTime(
                    provider_id=ref.id,
                    start_at=start,
                    end_at=start + dt.timedelta(minutes=rng.choice([30, 90, 600, 2 * 1440])),
                )
            )
    calendar = add_calendar(store, ref.id, name="Work")
    for _ in range(rng.randint(0, 30)):
        start = now + dt.timedelta(minutes=rng.randrange(-1440, 10 * 1440))
        end = start + dt.timedelta(minutes=rng.choice([1, 20, 45, 120, 1440 + 30]))
        add_busy(store, ref.id, calendar.id, start, end)


@pytest.mark.parametrize("seed", range(16))
def test_free_in_the_explanation_exactly_when_find_slots_offers_it(store, seed):
    rng = random.Random(seed)
    now = rng.choice(CLOCKS)
    ref = new_provider(store, time_zone=rng.choice(ZONES))
    with clock.frozen(now):
        _random_schedule(store, ref, rng, now)
    start = now + dt.timedelta(minutes=rng.randrange(-2 * 1440, 3 * 1440))
    window = Interval(start, start + dt.timedelta(minutes=rng.randrange(60, 9 * 1440)))

    with store.read() as session:
        provider = providers.get_provider(session, ref.slug)
        service = services.get_service(session, ref.id, ref.service_id)
        offered = slots.find_slots(session, provider, service, window, now)
        candidates = explain.explain_slots(session, provider, service, window, now)

    assert [c.start for c in candidates if c.free] == [s.start for s in offered]
    assert [c.start for c in candidates] == sorted({c.start for c in candidates})
    assert all(window.start <= c.start < window.end for c in candidates)
    for candidate in candidates:  # every offered slot is one of the candidates, and vice versa
        for reason in candidate.reasons:
            assert reason.code in {
                "outside_working_hours",
                "date_override",
                "min_notice",
                "beyond_horizon",
                "booking",
                "blocked_time",
                "busy",
            }
