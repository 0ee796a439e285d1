"""``bridge app-password create|list|revoke``: CalDAV passwords for devices, one per device."""

from __future__ import annotations

from pathlib import Path

import click

from bridge.booking import app_passwords, providers
from bridge.cli import output
from bridge.cli.base import BridgeGroup, data_dir_option, load, open_store


@click.group("app-password", cls=BridgeGroup)
def app_password() -> None:
    """Create, list and revoke a provider's app passwords for CalDAV devices.

    A device (phone, laptop, Thunderbird) signs in with the provider's slug as user name and
    its own app password, which can be revoked alone.
    """


_provider_option = click.option(
    "--provider", "slug", required=True, metavar="SLUG", help="The provider's slug."
)


@app_password.command("create")
@_provider_option
@click.option("--label", required=True, help="The device it is for, e.g. 'iPhone'.")
@data_dir_option
def create(slug: str, label: str, data_dir: Path | None) -> None:
    """Create an app password and print it, once.

    The password alone goes to stdout, so `PASSWORD=$(bridge app-password create ...)`
    captures it; the rest goes to stderr.
    """
    settings = load(data_dir=data_dir)
    with open_store(settings) as store, store.write() as session:
        provider = providers.get_provider(session, slug)
        issued = app_passwords.create(session, provider, label)
        item_id, item_label = issued.app_password.id, issued.app_password.label
    click.echo(
        f"Created app password {item_id} ({item_label}) for {slug}. It is shown this once:",
        err=True,
    )
    click.echo(issued.secret)
    click.echo(
        f"Sign in with user name {slug} and this password. It cannot be shown again (only its "
        f"hash is kept); revoke it with `bridge app-password revoke --provider {slug} {item_id}`.",
        err=True,
    )


@app_password.command("list")
@_provider_option
@data_dir_option
def list_(slug: str, data_dir: Path | None) -> None:
    """List live app passwords: id, label, created, last used (never the password)."""
    settings = load(data_dir=data_dir)
    with open_store(settings) as store, store.read() as session:
        provider = providers.get_provider(session, slug)
        rows = [
            [
                str(item.id),
                item.label,
                output.timestamp(item.created_at),
                output.timestamp(item.last_used_at),
            ]
            for item in app_passwords.list_live(session, provider)
        ]
    if not rows:
        click.echo(f"{slug} has no app passwords.")
        return
    click.echo(output.table(["id", "label", "created", "last used"], rows))


@app_password.command("revoke")
@_provider_option
@click.argument("app_password_id", metavar="ID", type=int)
@data_dir_option
def revoke(slug: str, app_password_id: int, data_dir: Path | None) -> None:
    """Revoke app password ID (see `bridge app-password list`): its device can no longer log in."""
    settings = load(data_dir=data_dir)
    with open_store(settings) as store, store.write() as session:
        provider = providers.get_provider(session, slug)
        item = app_passwords.revoke(session, provider, app_password_id)
        item_label = item.label
    click.echo(f"Revoked app password {app_password_id} ({item_label}) of {slug}.")
