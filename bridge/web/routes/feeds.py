"""ICS feeds: the public ``/feeds/<token>.ics`` and, under ``/api/v1``, managing the links.

``GET /providers/{slug}/feeds`` shows both links (``full`` and ``busy``), creating a token on
first request; ``POST …/feeds/{kind}/rotate`` replaces one, ``DELETE …/feeds/{kind}`` ends it.
The provider's API token or an admin token (:func:`bridge.web.auth.require_provider`).

The feed itself needs no credentials: the token in the path is the credential. An unknown or
revoked token gets exactly the 404 of any unknown path. Conditional requests follow RFC 9110
§13.1: ``If-None-Match`` (weak comparison) decides when present, else ``If-Modified-Since``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from bridge import clock, feeds, keys
from bridge.booking import feeds as feed_links
from bridge.booking import providers
from bridge.booking.feeds import FeedKind, FeedLink
from bridge.store.models import Provider
from bridge.web.auth import CurrentPrincipal, require_provider
from bridge.web.deps import ReadSession, WriteSession, keyring_or_503
from bridge.web.schemas import error_responses

logger = logging.getLogger(__name__)

router = APIRouter(tags=["feeds"], responses=error_responses(401, 403, 404, 422))
feed_router = APIRouter(tags=["feeds"])

SHOWS: dict[FeedKind, str] = {
    "full": "service and the client's first name",
    "busy": "busy times only, no client data",
}
_NO_STORE = {"Cache-Control": "no-store"}


class FeedLinkOut(BaseModel):
    kind: Literal["full", "busy"]
    shows: str = Field(description="What the feed's events show.")
    url: str | None = Field(description="The feed's http(s) link; null if it cannot be shown.")
    webcal_url: str | None = Field(description="The same link as webcal://, for calendar apps.")
    created_at: dt.datetime
    problem: str | None = Field(
        default=None, description="Why the link cannot be shown (rotate it for a new one)."
    )


class FeedLinks(BaseModel):
    feeds: list[FeedLinkOut]


def get_keyring(request: Request) -> keys.Keyring:
    return keyring_or_503(request, "feed links are")


KeyringDep = Annotated[keys.Keyring, Depends(get_keyring)]


def _render(request: Request, link: FeedLink) -> FeedLinkOut:
    url = webcal = None
    if link.secret is not None:
        url, webcal = feeds.feed_urls(request.app.state.settings.effective_public_url, link.secret)
    return FeedLinkOut(
        kind=link.kind,
        shows=SHOWS[link.kind],
        url=url,
        webcal_url=webcal,
        created_at=link.created_at,
        problem=link.problem,
    )


@router.get("/providers/{slug}/feeds")
def list_feeds(
    slug: str,
    principal: CurrentPrincipal,
    session: WriteSession,
    keyring: KeyringDep,
    request: Request,
    response: Response,
) -> FeedLinks:
    """Both feed links of the provider, each created on first request.

    Anyone with a link can read that feed: share the `busy` one for free/busy only.
    """
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    links = [feed_links.ensure(session, provider, kind, keyring) for kind in feed_links.KINDS]
    response.headers.update(_NO_STORE)
    return FeedLinks(feeds=[_render(request, link) for link in links])


@router.post("/providers/{slug}/feeds/{kind}/rotate")
def rotate_feed(
    slug: str,
    kind: FeedKind,
    principal: CurrentPrincipal,
    session: WriteSession,
    keyring: KeyringDep,
    request: Request,
    response: Response,
) -> FeedLinkOut:
    """Replace the feed's token: the old link stops working at once."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    link = feed_links.rotate(session, provider, kind, keyring)
    logger.info("Rotated the %s feed of provider %s (%s)", kind, slug, principal.actor())
    response.headers.update(_NO_STORE)
    return _render(request, link)


@router.delete("/providers/{slug}/feeds/{kind}", status_code=204)
def revoke_feed(
    slug: str, kind: FeedKind, principal: CurrentPrincipal, session: WriteSession
) -> None:
    """End the feed's link; asking for the links again makes a new one."""
    provider = providers.get_provider(session, slug)
    require_provider(principal, provider)
    feed_links.revoke(session, provider, kind)
    logger.info("Revoked the %s feed of provider %s (%s)", kind, slug, principal.actor())


# -- the feed ----------------------------------------------------------------------------------


def _etag_matches(header: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: ``*`` or any listed tag, weakly compared."""
    tags = [tag.strip() for tag in header.split(",")]
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


def _unmodified_since(header: str, last_modified: dt.datetime) -> bool:
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False  # an invalid date is ignored (RFC 9110 §13.1.3)
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return last_modified.replace(microsecond=0) <= since


@feed_router.get(
    "/feeds/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, 304: {"description": "Not Modified"}},
)
@feed_router.head("/feeds/{token}.ics", response_class=Response, include_in_schema=False)
def get_feed(
    token: str,
    request: Request,
    session: ReadSession,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    """A provider's bookings as an iCalendar feed (the token in the path is the credential).

    From 30 days ago on; `full` feeds show the service and the client's first name, `busy`
    feeds the times only.
    """
    row = feed_links.find_live(session, token)
    if row is None:
        raise HTTPException(404)  # the very answer of an unknown path
    kind: FeedKind = "busy" if row.kind == "busy" else "full"
    provider = session.get_one(Provider, row.provider_id)
    feed = feeds.load(session, provider, kind, clock.now())
    headers = {
        "ETag": feed.etag,
        "Last-Modified": email.utils.format_datetime(
            feed.last_modified.astimezone(dt.UTC), usegmt=True
        ),
        "Cache-Control": "private, no-cache",
        "Referrer-Policy": "no-referrer",
    }
    if if_none_match is not None:
        fresh = _etag_matches(if_none_match, feed.etag)
    else:
        fresh = if_modified_since is not None and _unmodified_since(
            if_modified_since, feed.last_modified
        )
    if fresh:
        return Response(status_code=304, headers=headers)
    body = feed.render()
    headers["X-Content-Type-Options"] = "nosniff"
    logger.debug("Served the %s feed of provider %s (token %s)", kind, provider.slug, row.id)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        body = b""
    return Response(body, media_type=feeds.MEDIA_TYPE, headers=headers)
