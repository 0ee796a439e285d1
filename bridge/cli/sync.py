"""``bridge sync status|run``: what the sync of each connected calendar is doing, and a sync now.

``status`` prints one line per calendar (the same as ``GET …/sync/status``). ``run`` pulls the
chosen calendars at once, then writes every due outbox row; it shares the database's leases
with a running server, so a calendar the server is pulling at that moment is left to it (and
pulled once more after it). Long imports show how many events came in so far.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import click
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bridge import keys
from bridge.booking import providers
from bridge.cli.base import BridgeGroup, CommandFailed, data_dir_option, load, open_store
from bridge.cli.output import table, timestamp
from bridge.errors import NotFound
from bridge.jobs import DRAIN_BATCH
from bridge.store.models import Provider
from bridge.store.sync_models import ExternalCalendar
from bridge.sync import connections
from bridge.sync.connections import CalendarStatus
from bridge.sync.engine import DrainResult, PullResult, SyncEngine

PROGRESS_AFTER = 1.0  # seconds of import before a progress line appears
_LAST_ERROR_WIDTH = 60


@click.group(cls=BridgeGroup)
def sync() -> None:
    """Show the calendar sync's state, or sync now."""


def _providers(session: Session, slug: str | None) -> list[Provider]:
    if slug is not None:
        return [providers.get_provider(session, slug)]
    return providers.list_providers(session)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _short(text: str | None, width: int = _LAST_ERROR_WIDTH) -> str:
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _status_rows(slug: str, statuses: list[CalendarStatus]) -> list[list[str]]:
    return [
        [
            str(status.calendar_id),
            slug,
            status.account,
            status.calendar_name,
            _yes(status.check_conflicts),
            _yes(status.is_destination),
            status.state,
            timestamp(status.last_synced_at),
            _short(status.last_error or (status.reason if status.state != "ok" else None)),
            str(status.pending_writes)
            + (f" ({status.failed_writes} failed)" if status.failed_writes else ""),
        ]
        for status in statuses
    ]


@sync.command("status")
@click.option("--provider", "slug", default=None, metavar="SLUG", help="Only this provider.")
@data_dir_option
def status(slug: str | None, data_dir: Path | None) -> None:
    """One line per connected calendar: what it does, its state, last sync and pending writes.

    STATE is ok, needs_reauth (connect the account again: `bridge connect google --reconnect
    ID`) or error (LAST ERROR says why).
    """
    settings = load(data_dir=data_dir)
    rows: list[list[str]] = []
    notes: list[str] = []
    with open_store(settings) as store, store.read() as session:
        for provider in _providers(session, slug):
            statuses = connections.sync_status(session, provider.id)
            rows.extend(_status_rows(provider.slug, statuses))
            for item in statuses:
                if item.held_cancellations:
                    notes.append(
                        f"{provider.slug}: {item.held_cancellations} cancellations from calendar "
                        f"{item.calendar_id} are held by the mass-deletion breaker; confirm or "
                        "reject them through the API (POST …/calendars/ID/breaker)"
                    )
    if not rows:
        where = f" for {slug}" if slug else ""
        click.echo(
            f"No connected calendars{where}. Connect one with "
            f"`bridge connect google --provider {slug or 'SLUG'}`."
        )
        return
    headers = [
        "id",
        "provider",
        "account",
        "calendar",
        "conflicts",
        "destination",
        "state",
        "last sync",
        "last error",
        "pending writes",
    ]
    click.echo(table(headers, rows))
    for note in notes:
        click.echo(note, err=True)


# -- run ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Progress:
    """Events imported so far, on one refreshed stderr line once an import takes a while."""

    label: str
    started: float = dataclasses.field(default_factory=time.monotonic)
    shown: bool = False
    count: int = 0

    def __call__(self, count: int) -> None:
        self.count = count
        if time.monotonic() - self.started < PROGRESS_AFTER:
            return
        self.shown = True
        if sys.stderr.isatty():
            click.echo(f"\r{self.label}: {count:,} events imported", nl=False, err=True)

    def done(self) -> None:
        if self.shown:
            prefix = "\r" if sys.stderr.isatty() else ""
            click.echo(f"{prefix}{self.label}: {self.count:,} events imported", err=True)


