"""``bridge db upgrade|current``: the schema revision of the configured database."""

from __future__ import annotations

from pathlib import Path

import click
from alembic.script import ScriptDirectory

from bridge.cli.base import BridgeGroup, data_dir_option, describe_database, load, open_store
from bridge.store.migrate import alembic_config, current_revision


@click.group(cls=BridgeGroup)
def db() -> None:
    """Database schema migrations."""


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _describe(revision: str | None) -> str:
    if revision is None:
        return "no revision (empty database)"
    state = "latest" if revision == head_revision() else f"latest is {head_revision()}"
    return f"revision {revision} ({state})"


@db.command("upgrade")
@data_dir_option
def upgrade(data_dir: Path | None) -> None:
    """Apply pending migrations and print the current revision.

    Every command (and `bridge serve`) does this first; this command only does this.
    """
    settings = load(data_dir=data_dir)
    with open_store(settings) as store:
        revision = current_revision(store.engine)
    click.echo(f"{describe_database(settings)}: {_describe(revision)}")


@db.command("current")
@data_dir_option
def current(data_dir: Path | None) -> None:
    """Print the database's revision, without migrating."""
    settings = load(data_dir=data_dir)
    with open_store(settings, migrate=False) as store:
        revision = current_revision(store.engine)
    click.echo(f"{describe_database(settings)}: {_describe(revision)}")
