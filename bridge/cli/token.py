"""``bridge token create|list|revoke``: REST API bearer tokens."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.orm import Session

from bridge.booking import providers, tokens
from bridge.cli import output
from bridge.cli.base import BridgeGroup, data_dir_option, load, open_store
from bridge.store.models import ApiToken, Provider


@click.group(cls=BridgeGroup)
def token() -> None:
    """Create, list and revoke REST API tokens (scoped to one provider, or admin)."""


def _scope(item: ApiToken) -> str:
    if item.is_admin:
        return "admin"
    return f"provider {item.provider.slug}" if item.provider else f"provider #{item.provider_id}"


def _provider_or_none(session: Session, slug: str | None) -> Provider | None:
    return providers.get_provider(session, slug) if slug is not None else None


@token.command("create")
@click.option("--provider", "slug", metavar="SLUG", help="Scope the token to this provider.")
@click.option("--admin", is_flag=True, help="An admin token (every provider).")
@click.option("--label", default="", help="A note saying where the token is used.")
@data_dir_option
def create(slug: str | None, admin: bool, label: str, data_dir: Path | None) -> None:
    """Create a token and print its secret, once.

    Exactly one of --provider SLUG or --admin. The secret alone goes to stdout, so
    `TOKEN=$(bridge token create --provider demo)` captures it; the rest goes to stderr.
    """
    if (slug is None) == (not admin):
        raise click.UsageError("give exactly one of --provider SLUG or --admin")
    settings = load(data_dir=data_dir)
    with open_store(settings) as store, store.write() as session:
        owner = _provider_or_none(session, slug)
        issued = tokens.create_token(session, provider=owner, label=label)
        token_id, scope = issued.token.id, _scope(issued.token)
    click.echo(f"Created API token {token_id} ({scope}). Its secret is shown this once:", err=True)
    click.echo(issued.secret)
    click.echo("Store it now: it cannot be shown again (only its hash is kept).", err=True)


@token.command("list")
@click.option("--provider", "slug", metavar="SLUG", help="Only this provider's tokens.")
@click.option("--admin", is_flag=True, help="Only admin tokens.")
@data_dir_option
def list_(slug: str | None, admin: bool, data_dir: Path | None) -> None:
    """List live tokens: id, scope, label, created, last used (never the secret)."""
    if slug is not None and admin:
        raise click.UsageError("give at most one of --provider SLUG or --admin")
    settings = load(data_dir=data_dir)
    with open_store(settings) as store, store.read() as session:
        owner = _provider_or_none(session, slug)
        found = tokens.list_tokens(session, provider=owner)
        rows = [
            [
                str(item.id),
                _scope(item),
                item.label,
                output.timestamp(item.created_at),
                output.timestamp(item.last_used_at),
            ]
            for item in found
            if item.is_admin or not admin
        ]
    if not rows:
        click.echo("No tokens.")
        return
    click.echo(output.table(["id", "scope", "label", "created", "last used"], rows))


@token.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
@data_dir_option
def revoke(token_id: int, data_dir: Path | None) -> None:
    """Revoke token ID (see `bridge token list`); it stops working at once."""
    settings = load(data_dir=data_dir)
    with open_store(settings) as store, store.write() as session:
        tokens.revoke_token(session, token_id)
    click.echo(f"Revoked API token {token_id}.")
