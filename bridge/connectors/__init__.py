"""Connectors to external calendar systems, behind one interface (:mod:`.base`).

Connectors are found by name through a lazy index, so the engine never imports (or branches
on) a particular one, and a system's client library loads only when it is used.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from bridge.connectors.base import Connector
from bridge.errors import ConfigError
from bridge.settings import Settings

_INDEX = {
    "google": "bridge.connectors.google",
}


class ConnectorModule(Protocol):
    """What a connector module provides besides its :class:`Connector` subclass."""

    def from_credentials(self, settings: Settings, credentials: str) -> Connector:
        """Build a connector from the stored (decrypted) credentials of a connection."""


def kinds() -> tuple[str, ...]:
    return tuple(_INDEX)


def connector_module(kind: str) -> ConnectorModule:
    """The module of connector ``kind``.

    Raises:
        ConfigError: no connector of that name.
    """
    try:
        path = _INDEX[kind]
    except KeyError:
        known = ", ".join(_INDEX)
        raise ConfigError("connector", kind, f"unknown connector; known: {known}") from None
    module: ConnectorModule = importlib.import_module(path)
    return module


def build_connector(kind: str, settings: Settings, credentials: str) -> Connector:
    return connector_module(kind).from_credentials(settings, credentials)
