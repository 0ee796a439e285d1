"""What every command shares: settings, the store, logging, and the one error translation.

Errors become exit codes here and nowhere else: :class:`~bridge.errors.ValidationFailed` and
:class:`~bridge.errors.ConfigError` exit with 2 (like a usage error), every other
:class:`~bridge.errors.BridgeError` and an unusable database with 1; each is one clear message on
stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from bridge import logging_setup
from bridge.errors import BridgeError, ConfigError, ValidationFailed
from bridge.settings import Settings, load_settings
from bridge.store import Store

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class CommandFailed(click.ClickException):
    """A failure shown as ``Error: ...`` on stderr; exit code 1."""

    exit_code = EXIT_FAILURE


class BadInput(CommandFailed):
    """Input or configuration that is not acceptable; exit code 2, as for a usage error."""

    exit_code = EXIT_BAD_INPUT


def _field_label(field: str, command: click.Command | None) -> str:
    """Name a field the way the user typed it: ``time_zone`` -> ``--timezone``."""
    wanted = {field, field.replace("_", ""), field.replace("_", "-")}
    for param in command.params if command else ():
        if isinstance(param, click.Option) and param.name in wanted:
            return max(param.opts, key=len)
    return field


def translate(exc: BridgeError, command: click.Command | None) -> CommandFailed:
    """The CLI's form of a domain error."""
    if isinstance(exc, ValidationFailed):
        lines = [f"{_field_label(field, command)}: {msg}" for field, msg in exc.fields.items()]
        if len(lines) == 1:
            return BadInput(lines[0])
        return BadInput("invalid input\n  " + "\n  ".join(lines))
    if isinstance(exc, ConfigError):
        return BadInput(str(exc))
    return CommandFailed(str(exc))


class BridgeCommand(click.Command):
    """A command whose domain errors end as one line and an exit code (see module doc)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BridgeError as exc:
            raise translate(exc, self) from exc


class BridgeGroup(click.Group):
    """A group whose commands and sub-groups are :class:`BridgeCommand` / :class:`BridgeGroup`."""

    command_class = BridgeCommand
    group_class = type


def data_dir_option(function: F) -> F:
    """The ``--data-dir`` option every command takes."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Directory of the embedded SQLite database [default: ./data; env BRIDGE_DATA_DIR]. "
        "Ignored when BRIDGE_DATABASE_URL is set.",
    )(function)


def load(*, quiet: bool = True, **flags: Any) -> Settings:
    """Settings from defaults < config file < environment < the given (non-None) flags.

    Also configures logging: at the configured level for ``serve`` (``quiet=False``); short
    commands keep stderr for warnings unless the level is DEBUG.

    Raises:
        ConfigError: a setting is malformed.
    """
    settings = load_settings().with_overrides(**flags)
    level = settings.log_level
    if quiet and level != "DEBUG":
        level = "WARNING"
    logging_setup.configure(level)
    if flags.get("data_dir") is not None and not settings.is_embedded:
        log.warning("--data-dir is ignored: the database is BRIDGE_DATABASE_URL")
    return settings


def describe_database(settings: Settings) -> str:
    """The database URL with any password masked."""
    try:
        return make_url(settings.effective_database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed database URL>"


@contextlib.contextmanager
def open_store(settings: Settings, *, migrate: bool = True) -> Iterator[Store]:
    """The store of ``settings``, migrated to the latest revision, disposed at the end.

    Raises:
        CommandFailed: the URL is malformed, or the database cannot be reached or written.
    """
    where = describe_database(settings)
    try:
        store = Store(settings.effective_database_url)
    except ArgumentError as exc:
        raise BadInput(f"BRIDGE_DATABASE_URL is not a database URL: {exc}") from exc
    except ImportError as exc:
        raise CommandFailed(f"no driver for the database {where}: {exc}") from exc
    try:
        if migrate:
            store.upgrade()
        yield store
    except OperationalError as exc:
        # Unreachable server, wrong credentials, unwritable file: the driver's first line says it.
        problem = str(exc.orig or exc).strip().splitlines()[0]
        raise CommandFailed(f"cannot use the database {where}: {problem}") from exc
    finally:
        store.dispose()
