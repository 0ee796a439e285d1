"""RFC 6578 sync tokens from the collection's revision counter and change log.

A token is ``http://calendar-bridge/sync/<sync_key>/<revision>``: ``sync_key`` is random per
collection (a collection deleted and made again under the same name gets a new one), and what
changed since a token is the hrefs logged after its revision
(:func:`bridge.dav.items.changed_since`, deletions included). So an incremental sync costs
what changed, not the collection's size.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.dav import items
from bridge.store.models import DavCollection, DavItem

TOKEN_PREFIX = "http://calendar-bridge/sync/"


def token(sync_key: str, revision: int) -> str:
    return f"{TOKEN_PREFIX}{sync_key}/{revision}"


def _revision_of(old_token: str, sync_key: str) -> int:
    if not old_token.startswith(TOKEN_PREFIX):
        raise ValueError(f"not a sync token of this server: {old_token!r}")
    key, _, revision = old_token[len(TOKEN_PREFIX) :].partition("/")
    if key != sync_key:
        raise ValueError("the sync token belongs to another collection (or a deleted one)")
    if not revision.isdigit():
        raise ValueError(f"malformed sync token: {old_token!r}")
    return int(revision)


def changes(session: Session, collection_id: int, old_token: str) -> tuple[str, list[str]]:
    """The current token and the hrefs changed since ``old_token`` (all hrefs when empty).

    The revision is read before the hrefs: a change committed in between is listed now and
    again next time, never lost.

    Raises:
        ValueError: ``old_token`` is malformed, foreign, pruned or from the future; the client
            must then sync from scratch (Radicale answers 403 ``DAV:valid-sync-token``).
    """
    collection = session.get(DavCollection, collection_id, populate_existing=True)
    if collection is None:
        raise ValueError("the collection no longer exists")
    current = token(collection.sync_key, collection.revision)
    if not old_token:
        hrefs = session.scalars(
            select(DavItem.href).where(DavItem.collection_id == collection_id)
        ).all()
        return current, list(hrefs)
    revision = _revision_of(old_token, collection.sync_key)
    if revision < collection.pruned_revision:
        raise ValueError("the sync token is too old: its changes were pruned")
    if revision > collection.revision:
        raise ValueError("the sync token is from the future")
    return current, items.changed_since(session, collection, revision)
