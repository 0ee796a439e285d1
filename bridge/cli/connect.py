"""``bridge connect google --provider SLUG``: start connecting a calendar account.

The command prints the consent URL (stdout, alone on its line); whoever owns the account opens
it in a browser and approves. The authorisation server then sends the browser to the running
server's ``<public URL>/oauth/<kind>/callback``, which finishes the connection: so ``bridge
serve`` must be running and reachable at the public URL (``BRIDGE_PUBLIC_URL``), and that
callback address must be registered with the OAuth client.
"""

from __future__ import annotations

from pathlib import Path

import click

from bridge import keys, oauth
from bridge.booking import providers
from bridge.cli.base import BridgeGroup, data_dir_option, load, open_store


@click.group(cls=BridgeGroup)
def connect() -> None:
    """Connect a provider's external calendar account (prints a consent link to open)."""


@connect.command("google")
@click.option("--provider", "slug", required=True, metavar="SLUG", help="The provider's slug.")
@click.option(
    "--reconnect",
    "reconnect_id",
    type=int,
    default=None,
    metavar="ID",
    help="Renew this connection's access (e.g. after 'needs_reauth'); same account only.",
)
@data_dir_option
def google(slug: str, reconnect_id: int | None, data_dir: Path | None) -> None:
    """Print the Google consent URL; the server's callback completes the connection.

    Needs BRIDGE_GOOGLE_CLIENT_ID and BRIDGE_GOOGLE_CLIENT_SECRET. After connecting, the
    account's primary calendar blocks busy times and receives the bookings.
    """
    settings = load(data_dir=data_dir)
    keyring = keys.load_keyring(settings)
    with open_store(settings) as store, store.write() as session:
        provider = providers.get_provider(session, slug)
        url = oauth.start_consent(
            session,
            keyring,
            settings,
            provider_id=provider.id,
            kind="google",
            reconnect_id=reconnect_id,
        )
    minutes = int(oauth.STATE_TTL.total_seconds() // 60)
    click.echo(
        f"Open this link in a browser signed in to the Google account to connect for {slug} "
        f"(it works once, for {minutes} minutes):",
        err=True,
    )
    click.echo(url)
    callback = oauth.redirect_uri(settings, "google")
    click.echo(
        f"After you approve, Google sends the browser back to {callback}, where the running "
        "server (`bridge serve`) completes the connection and shows the account. Check it with "
        f"`bridge sync status --provider {slug}`.",
        err=True,
    )
