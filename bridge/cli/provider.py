"""``bridge provider add|list``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import click
from sqlalchemy import func, select

from bridge.booking import providers, schedule, services
from bridge.booking.validation import check_email, check_slug, check_text, check_time_zone
from bridge.cli import output
from bridge.cli.base import BridgeGroup, data_dir_option, load, open_store
from bridge.cli.passwords import PASSWORD_ENV, read_password
from bridge.errors import NotFound, ValidationFailed
from bridge.store.models import Service


@click.group(cls=BridgeGroup)
def provider() -> None:
    """Add and list providers (the people who take bookings)."""


def _check_fields(slug: str, name: str, email: str, timezone: str) -> None:
    """Report every malformed field at once, before asking for a password."""
    problems: dict[str, str] = {}
    checks: tuple[Callable[[], str], ...] = (
        functools.partial(check_slug, slug),
        functools.partial(check_text, name, "name", max_length=200),
        functools.partial(check_email, email),
        functools.partial(check_time_zone, timezone),
    )
    for check in checks:
        try:
            check()
        except ValidationFailed as exc:
            problems.update(exc.fields)
    if problems:
        raise ValidationFailed(problems)


@provider.command("add")
@click.option("--slug", required=True, help="URL name, e.g. dr-smith (lowercase, digits, '-').")
@click.option("--name", required=True, help="Display name, e.g. 'Dr. Smith'.")
@click.option("--email", required=True, help="The provider's e-mail address.")
@click.option("--timezone", required=True, help="IANA time zone, e.g. Europe/Berlin.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help=f"Read the password from stdin (else ${PASSWORD_ENV}, else a hidden prompt).",
)
@data_dir_option
def add(
    slug: str,
    name: str,
    email: str,
    timezone: str,
    password_stdin: bool,
    data_dir: Path | None,
) -> None:
    """Add a provider with a 30-minute service and weekday 09:00-17:00 hours.

    The password is never a command-line value: it comes from stdin (--password-stdin), the
    BRIDGE_PROVIDER_PASSWORD environment variable, or a hidden prompt on a terminal.
    """
    settings = load(data_dir=data_dir)
    _check_fields(slug, name, email, timezone)
    with open_store(settings) as store:
        with store.read() as session:
            try:
                providers.get_provider(session, slug)
            except NotFound:
                pass
            else:
                raise ValidationFailed({"slug": f"{slug!r} is already taken"})
        password = providers.check_password(read_password(from_stdin=password_stdin))
        with store.write() as session:
            created = providers.create_provider(
                session, slug=slug, name=name, email=email, time_zone=timezone, password=password
            )
            offered = services.list_services(session, created.id, active_only=False)
            hours = schedule.get_weekly_hours(session, created.id)
    click.echo(
        f"Created provider {created.slug}: {created.name} <{created.email}>, "
        f"time zone {created.time_zone}"
    )
    for service in offered:
        click.echo(f"  service {service.id}: {service.name}, {service.duration_minutes} min")
    click.echo(f"  hours: {output.weekly_hours(hours)}")


@provider.command("list")
@data_dir_option
def list_(data_dir: Path | None) -> None:
    """List providers: slug, name, e-mail, time zone and number of services."""
    settings = load(data_dir=data_dir)
    with open_store(settings) as store, store.read() as session:
        per_provider = select(Service.provider_id, func.count()).group_by(Service.provider_id)
        counts = {provider_id: count for provider_id, count in session.execute(per_provider)}
        rows = [
            [p.slug, p.name, p.email, p.time_zone, str(counts.get(p.id, 0))]
            for p in providers.list_providers(session)
        ]
    if not rows:
        click.echo("No providers yet; add one with `bridge provider add`.")
        return
    click.echo(output.table(["slug", "name", "email", "time zone", "services"], rows))
