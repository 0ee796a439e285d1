"""The ``bridge`` command line: serve, worker, provider, token, feed, app-password, sync, db.

``connect`` starts connecting an external calendar account; ``sync`` shows and runs its sync.

Every command reads the same settings (defaults < ``config/bridge.toml`` or ``$BRIDGE_CONFIG`` <
``BRIDGE_*`` environment < flags) and applies pending migrations before it does anything, so a
fresh data directory works with any command. ``bridge`` is also a Linux command
(``/usr/sbin/bridge``): call ``.venv/bin/bridge`` or ``python -m bridge``.
"""

from __future__ import annotations

import click

from bridge import __version__
from bridge.cli.app_password import app_password
from bridge.cli.base import BridgeGroup
from bridge.cli.connect import connect
from bridge.cli.db import db
from bridge.cli.feed import feed
from bridge.cli.provider import provider
from bridge.cli.serve import serve
from bridge.cli.sync import sync
from bridge.cli.token import token
from bridge.cli.worker import worker


@click.group(
    cls=BridgeGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="calendar-bridge")
def cli() -> None:
    """Calendar bridge: a booking system that keeps calendars in two-way sync.

    Settings come from defaults, then config/bridge.toml (or $BRIDGE_CONFIG), then BRIDGE_*
    environment variables, then flags; see config/bridge.example.toml.
    """


for _command in (serve, worker, provider, token, feed, app_password, connect, sync, db):
    cli.add_command(_command)


def main() -> None:
    """Entry point of the ``bridge`` console script and of ``python -m bridge``."""
    cli()