def _targets(session: Session, slug: str | None, calendar_id: int | None) -> list[ExternalCalendar]:
    query = select(ExternalCalendar).order_by(ExternalCalendar.id)
    if slug is not None:
        provider = providers.get_provider(session, slug)
        query = query.where(ExternalCalendar.provider_id == provider.id)
    if calendar_id is not None:
        found = list(session.scalars(query.where(ExternalCalendar.id == calendar_id)))
        if not found:
            raise NotFound("calendar", calendar_id)
        return found
    return list(
        session.scalars(
            query.where(
                or_(
                    ExternalCalendar.check_conflicts.is_(True),
                    ExternalCalendar.is_destination.is_(True),
                )
            )
        )
    )


@sync.command("run")
@click.option("--provider", "slug", default=None, metavar="SLUG", help="Only this provider.")
@click.option(
    "--calendar",
    "calendar_id",
    type=int,
    default=None,
    metavar="ID",
    help="Only this calendar (the ID of `bridge sync status`).",
)
@click.option("--full", is_flag=True, help="Pull everything again, not just what changed.")
@data_dir_option
def run(slug: str | None, calendar_id: int | None, full: bool, data_dir: Path | None) -> None:
    """Pull the calendars now, then write the bookings' pending changes to them.

    Without --calendar: every calendar that blocks slots or receives bookings. Exits with 1
    when a calendar could not be synced, saying why.
    """
    settings = load(data_dir=data_dir)
    keyring = keys.load_keyring(settings)
    failures: list[str] = []
    with open_store(settings) as store:
        with store.read() as session:
            targets = [(c.id, c.name) for c in _targets(session, slug, calendar_id)]
        if not targets:
            click.echo("No calendars to sync.")
            return
        engine = SyncEngine(store, settings, keyring)
        for target_id, name in targets:
            label = f"calendar {target_id} ({name})"
            progress = _Progress(f"Importing {label}")
            result = engine.pull_calendar(target_id, full=full, progress=progress)
            progress.done()
            if result is None:
                engine.request_pull(target_id)
                click.echo(f"{label}: another process is pulling it now; it pulls once more next")
                continue
            problem = _pull_problem(result)
            if problem is not None:
                failures.append(f"{label}: {problem}")
                click.echo(f"{label}: failed: {problem}")
            else:
                click.echo(f"{label}: {_pull_summary(result)}")
        drained = _drain(engine)
        click.echo(
            f"Calendar writes: {drained.written} done, {drained.failed} failed, "
            f"{drained.deferred} waiting for a retry"
        )
        if drained.failed:
            failures.append(f"{drained.failed} calendar writes failed (see `bridge sync status`)")
    if failures:
        raise CommandFailed("some calendars could not be synced:\n  " + "\n  ".join(failures))


def _pull_problem(result: PullResult) -> str | None:
    return result.error


def _pull_summary(result: PullResult) -> str:
    parts = [
        f"{'full' if result.full else 'incremental'} pull, {result.applied} changes",
        f"{result.busy_events} busy events",
    ]
    if result.rescheduled:
        parts.append(f"{result.rescheduled} bookings rescheduled")
    if result.cancelled:
        parts.append(f"{result.cancelled} bookings cancelled")
    if result.skipped:
        parts.append(f"{result.skipped} events skipped (see the sync notices)")
    if result.held:
        parts.append(
            f"{result.held} cancellations held by the mass-deletion breaker (confirm or reject "
            "them: POST …/calendars/ID/breaker)"
        )
    return ", ".join(parts)


def _drain(engine: SyncEngine) -> DrainResult:
    """Write every due outbox row, batch after batch; the totals."""
    total = DrainResult(written=0, failed=0, deferred=0)
    while True:
        batch = engine.drain_outbox(limit=DRAIN_BATCH)
        total = DrainResult(
            written=total.written + batch.written,
            failed=total.failed + batch.failed,
            deferred=total.deferred + batch.deferred,
        )
        if batch.attempted < DRAIN_BATCH:
            return total
