"""The connector contract: what every :class:`~bridge.connectors.base.Connector` must do.

A connector's test module subclasses :class:`ConnectorContract` and provides a ``driver``
fixture: a :class:`RemoteDriver` for one fresh account of a fake (or real) remote system, which
does what the account's owner would do in their calendar app and what the network would do to
the connector's requests. The tests speak only the connector interface and the driver, so the
Google, Graph and CalDAV connectors run the same ones.
"""

from __future__ import annotations

import abc
import datetime as dt
import enum

import pytest

from bridge.availability import Interval
from bridge.connectors.base import (
    Blocking,
    CalendarInfo,
    Connector,
    OutboundEvent,
    PullPage,
    RemoteDeletion,
    RemoteEvent,
)
from bridge.connectors.errors import (
    CursorExpired,
    NeedsReauth,
    PreconditionFailed,
    RateLimited,
    RemoteNotFound,
    Transient,
)

UTC = dt.UTC
# Far enough ahead that nothing about "now" matters; a Tuesday in summer time.
DAY = dt.datetime(2030, 6, 4, tzinfo=UTC)


def at(hour: int, minute: int = 0, *, days: int = 0) -> dt.datetime:
    return DAY + dt.timedelta(days=days, hours=hour, minutes=minute)


class Failure(enum.Enum):
    """What the network or the server does to the next matching request."""

    SERVER_ERROR = "server_error"  # a 5xx answer
    RATE_LIMITED = "rate_limited"  # "slow down", with a Retry-After of RETRY_AFTER seconds
    TIMEOUT = "timeout"  # no answer within the connector's timeout
    LOST_ANSWER = "lost_answer"  # the request takes effect, the answer never arrives


class Operation(enum.Enum):
    """The connector call whose request a :class:`Failure` hits."""

    LIST_CALENDARS = "list_calendars"
    PULL = "pull"
    GET = "get"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    FREE_BUSY = "free_busy"


RETRY_AFTER = 7


class RemoteDriver(abc.ABC):
    """One fresh account on the remote side, driven the way its owner and the network would.

    Attributes:
        address: what :meth:`Connector.account` must answer.
        calendar: the account's main, writable calendar, which the tests use.
    """

    address: str
    calendar: str

    @abc.abstractmethod
    def connector(self, *, timeout: float | None = None) -> Connector:
        """A new connector for the account (``timeout``: its request timeout, if not default)."""

    @abc.abstractmethod
    def add_calendar(self, name: str, *, writable: bool) -> str:
        """Give the account another calendar (its own, or shared read-only); returns its id."""

    @abc.abstractmethod
    def add_event(
        self, start: dt.datetime, end: dt.datetime, *, summary: str = "Dentist", free: bool = False
    ) -> str:
        """The owner adds a personal event (``free``: shown as free); returns its remote id."""

    @abc.abstractmethod
    def move_event(self, remote_id: str, start: dt.datetime, end: dt.datetime) -> None:
        """The owner moves an event."""

    @abc.abstractmethod
    def delete_event(self, remote_id: str) -> None:
        """The owner deletes an event."""

    @abc.abstractmethod
    def live_ids(self) -> set[str]:
        """Remote ids of the events that exist now in :attr:`calendar`."""

    @abc.abstractmethod
    def marker_of(self, remote_id: str) -> str | None:
        """The booking UID stamped on a live event, read directly from the remote side."""

    @abc.abstractmethod
    def expire_cursor(self) -> None:
        """Every cursor issued so far for :attr:`calendar` becomes invalid."""

    @abc.abstractmethod
    def paginate(self) -> None:
        """Make pulls come in several pages from now on, even for a few events."""

    @abc.abstractmethod
    def fail(self, failure: Failure, operation: Operation) -> None:
        """The next request of ``operation`` fails as ``failure`` says (exactly once, as seen
        by the connector: transport-level replays are covered too)."""

    @abc.abstractmethod
    def revoke(self) -> None:
        """The owner withdraws the bridge's access."""

    @abc.abstractmethod
    def delete_calendar(self) -> None:
        """The owner deletes :attr:`calendar`."""


def booking(uid: str = "b-1@bridge", *, start: dt.datetime | None = None) -> OutboundEvent:
    begin = start or at(9)
    return OutboundEvent(
        booking_uid=uid,
        summary="Consultation – Ada Lovelace",
        description="Phone: +44 20 7946 0000",
        start=begin,
        end=begin + dt.timedelta(minutes=30),
        time_zone="Europe/Berlin",
    )


def pull_all(connector: Connector, calendar: str, cursor: str | None) -> list[PullPage]:
    return list(connector.pull(calendar, cursor))


