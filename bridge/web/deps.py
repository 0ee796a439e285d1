"""Request dependencies for the store: the :class:`Store` itself and read/write sessions.

Both sessions end when the path operation function returns (``scope="function"``), before the
response is sent: a write is committed (or rolled back) before the client hears about it, and
a failing commit still becomes an error response. Route functions therefore turn ORM objects
into response models themselves, while the session is open.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

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
