"""Immutable snapshots of the rows Radicale's objects are made of, and item loading.

Collections keep a snapshot of their row taken under the lock, so the properties Radicale renders
after releasing it (getctag, displayname, last-modified) are consistent and need no database.
Items are loaded complete: text, ETag, UID, component, time range and modification time are
columns, so Radicale never parses an item to answer a PROPFIND or a REPORT's pre-filter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
from collections.abc import Iterable, Sequence
from typing import Any

import radicale.item
from radicale import pathutils
from radicale.storage import BaseCollection
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bridge.store.models import DavCollection, DavItem, Provider

MAX_NAME_LENGTH = 255  # DavCollection.name and DavItem.href
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # last-modified of the virtual root


def split(path: str) -> tuple[str, ...]:
    """``"/alice/work/x.ics"`` -> ``("alice", "work", "x.ics")``; the root is ``()``."""
    stripped = pathutils.strip_path(path)
    return tuple(stripped.split("/")) if stripped else ()


def http_date(instant: dt.datetime) -> str:
    return email.utils.format_datetime(instant.astimezone(dt.UTC), usegmt=True)


@dataclasses.dataclass(frozen=True)
class ProviderRow:
    id: int
    slug: str
    updated_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class CollectionRow:
    id: int
    provider_id: int
    name: str
    kind: str
    sync_key: str
    props: dict[str, str]
    revision: int
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: DavCollection) -> CollectionRow:
        return cls(
            row.id,
            row.provider_id,
            row.name,
            row.kind,
            row.sync_key,
            dict(row.props or {}),
            row.revision,
            row.updated_at,
        )


def load_provider(session: Session, slug: str) -> ProviderRow | None:
    row = session.execute(
        select(Provider.id, Provider.slug, Provider.updated_at).where(Provider.slug == slug)
    ).first()
    return ProviderRow(*row) if row is not None else None


def load_collections(
    session: Session, provider_id: int, name: str | None = None
) -> list[CollectionRow]:
    query = select(DavCollection).where(DavCollection.provider_id == provider_id)
    if name is not None:
        query = query.where(DavCollection.name == name)
    return [CollectionRow.of(row) for row in session.scalars(query.order_by(DavCollection.id))]


_ITEM_COLUMNS = (
    DavItem.href,
    DavItem.text,
    DavItem.etag,
    DavItem.uid,
    DavItem.component,
    DavItem.start_ts,
    DavItem.end_ts,
    DavItem.last_modified,
)


def _object_name(text: str) -> str:
    """``VCALENDAR`` or ``VCARD``: the name on the item's first line."""
    first = text.split("\n", 1)[0].strip()
    return first.split(":", 1)[1].upper() if first.upper().startswith("BEGIN:") else ""


def make_item(collection: BaseCollection, row: Sequence[Any]) -> radicale.item.Item:
    """A complete Radicale item bound to ``collection`` from a row of :data:`_ITEM_COLUMNS`."""
    href, text, etag, uid, component, start_ts, end_ts, last_modified = row
    return radicale.item.Item(
        collection=collection,
        href=href,
        last_modified=http_date(last_modified),
        text=text,
        etag=etag,
        uid=uid,
        name=_object_name(text),
        component_name=component,
        time_range=(start_ts, end_ts),
    )


def load_items(
    session: Session,
    collection: BaseCollection,
    collection_id: int,
    *conditions: ColumnElement[bool],
) -> list[radicale.item.Item]:
    query = (
        select(*_ITEM_COLUMNS)
        .where(DavItem.collection_id == collection_id, *conditions)
        .order_by(DavItem.href)
    )
    return [make_item(collection, row) for row in session.execute(query)]


def has_uid(session: Session, collection_id: int, uid: str) -> bool:
    found = session.scalar(
        select(DavItem.id)
        .where(DavItem.collection_id == collection_id, DavItem.uid == uid)
        .limit(1)
    )
    return found is not None


def chunks(values: Iterable[str], size: int = 500) -> Iterable[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
