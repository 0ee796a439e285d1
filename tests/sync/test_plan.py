"""The plan: what an outbox row means, from the booking, its mirror and the calendar's role."""

from __future__ import annotations

import datetime as dt

import pytest

from bridge.sync.plan import (
    Action,
    BookingView,
    CalendarView,
    Create,
    Delete,
    MirrorView,
    Nothing,
    Update,
    plan,
)

NOW = dt.datetime(2026, 6, 1, 6, tzinfo=dt.UTC)
FUTURE = NOW + dt.timedelta(days=1)
PAST = NOW - dt.timedelta(days=1)
DESTINATION, ELSEWHERE = CalendarView(True), CalendarView(False)


def booking(*, confirmed: bool = True, version: int = 2, end: dt.datetime = FUTURE) -> BookingView:
    return BookingView(1, version, confirmed, end)


def mirror(*, version: int = 2, live: bool = True) -> MirrorView:
    return MirrorView("ev1", '"7"', version, live)


@pytest.mark.parametrize(
    ("the_booking", "the_mirror", "calendar", "expected"),
    [
        (booking(), None, DESTINATION, Create()),
        (booking(), mirror(live=False), DESTINATION, Create()),
        (booking(), mirror(version=1), DESTINATION, Update("ev1", '"7"')),
        (booking(), mirror(), DESTINATION, Nothing("up to date")),
        (booking(confirmed=False), mirror(), DESTINATION, Delete("ev1", '"7"')),
        (
            booking(confirmed=False),
            mirror(live=False),
            DESTINATION,
            Nothing("cancelled and not in the calendar"),
        ),
        (booking(confirmed=False), None, DESTINATION, Nothing("cancelled and not in the calendar")),
        (booking(), mirror(), ELSEWHERE, Delete("ev1", '"7"')),
        (booking(end=PAST), mirror(), ELSEWHERE, Nothing("not a destination calendar")),
        (booking(), None, ELSEWHERE, Nothing("not a destination calendar")),
        (booking(confirmed=False), mirror(), ELSEWHERE, Delete("ev1", '"7"')),
    ],
)
def test_plan(
    the_booking: BookingView,
    the_mirror: MirrorView | None,
    calendar: CalendarView,
    expected: Action,
) -> None:
    assert plan(the_booking, the_mirror, calendar, NOW) == expected
