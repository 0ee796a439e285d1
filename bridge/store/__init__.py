"""The bridge's database: models, engine set-up, transactions and migrations."""

from bridge.store.database import Store

__all__ = ["Store"]