def changes_by_id(pages: list[PullPage]) -> dict[str, RemoteEvent | RemoteDeletion]:
    return {change.remote_id: change for page in pages for change in page.changes}


def final_cursor(pages: list[PullPage]) -> str:
    assert pages, "a pull yields at least one page"
    assert all(page.cursor is None for page in pages[:-1]), "only the last page has a cursor"
    cursor = pages[-1].cursor
    assert cursor is not None
    return cursor


class ConnectorContract:
    """Tests every connector passes; subclasses provide the ``driver`` fixture."""

    @pytest.fixture
    def connector(self, driver: RemoteDriver) -> Connector:
        return driver.connector()

    # -- the account ---------------------------------------------------------------------

    def test_account_is_the_accounts_address(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        assert connector.account() == driver.address

    def test_list_calendars_marks_the_primary_and_the_read_only_ones(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        own = driver.add_calendar("Private", writable=True)
        shared = driver.add_calendar("Team", writable=False)

        calendars = {c.remote_id: c for c in connector.list_calendars()}

        assert set(calendars) == {driver.calendar, own, shared}
        assert calendars[driver.calendar].primary
        assert calendars[driver.calendar].writable
        assert calendars[own] == CalendarInfo(own, "Private", calendars[own].time_zone, False, True)
        assert not calendars[shared].writable
        assert not calendars[shared].primary

    # -- pulling -------------------------------------------------------------------------

    def test_full_pull_yields_every_live_event_and_a_cursor(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        dentist = driver.add_event(at(8), at(9))
        lunch = driver.add_event(at(12), at(13), summary="Lunch", free=True)
        gone = driver.add_event(at(15), at(16))
        driver.delete_event(gone)

        pages = pull_all(connector, driver.calendar, None)

        final_cursor(pages)
        changes = changes_by_id(pages)
        assert set(changes) == {dentist, lunch}
        first = changes[dentist]
        assert isinstance(first, RemoteEvent)
        assert (first.start, first.end, first.blocks) == (at(8), at(9), Blocking.BUSY)
        assert first.etag
        assert changes[lunch].blocks == Blocking.FREE  # type: ignore[union-attr]

    def test_incremental_pull_yields_only_changes_and_deletions(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        kept = driver.add_event(at(8), at(9))
        moved = driver.add_event(at(10), at(11))
        deleted = driver.add_event(at(14), at(15))
        cursor = final_cursor(pull_all(connector, driver.calendar, None))
        added = driver.add_event(at(16), at(17))
        driver.move_event(moved, at(10, days=1), at(11, days=1))
        driver.delete_event(deleted)

        pages = pull_all(connector, driver.calendar, cursor)

        changes = changes_by_id(pages)
        assert kept not in changes
        assert isinstance(changes[added], RemoteEvent)
        assert changes[moved].start == at(10, days=1)  # type: ignore[union-attr]
        assert changes[deleted] == RemoteDeletion(deleted)
        again = pull_all(connector, driver.calendar, final_cursor(pages))
        assert changes_by_id(again) == {}

    def test_pull_comes_in_pages_with_the_cursor_on_the_last(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        ids = {driver.add_event(at(h), at(h, 30)) for h in range(8, 14)}
        driver.paginate()

        pages = pull_all(connector, driver.calendar, None)

        assert len(pages) > 1
        final_cursor(pages)
        assert set(changes_by_id(pages)) == ids
        assert sum(len(page.changes) for page in pages) == len(ids)

    def test_expired_cursor_raises_cursor_expired(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        driver.add_event(at(8), at(9))
        cursor = final_cursor(pull_all(connector, driver.calendar, None))
        driver.expire_cursor()

        with pytest.raises(CursorExpired):
            pull_all(connector, driver.calendar, cursor)
        assert final_cursor(pull_all(connector, driver.calendar, None))

    def test_pull_of_a_deleted_calendar_raises_remote_not_found(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        driver.delete_calendar()

        with pytest.raises(RemoteNotFound):
            pull_all(connector, driver.calendar, None)

    def test_pull_sees_our_marker(self, driver: RemoteDriver, connector: Connector) -> None:
        written = connector.create_event(driver.calendar, booking("marked@bridge"))

        change = changes_by_id(pull_all(connector, driver.calendar, None))[written.remote_id]

        assert isinstance(change, RemoteEvent)
        assert change.marker == "marked@bridge"
        assert change.etag == written.etag

    # -- reading one event ---------------------------------------------------------------

    def test_get_event_answers_the_event_or_none(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        remote_id = driver.add_event(at(8), at(9))
        gone = driver.add_event(at(10), at(11))
        driver.delete_event(gone)

        event = connector.get_event(driver.calendar, remote_id)

        assert event is not None
        assert (event.remote_id, event.start, event.end) == (remote_id, at(8), at(9))
        assert connector.get_event(driver.calendar, gone) is None
        assert connector.get_event(driver.calendar, "nosuchevent0") is None

    def test_get_event_in_a_deleted_calendar_raises_remote_not_found(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        remote_id = driver.add_event(at(8), at(9))
        driver.delete_calendar()

        with pytest.raises(RemoteNotFound):
            connector.get_event(driver.calendar, remote_id)

    # -- writing -------------------------------------------------------------------------

    def test_create_writes_the_booking_with_our_marker(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        event = booking()

        written = connector.create_event(driver.calendar, event)

        assert (written.start, written.end) == (event.start, event.end)
        assert written.etag
        assert driver.live_ids() == {written.remote_id}
        assert driver.marker_of(written.remote_id) == event.booking_uid

    def test_create_twice_leaves_one_event(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        first = connector.create_event(driver.calendar, booking())
        second = connector.create_event(driver.calendar, booking())

        assert second.remote_id == first.remote_id
        assert driver.live_ids() == {first.remote_id}

    def test_create_after_a_lost_answer_leaves_one_event(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        driver.fail(Failure.LOST_ANSWER, Operation.CREATE)

        with pytest.raises(Transient):
            connector.create_event(driver.calendar, booking())
        written = connector.create_event(driver.calendar, booking())

        assert driver.live_ids() == {written.remote_id}
        assert written.etag

    def test_create_again_with_new_times_makes_the_event_match(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        first = connector.create_event(driver.calendar, booking())

        moved = booking(start=at(11))
        written = connector.create_event(driver.calendar, moved)

        assert written.remote_id == first.remote_id
        assert (written.start, written.end) == (moved.start, moved.end)
        event = connector.get_event(driver.calendar, written.remote_id)
        assert event is not None and event.start == moved.start

    def test_create_after_the_owner_deleted_the_event_restores_it(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        first = connector.create_event(driver.calendar, booking())
        driver.delete_event(first.remote_id)
        assert driver.live_ids() == set()

        written = connector.create_event(driver.calendar, booking())

        assert driver.live_ids() == {written.remote_id}
        event = connector.get_event(driver.calendar, written.remote_id)
        assert event is not None
        assert event.marker == "b-1@bridge"
        assert event.etag == written.etag

    def test_create_in_a_deleted_calendar_raises_remote_not_found(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        driver.delete_calendar()

        with pytest.raises(RemoteNotFound):
            connector.create_event(driver.calendar, booking())

    def test_update_moves_the_event_and_changes_the_etag(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        first = connector.create_event(driver.calendar, booking())

        moved = booking(start=at(14))
        written = connector.update_event(driver.calendar, first.remote_id, moved, etag=first.etag)

        assert written.remote_id == first.remote_id
        assert (written.start, written.end) == (moved.start, moved.end)
        assert written.etag != first.etag
        event = connector.get_event(driver.calendar, first.remote_id)
        assert event is not None and (event.start, event.etag) == (moved.start, written.etag)

    def test_update_with_a_stale_etag_raises_precondition_failed(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        first = connector.create_event(driver.calendar, booking())
        driver.move_event(first.remote_id, at(16), at(17))

        with pytest.raises(PreconditionFailed):
            connector.update_event(
                driver.calendar, first.remote_id, booking(start=at(14)), etag=first.etag
            )
        event = connector.get_event(driver.calendar, first.remote_id)
        assert event is not None and event.start == at(16)

    def test_update_without_etag_overwrites(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        first = connector.create_event(driver.calendar, booking())
        driver.move_event(first.remote_id, at(16), at(17))

        written = connector.update_event(
            driver.calendar, first.remote_id, booking(start=at(14)), etag=None
        )

        assert written.start == at(14)

    def test_update_of_a_deleted_event_raises_remote_not_found(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        first = connector.create_event(driver.calendar, booking())
        driver.delete_event(first.remote_id)

        with pytest.raises(RemoteNotFound):
            connector.update_event(driver.calendar, first.remote_id, booking(), etag=None)
        with pytest.raises(RemoteNotFound):
            connector.update_event(driver.calendar, "nosuchevent0", booking(), etag=None)

    def test_delete_twice_is_fine(self, driver: RemoteDriver, connector: Connector) -> None:
        first = connector.create_event(driver.calendar, booking())

        connector.delete_event(driver.calendar, first.remote_id, etag=first.etag)
        connector.delete_event(driver.calendar, first.remote_id, etag=first.etag)
        connector.delete_event(driver.calendar, first.remote_id, etag=None)
        connector.delete_event(driver.calendar, "nosuchevent0", etag=None)

        assert driver.live_ids() == set()
        assert connector.get_event(driver.calendar, first.remote_id) is None

    def test_delete_with_a_stale_etag_raises_precondition_failed(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        first = connector.create_event(driver.calendar, booking())
        driver.move_event(first.remote_id, at(16), at(17))

        with pytest.raises(PreconditionFailed):
            connector.delete_event(driver.calendar, first.remote_id, etag=first.etag)
        assert driver.live_ids() == {first.remote_id}

    # -- free/busy -----------------------------------------------------------------------

    def test_free_busy_answers_the_busy_time_in_the_window(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        driver.add_event(at(8), at(9))
        driver.add_event(at(10), at(11), free=True)
        driver.add_event(at(13), at(14))
        driver.add_event(at(8, days=3), at(9, days=3))
        other = driver.add_calendar("Private", writable=True)

        busy = connector.free_busy(
            [driver.calendar, other], Interval(at(0), at(0, days=1)), timeout=2.0
        )

        assert busy == {
            driver.calendar: [Interval(at(8), at(9)), Interval(at(13), at(14))],
            other: [],
        }

    def test_free_busy_beyond_its_timeout_raises_transient(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        driver.fail(Failure.TIMEOUT, Operation.FREE_BUSY)

        with pytest.raises(Transient):
            connector.free_busy([driver.calendar], Interval(at(0), at(0, days=1)), timeout=0.2)

    # -- errors --------------------------------------------------------------------------

    @pytest.mark.parametrize("operation", [Operation.PULL, Operation.CREATE, Operation.GET])
    def test_server_errors_raise_transient(
        self, driver: RemoteDriver, connector: Connector, operation: Operation
    ) -> None:
        remote_id = driver.add_event(at(8), at(9))
        driver.fail(Failure.SERVER_ERROR, operation)

        with pytest.raises(Transient) as raised:
            _perform(connector, driver, operation, remote_id)
        assert not isinstance(raised.value, RateLimited)
        _perform(connector, driver, operation, remote_id)  # the next attempt works

    @pytest.mark.parametrize(
        "operation", [Operation.LIST_CALENDARS, Operation.UPDATE, Operation.DELETE]
    )
    def test_rate_limits_raise_rate_limited_with_the_servers_hint(
        self, driver: RemoteDriver, connector: Connector, operation: Operation
    ) -> None:
        remote_id = connector.create_event(driver.calendar, booking()).remote_id
        driver.fail(Failure.RATE_LIMITED, operation)

        with pytest.raises(RateLimited) as raised:
            _perform(connector, driver, operation, remote_id)
        assert raised.value.retry_after == RETRY_AFTER

    def test_timeouts_raise_transient(self, driver: RemoteDriver) -> None:
        connector = driver.connector(timeout=0.2)
        driver.fail(Failure.TIMEOUT, Operation.PULL)

        with pytest.raises(Transient):
            pull_all(connector, driver.calendar, None)

    def test_revoked_access_raises_needs_reauth(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        driver.revoke()

        with pytest.raises(NeedsReauth):
            pull_all(connector, driver.calendar, None)
        with pytest.raises(NeedsReauth):
            driver.connector().account()

    def test_error_messages_do_not_quote_the_remote_body(
        self, driver: RemoteDriver, connector: Connector
    ) -> None:
        driver.fail(Failure.SERVER_ERROR, Operation.PULL)

        with pytest.raises(Transient) as raised:
            pull_all(connector, driver.calendar, None)
        assert "{" not in str(raised.value)


def _perform(
    connector: Connector, driver: RemoteDriver, operation: Operation, remote_id: str
) -> object:
    window = Interval(at(0), at(0, days=1))
    match operation:
        case Operation.LIST_CALENDARS:
            return connector.list_calendars()
        case Operation.PULL:
            return pull_all(connector, driver.calendar, None)
        case Operation.GET:
            return connector.get_event(driver.calendar, remote_id)
        case Operation.CREATE:
            return connector.create_event(driver.calendar, booking("other@bridge"))
        case Operation.UPDATE:
            return connector.update_event(driver.calendar, remote_id, booking(), etag=None)
        case Operation.DELETE:
            return connector.delete_event(driver.calendar, remote_id, etag=None)
        case Operation.FREE_BUSY:
            return connector.free_busy([driver.calendar], window, timeout=2.0)
