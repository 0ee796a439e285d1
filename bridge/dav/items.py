"""Collections, items and the change log that sync tokens are made of.

Every item change goes through :func:`put_item` or :func:`delete_item`, which bump the
collection's revision and log the href at that revision, in the caller's transaction. Every
:data:`PRUNE_EVERY` revisions, changes older than :data:`CHANGE_LOG_RETENTION` are pruned, so the
log stays as long as the changes of a month. A sync
token names ``(sync_key, revision)``; what changed since a token is the distinct hrefs logged
after its revision (deleted hrefs included).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import radicale.item
import vobject
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bridge import clock
from bridge.store.models import DavChange, DavCollection, DavItem

# A client that has not synced for this long does a full sync (Radicale's max_sync_token_age).
CHANGE_LOG_RETENTION = dt.timedelta(days=30)
PRUNE_EVERY = 100  # revisions between two pruning passes of a collection


@dataclasses.dataclass(frozen=True)
class ItemFacts:
    """What Radicale needs of an item without parsing it again: see ``Item.prepare``."""

    text: str
    uid: str
    component: str
    etag: str
    start_ts: int
    end_ts: int

    @classmethod
    def of(cls, item: radicale.item.Item) -> ItemFacts:
        """Facts of a prepared (or preparable) Radicale item."""
        start, end = item.time_range
        return cls(item.serialize(), item.uid, item.component_name, item.etag, start, end)

    @classmethod
    def parse(cls, text: str, collection_path: str = "") -> ItemFacts:
        """Facts of iCalendar text the bridge generated (one object, one UID).

        Raises:
            ValueError: the text is not one iCalendar object.
        """
        vobject_item = vobject.readOne(text)
        item = radicale.item.Item(collection_path=collection_path, vobject_item=vobject_item)
        item.prepare()
        return cls.of(item)


def new_collection(
    session: Session, provider_id: int, name: str, kind: str, props: dict[str, str]
) -> DavCollection:
    collection = DavCollection(
        provider_id=provider_id,
        name=name,
        kind=kind,
        sync_key=secrets.token_hex(16),
        props=dict(props),
        revision=0,
        pruned_revision=0,
    )
    session.add(collection)
    session.flush()
    return collection


def bump_revision(session: Session, collection: DavCollection) -> int:
    """Increase the collection's revision (row-locked until commit on PostgreSQL)."""
    revision = session.execute(
        update(DavCollection)
        .where(DavCollection.id == collection.id)
        .values(revision=DavCollection.revision + 1, updated_at=clock.now())
        .returning(DavCollection.revision)
    ).scalar_one()
    collection.revision = revision
    return revision


def _log(session: Session, collection: DavCollection, href: str) -> int:
    revision = bump_revision(session, collection)
    session.add(DavChange(collection_id=collection.id, revision=revision, href=href))
    if revision % PRUNE_EVERY == 0:
        prune_changes(session, collection, clock.now() - CHANGE_LOG_RETENTION)
    return revision


def prune_changes(session: Session, collection: DavCollection, older_than: dt.datetime) -> int:
    """Forget changes logged before ``older_than``; sync tokens from before them become invalid.

    Returns:
        The new ``pruned_revision`` (tokens below it get ``DAV:valid-sync-token``).
    """
    newest_old = session.scalar(
        select(func.max(DavChange.revision)).where(
            DavChange.collection_id == collection.id, DavChange.at < older_than
        )
    )
    if newest_old is None or newest_old <= collection.pruned_revision:
        return collection.pruned_revision
    session.execute(
        delete(DavChange).where(
            DavChange.collection_id == collection.id, DavChange.revision <= newest_old
        )
    )
    session.execute(
        update(DavCollection)
        .where(DavCollection.id == collection.id)
        .values(pruned_revision=newest_old)
    )
    collection.pruned_revision = newest_old
    return newest_old


def get_item(session: Session, collection: DavCollection, href: str) -> DavItem | None:
    return session.scalar(
        select(DavItem).where(DavItem.collection_id == collection.id, DavItem.href == href)
    )


def put_item(
    session: Session,
    collection: DavCollection,
    href: str,
    facts: ItemFacts,
    *,
    booking_id: int | None = None,
    busy_interval_id: int | None = None,
    overlay: str | None = None,
) -> tuple[DavItem, bool]:
    """Create or replace the item at ``href``; return it and whether anything changed.

    Writing identical content is not a change: no revision, no log entry, same ETag.
    """
    item = get_item(session, collection, href)
    if item is not None and item.etag == facts.etag and item.overlay == overlay:
        return item, False
    revision = _log(session, collection, href)
    if item is None:
        item = DavItem(collection_id=collection.id, href=href)
        session.add(item)
    item.text = facts.text
    item.uid = facts.uid
    item.component = facts.component
    item.etag = facts.etag
    item.start_ts = facts.start_ts
    item.end_ts = facts.end_ts
    item.revision = revision
    item.last_modified = clock.now()
    item.booking_id = booking_id
    item.busy_interval_id = busy_interval_id
    item.overlay = overlay
    session.flush()
    return item, True


def delete_item(session: Session, collection: DavCollection, href: str) -> bool:
    """Delete the item at ``href``; return whether it existed."""
    deleted = session.scalars(
        delete(DavItem)
        .where(DavItem.collection_id == collection.id, DavItem.href == href)
        .returning(DavItem.id)
    ).all()
    if deleted:
        _log(session, collection, href)
    return bool(deleted)


def changed_since(session: Session, collection: DavCollection, revision: int) -> list[str]:
    """Distinct hrefs changed or deleted after ``revision``, oldest change first."""
    rows = session.execute(
        select(DavChange.href, DavChange.revision)
        .where(DavChange.collection_id == collection.id, DavChange.revision > revision)
        .order_by(DavChange.revision)
    )
    return list(dict.fromkeys(href for href, _ in rows))
