"""``bridge worker``: run the sync scheduler alone (no HTTP), next to web-only processes.

Several workers and several ``bridge serve --no-scheduler`` processes can share one PostgreSQL
database: work is claimed through leases in the database, so any of them may stop at any time.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import click

from bridge import jobs, keys
from bridge.cli import runner
from bridge.cli.base import BridgeCommand, data_dir_option, describe_database, load, open_store
from bridge.sync.engine import SyncEngine

log = logging.getLogger(__name__)


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop``; the previous handlers come back afterwards."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.debug("Received %s", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command(cls=BridgeCommand)
@data_dir_option
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Once the scheduler runs, write 'ready' into this file (atomically).",
)
def worker(data_dir: Path | None, ready_file: Path | None) -> None:
    """Run the sync jobs only (pulls, outbox, push channels, token refresh); no web server.

    Runs until SIGINT or SIGTERM, then lets the work in progress finish. Push channels point at
    BRIDGE_PUBLIC_URL/hooks/google, which a `bridge serve` process must answer.
    """
    settings = load(quiet=False, data_dir=data_dir)
    keyring = keys.load_keyring(settings)
    if settings.public_url is None:
        log.warning(
            "BRIDGE_PUBLIC_URL is not set: push notifications are asked for at %s, which only "
            "this machine reaches",
            jobs.hook_address(settings),
        )
    if ready_file is not None:
        ready_file.unlink(missing_ok=True)
    stop = threading.Event()
    with stop_on_signals(stop), open_store(settings) as store:
        log.info("Database %s is up to date", describe_database(settings))
        jobs.quiet_apscheduler()
        scheduler = jobs.SyncScheduler(SyncEngine(store, settings, keyring), settings)
        scheduler.start()
        try:
            click.echo("Sync worker running; SIGINT or SIGTERM stops it")
            if ready_file is not None:
                runner.write_atomically(ready_file, "ready")
            while not stop.wait(3600):
                pass
        finally:
            log.info("Stopping: waiting for the sync work in progress")
            scheduler.stop()
            if ready_file is not None:
                ready_file.unlink(missing_ok=True)
    log.info("Stopped")
