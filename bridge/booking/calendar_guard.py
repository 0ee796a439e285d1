"""What protects the booking page from external-calendar trouble (``docs/sync-safety.md``).

Both rules concern conflict calendars (``ExternalCalendar.check_conflicts``):

- **The stale rule** (fail closed). A conflict calendar that
  :func:`bridge.sync.health.conflict_calendar_problems` reports (connection needing
  re-authorisation or in error, calendar in error, never synced, not synced for
  ``sync_stale_after``) is named in the slots API's ``warnings``; under
  ``stale_calendar_policy = "hide"`` (the default) no slot is offered and no booking taken —
  what it holds is unknown, so every slot from now on is affected — under ``"warn"`` they are,
  with the warning.
- **The live check.** Before a client's booking or move commits, and before its transaction
  takes the provider lock (a network call never holds the lock), every connection with conflict
  calendars, except those needing re-authorisation, is asked ``Connector.free_busy`` over the
  slot widened by its buffers, all at once, within ``free_busy_timeout``. Busy:
  :class:`SlotUnavailable` and a pull of that calendar is requested. No answer in time, or an
  error: the stale rule (``hide``: :class:`CalendarUnavailable`; ``warn``: go ahead, logged).

Cheap local checks come first, so a slot the database refuses, or a stale calendar under
``hide``, costs no remote call. Our own events (mirrors of bookings) are busy in free/busy
answers too; bookings are checked from the database, so their remote times (and a moved
booking's current time) are taken out of the live answer.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import clock
from bridge.availability import Interval, merge
from bridge.booking import explain, slots
from bridge.booking.bookings import get_booking
from bridge.booking.providers import get_provider
from bridge.booking.services import get_service
from bridge.connectors import build_connector
from bridge.connectors.base import Connector
from bridge.connectors.errors import NeedsReauth
from bridge.errors import BridgeError, CalendarUnavailable, NotFound, SlotUnavailable
from bridge.keys import CONNECTOR_CREDENTIALS, Keyring, UndecryptableSecret
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.models import BOOKING_CONFIRMED, Service
from bridge.store.sync_models import (
    CONNECTION_NEEDS_REAUTH,
    Connection,
    ExternalCalendar,
    Mirror,
)
from bridge.sync.health import CalendarProblem, conflict_calendar_problems

log = logging.getLogger(__name__)

POLICY_HIDE = "hide"
POLICY_WARN = "warn"


@dataclasses.dataclass(frozen=True, slots=True)
class LiveCalendar:
    id: int
    remote_id: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class LiveConnection:
    """A connection to ask live, read before the check so no ORM object crosses threads.

    ``credentials`` are as stored (encrypted); the connector factory decrypts them.
    """

    id: int
    kind: str
    account: str
    credentials: str | None
    calendars: tuple[LiveCalendar, ...]


ConnectorFactory = Callable[[LiveConnection], Connector]
"""Builds the connector of a connection (decrypting its credentials); runs in a worker thread.

It may raise :class:`~bridge.errors.BridgeError` (e.g. ``NeedsReauth``): the check then failed.
"""

PullRequester = Callable[[Sequence[int]], None]
"""Asks for pulls of external calendars (by :class:`ExternalCalendar` id)."""


@dataclasses.dataclass(frozen=True, slots=True)
class LiveFailure:
    """A connection (or one of its calendars) whose live check gave no usable answer.

    ``reason`` is short and fit for anyone booking (``no answer within 2 s``); ``detail`` is
    the connector's own message, for the log and the provider.
    """

    connection_id: int
    account: str
    calendars: tuple[str, ...]
    reason: str
    detail: str


@dataclasses.dataclass(frozen=True, slots=True)
class LiveResult:
    busy: tuple[LiveCalendar, ...] = ()
    failures: tuple[LiveFailure, ...] = ()


_REASONS = {
    "needs_reauth": "the connection needs re-authorisation",
    "error": "it is in error",
    "never_synced": "it has not been synced yet",
}


def reason_text(problem: CalendarProblem) -> str:
    """The problem's reason in words (``stale``: since when)."""
    if problem.reason == "stale":
        if problem.since is None:
            return "it has not been synced for a while"
        since = problem.since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"not synced since {since}"
    return _REASONS.get(problem.reason, problem.reason.replace("_", " "))


def describe(problem: CalendarProblem) -> str:
    """``calendar 'Work' (dr@example.org): ...`` for the provider: names the account too."""
    return f"calendar {problem.name!r} ({problem.account}): {reason_text(problem)}"


