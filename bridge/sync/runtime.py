"""What every sync job needs: the store, settings, keys, connectors and the lease owner name."""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
from collections.abc import Callable

from bridge.connectors import build_connector
from bridge.connectors.base import Connector
from bridge.keys import Keyring
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.sync_models import Connection
from bridge.sync.connections import decrypt_credentials, store_credentials
from bridge.sync.policy import ConflictPolicy, booking_wins

log = logging.getLogger(__name__)

ConnectorFactory = Callable[[Connection], Connector]
"""Builds a connector for a connection row (decrypting its credentials)."""


@dataclasses.dataclass
class Runtime:
    """The engine's shared state, handed to every job."""

    store: Store
    settings: Settings
    keyring: Keyring
    owner: str
    connector_factory: ConnectorFactory | None = None
    policy: ConflictPolicy = booking_wins
    rng: random.Random = dataclasses.field(default_factory=random.Random)
    # Set when the process shuts down: a pull stops after the page it is applying.
    stopping: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        """The bridge's public base URL, for links in the events we write."""
        return self.settings.effective_public_url

    def connector(self, connection: Connection) -> Connector:
        """A connector for ``connection``: the factory's, or the one registered for its kind.

        Raises:
            NeedsReauth: the credentials are missing or cannot be decrypted.
        """
        if self.connector_factory is not None:
            return self.connector_factory(connection)
        credentials = decrypt_credentials(self.keyring, connection)
        return build_connector(connection.kind, self.settings, credentials)

    def keep_credentials(self, connection_id: int, connector: Connector) -> None:
        """Store the connector's credentials if they changed (a refreshed token)."""
        credentials = connector.credentials()
        if credentials is None:
            return
        with self.store.write() as session:
            connection = session.get(Connection, connection_id)
            if connection is not None:
                store_credentials(self.keyring, connection, credentials)
        log.debug("Stored refreshed credentials of connection %s", connection_id)
