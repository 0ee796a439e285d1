"""Request dependencies for the store: the :class:`Store` itself and read/write sessions.

Both sessions end when the path operation function returns (``scope="function"``), before the
response is sent: a write is committed (or rolled back) before the client hears about it, and
a failing commit still becomes an error response. Route functions therefore turn ORM objects
into response models themselves, while the session is open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from bridge import keys
from bridge.store import Store


def get_store(request: Request) -> Store:
    """The store :func:`bridge.web.create_app` was given."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def read_session(store: StoreDep) -> Iterator[Session]:
    with store.read() as session:
        yield session


def write_session(store: StoreDep) -> Iterator[Session]:
    with store.write() as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]


def load_app_keyring(request: Request) -> keys.Keyring:
    """The app's keyring, loaded on first use and kept on ``app.state``.

    Raises:
        SecretKeyMissing: no secret key is configured.
    """
    state = request.app.state
    keyring = getattr(state, "keyring", None)
    if not isinstance(keyring, keys.Keyring):
        keyring = keys.load_keyring(state.settings)
        state.keyring = keyring
    return keyring


def keyring_or_503(request: Request, what: str) -> keys.Keyring:
    """:func:`load_app_keyring` for a route: a missing key is a 503 saying ``what`` is off.

    Raises:
        HTTPException: 503 when no secret key is configured (a server setting to fix).
    """
    try:
        return load_app_keyring(request)
    except keys.SecretKeyMissing as exc:
        logging.getLogger(__name__).error("%s unavailable: %s", what, exc)
        raise HTTPException(503, f"{what} unavailable: {exc}") from exc
