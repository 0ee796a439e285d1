"""Slots from the database equal the pure computation over everything busy."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from bridge import availability
from bridge.availability import Interval
from bridge.booking import providers, schedule, services, slots
from bridge.store.models import BlockedTime, BusyInterval
from tests.booking.helpers import local, update_service
from tests.conftest import MONDAY, new_provider

DAY = dt.timedelta(days=1)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.usefixtures("frozen_now")
def test_find_slots_equals_free_slots_over_all_busy_time(store, seed):
    rng = random.Random(seed)
    ref = new_provider(store, time_zone=rng.choice(["Europe/Berlin", "Asia/Kathmandu"]))
    update_service(
        store,
        ref,
        duration_minutes=rng.choice([20, 30, 45]),
        slot_step_minutes=rng.choice([10, 15, 30]),
        buffer_before_minutes=rng.randrange(0, 40),
        buffer_after_minutes=rng.randrange(0, 40),
        min_notice_minutes=rng.randrange(0, 600),
        horizon_days=12,
    )
    with store.write() as session:
        schedule.add_override(
            session,
            ref.id,
            MONDAY.date() + 5 * DAY,
            available=True,
            start_minute=600,
            end_minute=720,
        )
        rows = []
        for index in range(300):
            start = MONDAY + dt.timedelta(minutes=rng.randrange(-2 * 1440, 16 * 1440))
            end = start + dt.timedelta(minutes=rng.randint(1, 240))
            rows.append(
                {
                    "provider_id": ref.id,
                    "source": "test",
                    "remote_id": f"e{index}",
                    "start_at": start,
                    "end_at": end,
                    "imported_at": MONDAY,
                }
            )
        session.execute(insert(BusyInterval), rows)
        for _ in range(10):
            start = MONDAY + dt.timedelta(minutes=rng.randrange(0, 14 * 1440))
            session.add(
                BlockedTime(
                    provider_id=ref.id, start_at=start, end_at=start + dt.timedelta(hours=3)
                )
            )

    window = Interval(local(ref, MONDAY.date(), 0), local(ref, MONDAY.date() + 14 * DAY, 0))
    with store.read() as session:
        provider = providers.get_provider(session, ref.slug)
        service = services.get_service(session, ref.id, ref.service_id)
        found = slots.find_slots(session, provider, service, window, MONDAY)
        everything = Interval(MONDAY - 30 * DAY, MONDAY + 30 * DAY)
        busy = slots.busy_near(session, ref.id, everything)
        rules = slots.rules_of(service)
    zone = ZoneInfo(ref.time_zone)
    working = availability.working_intervals(
        zone,
        schedule.WEEKDAYS_9_TO_5,
        [availability.DateOverride(MONDAY.date() + 5 * DAY, True, 600, 720)],
        MONDAY.date() - 2 * DAY,
        MONDAY.date() + 16 * DAY,
    )
    clipped = Interval(
        window.start, min(window.end, MONDAY + rules.horizon + dt.timedelta(microseconds=1))
    )
    assert found == availability.free_slots(working, busy, rules, MONDAY, clipped)
    assert found, "the scenario should leave some slots free"
