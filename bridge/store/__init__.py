"""The bridge's database: models, engine set-up, transactions and migrations."""

from bridge.store import sync_models  # noqa: F401  (registers the sync tables)
from bridge.store.database import Store

__all__ = ["Store"]
