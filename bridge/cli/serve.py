"""``bridge serve``: migrate, seed the demo on an empty embedded database, and run the web app."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from bridge import keys
from bridge.booking import demo, providers, services
from bridge.cli import runner
from bridge.cli.base import (
    BridgeCommand,
    CommandFailed,
    data_dir_option,
    describe_database,
    load,
    open_store,
)
from bridge.errors import ConfigError, NotFound
from bridge.settings import Settings
from bridge.store import Store

if TYPE_CHECKING:
    from bridge.jobs import SyncScheduler

log = logging.getLogger(__name__)


def slots_url(public_url: str, slug: str, service_id: int) -> str:
    return f"{public_url}/api/v1/providers/{slug}/slots?service={service_id}"


def _demo_slots_url(session: Session, public_url: str) -> str | None:
    """The slots URL of the demo provider's first active service, if there is a demo."""
    try:
        provider = providers.get_provider(session, demo.DEMO_SLUG)
    except NotFound:
        return None
    offered = services.list_services(session, provider.id, active_only=True)
    return slots_url(public_url, provider.slug, offered[0].id) if offered else None


def _show_demo(seed: demo.DemoSeed) -> None:
    provider = seed.provider
    click.echo("Demo data created. The password and the token are shown this once:")
    click.echo(f"  provider   {provider.slug} ({provider.name}, {provider.time_zone})")
    for service in seed.services:
        click.echo(f"  service    {service.id}: {service.name}, {service.duration_minutes} min")
    click.echo(f"  password   {seed.password}  (login {provider.slug})")
    click.echo(f"  API token  {seed.api_token}")


@click.command(cls=BridgeCommand)
@click.option("--host", default=None, help="Address to bind [default: 127.0.0.1; env BRIDGE_HOST].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port to bind, 0 for any free one [default: 8000; env BRIDGE_PORT].",
)
@data_dir_option
@click.option("--no-demo", is_flag=True, help="Do not create the demo provider.")
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Do not run the sync jobs in this process (run `bridge worker` elsewhere).",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Once accepting connections, write the server's URL into this file (atomically).",
)
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    no_demo: bool,
    no_scheduler: bool,
    ready_file: Path | None,
) -> None:
    """Run the server: the booking API, CalDAV, OAuth callbacks, webhooks and the sync jobs.

    Applies database migrations first. On the embedded SQLite default, an empty database gets a
    demo provider ('demo') whose password and API token are printed once. SIGINT or SIGTERM
    stops the server cleanly (the sync work in progress finishes first).
    """
    settings = load(quiet=False, host=host, port=port, data_dir=data_dir)
    if ready_file is not None:
        ready_file.unlink(missing_ok=True)  # a stale file must not announce this start
    try:
        sock = runner.bind(settings.host, settings.port)
    except OSError as exc:
        raise CommandFailed(f"cannot listen on {settings.host}:{settings.port}: {exc}") from exc
    with sock:
        bound = runner.base_url(sock)
        settings = settings.with_overrides(
            port=sock.getsockname()[1], public_url=settings.public_url or bound
        )
        _run(
            settings,
            sock,
            bound,
            seed=not no_demo,
            scheduler=not no_scheduler,
            ready_file=ready_file,
        )


def _run(
    settings: Settings,
    sock: socket.socket,
    bound: str,
    *,
    seed: bool,
    scheduler: bool,
    ready_file: Path | None,
) -> None:
    # Imported here: only `serve` needs the web app, and the other commands start faster.
    from bridge.web import access_log
    from bridge.web.app import create_app

    access_log.install()  # feed tokens and ?token= values never reach the log
    keyring: keys.Keyring | None = None
    try:
        keyring = keys.load_keyring(settings)  # on the embedded default, creates the key file
    except ConfigError as exc:
        log.warning(
            "%s; feed links, calendar connections and sync are off until this is fixed", exc
        )

    public_url = settings.public_url or bound
    with open_store(settings) as store:
        log.info("Database %s is up to date", describe_database(settings))
        with store.write() as session:
            seeded = demo.seed_demo_if_empty(session) if seed and settings.is_embedded else None
        if seeded is not None:
            _show_demo(seeded)
        with store.read() as session:
            demo_url = _demo_slots_url(session, public_url)
            if not demo.has_providers(session):
                log.info("No providers yet: add one with `bridge provider add`")
        sync = _scheduler(settings, store, keyring) if scheduler else None
        app = create_app(settings, store, scheduler=sync)

        def on_started() -> None:
            if sync is not None:
                sync.start()
            where = bound if public_url == bound else f"{bound} (public URL {public_url})"
            line = f"Calendar bridge running on {where}"
            click.echo(line + (f"; demo slots: {demo_url}" if demo_url else ""))
            if ready_file is not None:
                runner.write_atomically(ready_file, bound)
            log.info("Ready; SIGINT or SIGTERM stops the server")

        try:
            runner.serve(app, sock, on_started)
        finally:
            if sync is not None:
                sync.stop()
            if ready_file is not None:
                ready_file.unlink(missing_ok=True)
    log.info("Stopped")


def _scheduler(
    settings: Settings, store: Store, keyring: keys.Keyring | None
) -> SyncScheduler | None:
    """The sync scheduler of this process, or None when it cannot run (no secret key)."""
    from bridge import jobs
    from bridge.sync.engine import SyncEngine

    if keyring is None:
        return None
    jobs.quiet_apscheduler()
    return jobs.SyncScheduler(SyncEngine(store, settings, keyring), settings)