def public_message(problem: CalendarProblem, policy: str) -> str:
    """The slots API's warning: the calendar's name and the reason, not its account."""
    consequence = (
        "no slots are offered until it syncs again"
        if policy == POLICY_HIDE
        else "slots are offered but may clash with it"
    )
    return f"calendar {problem.name!r} is unavailable ({reason_text(problem)}): {consequence}"


class CalendarGuard:
    """The stale rule and the live check for one set of settings.

    Args:
        settings: ``stale_calendar_policy``, ``sync_stale_after``, ``free_busy_timeout``.
        connectors: builds a connection's connector for the live check.
        request_pulls: asks for pulls of calendars the live check found busy; by default
            (:func:`request_pulls_in`) their ``pull_requested_at`` is set, which the
            scheduler's next scan serves.
    """

    def __init__(
        self,
        settings: Settings,
        connectors: ConnectorFactory,
        *,
        request_pulls: PullRequester | None = None,
    ) -> None:
        self.settings = settings
        self._connectors = connectors
        self._request_pulls = request_pulls

    @property
    def hides(self) -> bool:
        """Whether a broken or stale conflict calendar hides slots and refuses bookings."""
        return self.settings.stale_calendar_policy == POLICY_HIDE

    # -- the stale rule ------------------------------------------------------------------

    def problems(
        self, session: Session, provider_id: int, now: dt.datetime
    ) -> list[CalendarProblem]:
        """The provider's conflict calendars that are broken or stale right now."""
        return conflict_calendar_problems(session, provider_id, now, self.settings)

    def hidden_reasons(self, problems: Sequence[CalendarProblem]) -> list[explain.Reason]:
        """The explanation's reasons for ``problems`` when they hide every slot, else none."""
        if not self.hides:
            return []
        return [
            explain.Reason(
                explain.CALENDAR_UNAVAILABLE,
                f"{describe(problem)}; no slot is offered while it cannot be read",
                calendar=explain.CalendarRef(problem.calendar_id, problem.name, problem.account),
            )
            for problem in problems
        ]

    def _refuse_if_hidden(self, problems: Sequence[CalendarProblem]) -> None:
        if problems and self.hides:
            raise CalendarUnavailable(
                "bookings are paused: "
                + "; ".join(
                    f"calendar {p.name!r} is unavailable ({reason_text(p)})" for p in problems
                )
                + ". Try again later.",
                tuple(p.name for p in problems),
            )

    # -- booking and moving --------------------------------------------------------------

    def check_booking(
        self, store: Store, provider_slug: str, service_id: int, start: dt.datetime
    ) -> None:
        """Check a client's booking of ``start`` before it is committed (outside any lock).

        A start the database already refuses (or an unknown service) is let through untouched:
        :func:`bridge.booking.bookings.book` refuses it with the right error.

        Raises:
            NotFound: no such provider.
            SlotUnavailable: a conflict calendar is busy then (a pull of it is requested).
            CalendarUnavailable: a conflict calendar is broken or stale, or could not be checked,
                and the policy is ``hide``.
        """
        start = start.astimezone(dt.UTC)
        with store.read() as session:
            provider = get_provider(session, provider_slug)
            try:
                service = get_service(session, provider.id, service_id)
            except NotFound:
                return
            now = clock.now()
            if not service.active or not slots.is_free_slot(session, provider, service, start, now):
                return
            span = _widened(start, dt.timedelta(minutes=service.duration_minutes), service)
            problems = self.problems(session, provider.id, now)
            self._refuse_if_hidden(problems)
            targets = live_connections(session, provider.id)
            ours = _our_events(session, provider.id, span)
        self._check_live(store, provider_slug, targets, span, ours)

    def check_move(
        self, store: Store, provider_slug: str, booking_id: int, new_start: dt.datetime
    ) -> None:
        """Check a client's move of a booking to ``new_start``, like :meth:`check_booking`.

        Raises:
            NotFound: no such provider or booking.
            SlotUnavailable, CalendarUnavailable: as for :meth:`check_booking`.
        """
        new_start = new_start.astimezone(dt.UTC)
        with store.read() as session:
            provider = get_provider(session, provider_slug)
            booking = get_booking(session, provider.id, booking_id)
            now = clock.now()
            if (
                booking.status != BOOKING_CONFIRMED
                or new_start == booking.start_at
                or not slots.is_free_slot(
                    session,
                    provider,
                    booking.service,
                    new_start,
                    now,
                    exclude_booking_id=booking.id,
                )
            ):
                return
            length = booking.end_at - booking.start_at
            # The booking keeps its own buffers; the slot search uses the service's: ask for both.
            span = _widened(new_start, length, booking.service)
            span = Interval(
                min(span.start, new_start - dt.timedelta(minutes=booking.buffer_before_minutes)),
                max(
                    span.end,
                    new_start + length + dt.timedelta(minutes=booking.buffer_after_minutes),
                ),
            )
            problems = self.problems(session, provider.id, now)
            self._refuse_if_hidden(problems)
            targets = live_connections(session, provider.id)
            ours = [
                *_our_events(session, provider.id, span),
                Interval(booking.start_at, booking.end_at),
            ]
        self._check_live(store, provider_slug, targets, span, ours)

    def _check_live(
        self,
        store: Store,
        provider_slug: str,
        targets: Sequence[LiveConnection],
        span: Interval,
        ours: Sequence[Interval],
    ) -> None:
        if not targets:
            return
        result = self.live_check(targets, span, ours)
        if result.busy:
            self._ask_for_pulls(store, [calendar.id for calendar in result.busy])
            raise SlotUnavailable("this time is no longer available; pick another slot")
        if not result.failures:
            return
        for failure in result.failures:
            log.warning(
                "Live check of calendars %s (%s, connection %s) for provider %s failed: %s",
                list(failure.calendars),
                failure.account,
                failure.connection_id,
                provider_slug,
                failure.detail,
            )
        if self.hides:
            raise CalendarUnavailable(
                "bookings are paused: "
                + "; ".join(
                    f"{_names(f.calendars)} could not be checked ({f.reason})"
                    for f in result.failures
                )
                + ". Try again later.",
                tuple(name for f in result.failures for name in f.calendars),
            )
        log.warning(
            "Booking for provider %s goes ahead unchecked (stale_calendar_policy=warn)",
            provider_slug,
        )

    def live_check(
        self,
        targets: Sequence[LiveConnection],
        span: Interval,
        ours: Sequence[Interval] = (),
    ) -> LiveResult:
        """Ask every connection in ``targets`` at once for busy time in ``span``.

        Args:
            targets: the connections and their conflict calendars.
            span: the slot widened by its buffers.
            ours: the remote times of our own events, which do not count as busy.

        Returns:
            The calendars busy in ``span`` and the connections that gave no answer in time.
        """
        timeout = self.settings.free_busy_timeout
        executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=len(targets), thread_name_prefix="free-busy"
        )
        try:
            futures = {
                executor.submit(self._ask, target, span, timeout): target for target in targets
            }
            done, _ = concurrent.futures.wait(futures, timeout=timeout)
        finally:
            # Never wait for a connection that is late: its own timeout ends its thread.
            executor.shutdown(wait=False, cancel_futures=True)
        busy: list[LiveCalendar] = []
        failures: list[LiveFailure] = []
        for future, target in futures.items():
            if future not in done:
                late = f"no answer within {timeout:g} s"
                failures.append(_failure(target, late, late))
                continue
            try:
                answer = future.result()
            except NeedsReauth as exc:
                failures.append(_failure(target, "the connection needs re-authorisation", str(exc)))
                continue
            except BridgeError as exc:  # ConnectorError and friends: str() names no event
                failures.append(_failure(target, "it could not be reached", str(exc)))
                continue
            except Exception as exc:
                log.exception("Live free/busy check of connection %s failed", target.id)
                failures.append(
                    _failure(target, "it could not be reached", f"unexpected {type(exc).__name__}")
                )
                continue
            for calendar in target.calendars:
                intervals = answer.get(calendar.remote_id)
                if intervals is None:
                    failures.append(
                        _failure(
                            target,
                            "no answer for it",
                            "the answer left the calendar out",
                            (calendar.name,),
                        )
                    )
                elif _blocks(intervals, span, ours):
                    busy.append(calendar)
        return LiveResult(tuple(busy), tuple(failures))

    def _ask(
        self, target: LiveConnection, span: Interval, timeout: float
    ) -> dict[str, list[Interval]]:
        started = time.monotonic()
        outcome = "ok"
        try:
            connector = self._connectors(target)
            return connector.free_busy(
                [calendar.remote_id for calendar in target.calendars], span, timeout=timeout
            )
        except BaseException as exc:
            outcome = type(exc).__name__
            raise
        finally:
            log.info(
                "Live free/busy check of connection %s (%s, %s calendars) over %s/%s -> %s "
                "in %.3f s",
                target.id,
                target.kind,
                len(target.calendars),
                span.start.isoformat(),
                span.end.isoformat(),
                outcome,
                time.monotonic() - started,
            )

    def _ask_for_pulls(self, store: Store, calendar_ids: Sequence[int]) -> None:
        request_pulls = self._request_pulls or request_pulls_in(store)
        try:
            request_pulls(calendar_ids)
        except Exception:
            # The refusal stands either way; the scheduled pull will still come.
            log.exception("Could not request a pull of calendars %s", list(calendar_ids))


