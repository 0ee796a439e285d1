"""Radicale storage on the bridge database: ``[storage] type = radicale_plugins.storage``.

Layout (every collection and item is a row of :mod:`bridge.store.models`, no files):

- ``/`` the root; ``/<slug>/`` a provider's principal (virtual: the provider row);
- ``/<slug>/bookings/`` and ``/<slug>/busy/`` the projections of :mod:`bridge.dav.projection`;
- ``/<slug>/<name>/`` calendars (and address books) the provider made with a client.

Deeper collections are refused. The modules split the plugin by concern, as Radicale's
``multifilesystem`` does: :mod:`.scope` (the lock as transactions), :mod:`.rows` (snapshots and
item loading), :mod:`.collection` (the collection class), :mod:`.writes` (every write) and
:mod:`.sync` (sync tokens). Option ``[storage] bridge_database_url``: see :mod:`.registry`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

import radicale.item
import radicale.types
import vobject
from radicale import config, storage, types
from sqlalchemy import select

from bridge.store.models import DavCollection, DavItem
from radicale_plugins.storage import registry, rows, scope, writes
from radicale_plugins.storage.collection import Collection

__all__ = ["PLUGIN_CONFIG_SCHEMA", "Collection", "Storage"]

log = logging.getLogger(__name__)

PLUGIN_CONFIG_SCHEMA: types.CONFIG_SCHEMA = {
    "storage": {
        "bridge_database_url": {
            "value": "",
            "help": "SQLAlchemy URL of the bridge database; empty: the bridge's own setting "
            "(BRIDGE_DATABASE_URL, else the embedded SQLite file)",
            "type": str,
        }
    }
}

ChildContext = Callable[[str, str | None], AbstractContextManager[None]]


def _owners(*paths: object) -> list[str]:
    return [parts[0] for path in paths if isinstance(path, str) and (parts := rows.split(path))]


class Storage(storage.BaseStorage):
    """Radicale's storage interface over :class:`bridge.store.Store`."""

    # Names are database strings: any Unicode, case-sensitive, spaces and punctuation allowed.
    _is_collision_free = True
    _supports_unicode = True
    _supports_trailing_whitespace = True
    _supports_problematic_chars = True

    def __init__(self, configuration: config.Configuration) -> None:
        super().__init__(configuration.copy(PLUGIN_CONFIG_SCHEMA))
        self.store = registry.resolve(self.configuration.get("storage", "bridge_database_url"))

    @radicale.types.contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any) -> Iterator[None]:
        """Radicale's storage lock as a database transaction (see :mod:`.scope`)."""
        owners = _owners(kwargs.get("path"), kwargs.get("to_path"))
        with scope.locked(self.store, mode, user, owners):
            yield

    def discover(
        self,
        path: str,
        depth: str = "0",
        child_context_manager: ChildContext | None = None,
        user_groups: set[str] | None = None,
    ) -> Iterable[types.CollectionOrItem]:
        """Yield the object at ``path`` and, unless ``depth`` is ``"0"``, its children (lazily)."""
        parts = rows.split(path)
        if len(parts) > 3:
            return
        with scope.reading(self.store) as session:
            if not parts:
                yield Collection(self, "")
                current = scope.current()
                user = current.user if current is not None else ""
                provider = rows.load_provider(session, user) if depth != "0" and user else None
                if provider is not None:
                    with self._child(child_context_manager, provider.slug, None):
                        yield Collection(self, provider.slug, provider)
                return
            provider = rows.load_provider(session, parts[0])
            if provider is None:
                return
            if len(parts) == 1:
                yield Collection(self, provider.slug, provider)
                if depth == "0":
                    return
                for row in rows.load_collections(session, provider.id):
                    child_path = f"{provider.slug}/{row.name}"
                    with self._child(child_context_manager, child_path, None):
                        yield Collection(self, child_path, provider, row)
                return
            found = rows.load_collections(session, provider.id, parts[1])
            if not found:
                return
            collection = Collection(self, f"{provider.slug}/{found[0].name}", provider, found[0])
            if len(parts) == 3:
                for _, item in collection.get_multi([parts[2]]):
                    if item is not None:
                        yield item
                return
            yield collection
            if depth == "0":
                return
            for item in collection.get_all():
                with self._child(child_context_manager, collection.path, item.href):
                    yield item

    @staticmethod
    def _child(
        child_context_manager: ChildContext | None, path: str, href: str | None
    ) -> AbstractContextManager[None]:
        if child_context_manager is None:
            return contextlib.nullcontext()
        return child_context_manager(path, href)

    def move(
        self, item: radicale.item.Item, to_collection: storage.BaseCollection, to_href: str
    ) -> None:
        with scope.refusals():
            writes.move(item, to_collection, to_href)  # type: ignore[arg-type]

    def create_collection(
        self,
        href: str,
        items: Iterable[radicale.item.Item] | None = None,
        props: Mapping[str, str] | None = None,
    ) -> tuple[storage.BaseCollection, dict[str, radicale.item.Item], list[str]]:
        """Create a calendar (or, for a principal, check that it exists: it is a provider).

        Raises:
            ValueError: a principal path with no provider behind it; a refused collection.
        """
        parts = rows.split(href)
        if len(parts) <= 1 and not props:
            with scope.reading(self.store) as session:
                provider = rows.load_provider(session, parts[0]) if parts else None
            if parts and provider is None:
                raise ValueError(f"no provider {parts[0]!r}: principals are providers")
            return Collection(self, provider.slug if provider else "", provider), {}, []
        with scope.refusals():
            provider, row, replaced, new_hrefs = writes.create_calendar(
                parts, items or (), props or {}
            )
        collection = Collection(self, f"{provider.slug}/{row.name}", provider, row)
        old = {r[0]: rows.make_item(collection, r) for r in replaced}
        return collection, old, new_hrefs

    def verify(self) -> bool:
        """Parse every stored item (``radicale --verify-storage``); log what fails."""
        problems = checked = 0
        with self.store.read() as session:
            names = dict(session.execute(select(DavCollection.id, DavCollection.name)).all())
            for collection_id, href, text in session.execute(
                select(DavItem.collection_id, DavItem.href, DavItem.text)
            ):
                checked += 1
                try:
                    vobject.readOne(text)
                except Exception as exc:  # noqa: BLE001 - report every broken item
                    problems += 1
                    log.error("Broken item %s/%s: %s", names.get(collection_id), href, exc)
        log.info("Verified %d items, %d broken", checked, problems)
        return problems == 0
