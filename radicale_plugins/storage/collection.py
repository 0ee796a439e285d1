"""The collection class: the root, a provider's principal, or one of their calendars.

Reads are indexed queries (``has_uid`` on ``(collection, uid)``, ``get_filtered`` on
``(collection, start_ts, end_ts)``, ``get_multi`` by href) and return complete items; getctag
and sync tokens come from the revision counter. Writes dispatch on the calendar's kind:
``bookings`` goes through :mod:`bridge.dav.edits` (bookings and blocked times), ``user`` is
stored as Radicale prepared it; ``busy`` is never written (the rights plugin makes it read-only).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, overload

import radicale.item
import radicale.item.filter as radicale_filter
from radicale import storage as radicale_storage
from sqlalchemy import ColumnElement

from bridge.store.models import DavItem
from radicale_plugins.storage import occurrences, rows, scope, writes
from radicale_plugins.storage import sync as sync_tokens

if TYPE_CHECKING:
    from radicale_plugins.storage import Storage


class Collection(radicale_storage.BaseCollection):
    """A collection as Radicale sees it.

    ``provider`` is set for a principal and its calendars, ``row`` (a snapshot taken under the
    lock) for calendars only; the root has neither.
    """

    def __init__(
        self,
        storage: Storage,
        path: str,
        provider: rows.ProviderRow | None = None,
        row: rows.CollectionRow | None = None,
    ) -> None:
        self._storage = storage
        self._path = path
        self.provider = provider
        self.row = row

    @property
    def path(self) -> str:
        return self._path

    # --- properties -------------------------------------------------------------------------

    @overload
    def get_meta(self, key: None = None) -> Mapping[str, str]: ...

    @overload
    def get_meta(self, key: str) -> str | None: ...

    def get_meta(self, key: str | None = None) -> Mapping[str, str] | str | None:
        props = dict(self.row.props) if self.row is not None else {}
        return props if key is None else props.get(key)

    def set_meta(self, props: Mapping[str, str]) -> None:
        with scope.refusals():
            writes.set_meta(self, props)

    @property
    def etag(self) -> str:
        if self.row is None:
            return f'"{self._path or "root"}"'
        return f'"{self.row.sync_key}-{self.row.revision}"'

    @property
    def last_modified(self) -> str:
        if self.row is not None:
            return rows.http_date(self.row.updated_at)
        if self.provider is not None:
            return rows.http_date(self.provider.updated_at)
        return rows.http_date(rows.EPOCH)

    # --- reads ------------------------------------------------------------------------------

    def _items(self, *conditions: ColumnElement[bool]) -> list[radicale.item.Item]:
        if self.row is None:
            return []
        with scope.reading(self._storage.store) as session:
            return rows.load_items(session, self, self.row.id, *conditions)

    def get_all(self) -> Iterable[radicale.item.Item]:
        return self._items()

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, radicale.item.Item | None]]:
        wanted = list(dict.fromkeys(hrefs))
        found: dict[str, radicale.item.Item] = {}
        for batch in rows.chunks(wanted):
            for item in self._items(DavItem.href.in_(batch)):
                assert item.href is not None
                found[item.href] = item
        return [(href, found.get(href)) for href in wanted]

    def get_filtered(
        self, filters: Iterable[ET.Element]
    ) -> Iterable[tuple[radicale.item.Item, bool]]:
        """Items that may match ``filters``, from the time-range index.

        The pre-filter of Radicale's default (``simplify_prefilters``), answered in SQL. An item
        is an exact match (``True``) when the default says so, or, for a VEVENT time range,
        when one of its occurrences overlaps the range (:mod:`.occurrences`); a VEVENT none of
        whose occurrences does is left out. Everything else goes to Radicale's full filter.
        """
        if not self.tag:
            return []
        tag, start, end, simple = radicale_filter.simplify_prefilters(filters, self.tag)
        conditions = [DavItem.start_ts < end, DavItem.end_ts > start]
        if tag is not None:
            conditions.append(DavItem.component == tag)
        by_occurrence = simple and tag == "VEVENT"
        result: list[tuple[radicale.item.Item, bool]] = []
        for item in self._items(*conditions):
            istart, iend = item.time_range
            if simple and (start <= istart or iend <= end):
                result.append((item, True))
                continue
            if by_occurrence:
                found, item = occurrences.of(item)
                decided = found.decide(start, end) if found is not None else None
                if decided is not None:
                    if decided:
                        result.append((item, True))
                    continue
            result.append((item, False))
        return result

    def has_uid(self, uid: str) -> bool:
        if self.row is None:
            return False
        with scope.reading(self._storage.store) as session:
            return rows.has_uid(session, self.row.id, uid)

    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        if self.row is None:
            raise ValueError("only calendars and address books can be synchronised")
        with scope.reading(self._storage.store) as session:
            return sync_tokens.changes(session, self.row.id, old_token)

    # --- writes -----------------------------------------------------------------------------

    def upload(
        self, href: str, item: radicale.item.Item
    ) -> tuple[radicale.item.Item, radicale.item.Item | None]:
        with scope.refusals():
            return writes.upload(self, href, item)

    def delete(self, href: str | None = None) -> None:
        with scope.refusals():
            writes.delete(self, href)
