"""One :class:`~bridge.store.Store` per database per process, shared by every plugin instance.

Radicale makes several storage (and auth) instances per process (the application's, the
sharing subsystem's), so engines and pools live here, keyed by the configured
``bridge_database_url``. ``bridge serve`` registers its live store and configures the key it
gets back (``bridge-store:<n>``), which also keeps database passwords out of Radicale's
configuration; plain ``radicale`` configures a URL, and the first instance opens it.
"""

from __future__ import annotations

import itertools
import threading

from bridge.errors import ConfigError
from bridge.settings import load_settings
from bridge.store import Store

REGISTERED_PREFIX = "bridge-store:"

_lock = threading.Lock()
_stores: dict[str, Store] = {}
_counter = itertools.count(1)


def register(store: Store) -> str:
    """Make ``store`` reachable by the plugins; return the key to configure."""
    with _lock:
        key = f"{REGISTERED_PREFIX}{next(_counter)}"
        _stores[key] = store
        return key


def unregister(key: str) -> None:
    with _lock:
        _stores.pop(key, None)


def _default_url() -> str:
    try:
        return load_settings().effective_database_url
    except ConfigError as exc:
        raise RuntimeError(f"cannot find the bridge database: {exc}") from exc


def resolve(url: str) -> Store:
    """The store for a configured ``bridge_database_url``.

    An empty value means the bridge's own setting (``BRIDGE_DATABASE_URL``, else the embedded
    SQLite file under ``BRIDGE_DATA_DIR``), as ``bridge serve`` would use it.

    Raises:
        RuntimeError: a ``bridge-store:`` key that nothing registered.
    """
    url = url or _default_url()
    with _lock:
        store = _stores.get(url)
        if store is None:
            if url.startswith(REGISTERED_PREFIX):
                raise RuntimeError(f"no bridge store is registered as {url!r}")
            store = _stores[url] = Store(url)
        return store