def default_connectors(settings: Settings, keyring: Callable[[], Keyring]) -> ConnectorFactory:
    """Connectors built from the stored credentials, decrypted with ``keyring()``.

    ``keyring`` is called only when a connection is asked, so a provider without connected
    calendars never needs the secret key.
    """

    def build(target: LiveConnection) -> Connector:
        if target.credentials is None:
            raise NeedsReauth("no credentials are stored for this connection")
        try:
            credentials = keyring().decrypt(CONNECTOR_CREDENTIALS, target.credentials)
        except UndecryptableSecret as exc:
            raise NeedsReauth(str(exc)) from exc
        return build_connector(target.kind, settings, credentials)

    return build


def request_pulls_in(store: Store) -> PullRequester:
    """A :data:`PullRequester` that sets the calendars' ``pull_requested_at`` in ``store``."""

    def request(calendar_ids: Sequence[int]) -> None:
        now = clock.now()
        with store.write() as session:
            for calendar_id in calendar_ids:
                calendar = session.get(ExternalCalendar, calendar_id)
                if calendar is not None and calendar.pull_requested_at is None:
                    calendar.pull_requested_at = now

    return request


def live_connections(session: Session, provider_id: int) -> list[LiveConnection]:
    """The provider's connections with conflict calendars, except those needing re-auth."""
    rows = session.execute(
        select(Connection, ExternalCalendar)
        .join(ExternalCalendar, ExternalCalendar.connection_id == Connection.id)
        .where(
            Connection.provider_id == provider_id,
            Connection.status != CONNECTION_NEEDS_REAUTH,
            ExternalCalendar.check_conflicts.is_(True),
        )
        .order_by(Connection.id, ExternalCalendar.id)
    )
    by_connection: dict[int, tuple[Connection, list[LiveCalendar]]] = {}
    for connection, calendar in rows.all():
        entry = by_connection.setdefault(connection.id, (connection, []))
        entry[1].append(LiveCalendar(calendar.id, calendar.remote_id, calendar.name))
    return [
        LiveConnection(
            connection.id,
            connection.kind,
            connection.account,
            connection.credentials,
            tuple(calendars),
        )
        for connection, calendars in by_connection.values()
    ]


