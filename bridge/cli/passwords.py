"""Reading a password without ever taking it from the command line (shell history, ``ps``)."""

from __future__ import annotations

import os
import sys

import click

PASSWORD_ENV = "BRIDGE_PROVIDER_PASSWORD"


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def read_password(*, from_stdin: bool) -> str:
    """The password from stdin (``from_stdin``), else ``$BRIDGE_PROVIDER_PASSWORD``, else a prompt.

    The prompt is hidden and asks twice; it is offered only on a terminal.

    Raises:
        click.UsageError: no source is available.
    """
    if from_stdin:
        text = sys.stdin.read()
        return text.removesuffix("\n").removesuffix("\r")
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if _stdin_is_tty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    raise click.UsageError(
        f"a password is required: pipe it with --password-stdin, set {PASSWORD_ENV}, "
        "or run in a terminal to be prompted"
    )
