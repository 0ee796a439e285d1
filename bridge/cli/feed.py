"""``bridge feed url|rotate|revoke``: a provider's secret ICS feed links.

Links are built from the public URL (``BRIDGE_PUBLIC_URL``, else ``http://<host>:<port>`` from
the settings). Only the links go to stdout, the ``https://`` (or ``http://``) form first, then the
``webcal://`` form, so ``bridge feed url --provider demo | head -1`` captures one; what they show
and how to replace them goes to stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bridge import feeds, keys
from bridge.booking import feeds as feed_links
from bridge.booking import providers
from bridge.booking.feeds import FeedKind, FeedLink
from bridge.cli.base import BridgeGroup, CommandFailed, data_dir_option, load, open_store
from bridge.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

SHOWS: dict[FeedKind, str] = {
    "full": "the service and the client's first name",
    "busy": "busy times only, no client data",
}


@click.group(cls=BridgeGroup)
def feed() -> None:
    """Show, rotate and revoke a provider's secret ICS feed links (webcal://).

    Each provider has two feeds: the full one (service and client's first name) and, with
    --busy-only, one that shows busy times only. Anyone with a link can read that feed.
    """


def _feed_options(function: F) -> F:
    function = click.option(
        "--busy-only", is_flag=True, help="The busy-only feed: times only, no client data."
    )(function)
    function = click.option(
        "--provider", "slug", required=True, metavar="SLUG", help="The provider's slug."
    )(function)
    return data_dir_option(function)


def _kind(busy_only: bool) -> FeedKind:
    return "busy" if busy_only else "full"


def _flags(slug: str, kind: FeedKind) -> str:
    return f"--provider {slug}" + (" --busy-only" if kind == "busy" else "")


def _show(settings: Settings, slug: str, link: FeedLink, intro: str) -> None:
    if link.secret is None:
        raise CommandFailed(
            f"{link.problem}.\nFor a new link: bridge feed rotate {_flags(slug, link.kind)}"
        )
    url, webcal = feeds.feed_urls(settings.effective_public_url, link.secret)
    click.echo(f"{intro} It shows {SHOWS[link.kind]}; anyone with the link can read it.", err=True)
    click.echo(url)
    click.echo(webcal)
    click.echo(
        "Open the webcal:// link to subscribe in a calendar app. A leaked link is replaced with "
        f"`bridge feed rotate {_flags(slug, link.kind)}`.",
        err=True,
    )


_LinkAction = Callable[[Any, Any, FeedKind, keys.Keyring], FeedLink]


def _link_and_show(
    slug: str, busy_only: bool, data_dir: Path | None, action: _LinkAction, intro: str
) -> None:
    kind = _kind(busy_only)
    settings = load(data_dir=data_dir)
    keyring = keys.load_keyring(settings)
    with open_store(settings) as store, store.write() as session:
        provider = providers.get_provider(session, slug)
        link = action(session, provider, kind, keyring)
    _show(settings, slug, link, intro.format(kind=kind, slug=slug))


@feed.command("url")
@_feed_options
def url(slug: str, busy_only: bool, data_dir: Path | None) -> None:
    """Print the feed's https:// (or http://) and webcal:// links, creating it if needed."""
    _link_and_show(slug, busy_only, data_dir, feed_links.ensure, "The {kind} feed of {slug}.")


@feed.command("rotate")
@_feed_options
def rotate(slug: str, busy_only: bool, data_dir: Path | None) -> None:
    """Replace the feed's link with a new one; the old link stops working at once."""
    _link_and_show(
        slug,
        busy_only,
        data_dir,
        feed_links.rotate,
        "New link for the {kind} feed of {slug}; the old one is dead.",
    )


@feed.command("revoke")
@_feed_options
def revoke(slug: str, busy_only: bool, data_dir: Path | None) -> None:
    """End the feed's link: it answers 404 from now on.

    `bridge feed url` makes a new link afterwards.
    """
    kind = _kind(busy_only)
    settings = load(data_dir=data_dir)
    with open_store(settings) as store, store.write() as session:
        provider = providers.get_provider(session, slug)
        revoked = feed_links.revoke(session, provider, kind)
    if revoked:
        click.echo(f"Revoked the {kind} feed link of {slug}; it no longer works.")
    else:
        click.echo(f"{slug} has no {kind} feed link; nothing to revoke.")