def _failure(
    target: LiveConnection, reason: str, detail: str, names: tuple[str, ...] | None = None
) -> LiveFailure:
    if names is None:
        names = tuple(calendar.name for calendar in target.calendars)
    return LiveFailure(target.id, target.account, names, reason, detail)


def _names(calendars: Sequence[str]) -> str:
    quoted = ", ".join(repr(name) for name in calendars)
    return f"calendar {quoted}" if len(calendars) == 1 else f"calendars {quoted}"


def _widened(start: dt.datetime, length: dt.timedelta, service: Service) -> Interval:
    return Interval(
        start - dt.timedelta(minutes=service.buffer_before_minutes),
        start + length + dt.timedelta(minutes=service.buffer_after_minutes),
    )


def _our_events(session: Session, provider_id: int, span: Interval) -> list[Interval]:
    """Where our own events (mirrors of bookings) stand remotely near ``span``."""
    rows = session.execute(
        select(Mirror.remote_start, Mirror.remote_end)
        .join(ExternalCalendar, ExternalCalendar.id == Mirror.calendar_id)
        .where(
            ExternalCalendar.provider_id == provider_id,
            Mirror.remote_deleted.is_(False),
            Mirror.remote_start.is_not(None),
            Mirror.remote_start < span.end,
            Mirror.remote_end > span.start,
        )
    )
    return [Interval(start, end) for start, end in rows if start is not None and end is not None]


def _blocks(intervals: Iterable[Interval], span: Interval, ours: Sequence[Interval]) -> bool:
    """Whether busy ``intervals`` overlap ``span`` once our own events are taken out."""
    remaining = [i for i in intervals if i.overlaps(span)]
    for own in merge(ours):
        remaining = [piece for i in remaining for piece in _minus(i, own)]
    return any(piece.overlaps(span) for piece in remaining)


def _minus(interval: Interval, cut: Interval) -> list[Interval]:
    if not interval.overlaps(cut):
        return [interval]
    pieces = []
    if interval.start < cut.start:
        pieces.append(Interval(interval.start, cut.start))
    if cut.end < interval.end:
        pieces.append(Interval(cut.end, interval.end))
    return pieces
