"""Radicale's storage lock, made of database transactions.

``acquire_lock("w")`` opens one write transaction (:meth:`bridge.store.Store.write`) for the
whole locked section and locks the providers whose paths the request touches
(:meth:`~bridge.store.Store.lock_provider`): Radicale's check-then-write (If-Match, the UID
check, the upload) is then atomic across threads and processes, on SQLite (``BEGIN IMMEDIATE``)
and on PostgreSQL (row locks), and serialised with the booking system's own writes. Every
storage call of that request uses the same session: a second ``store.write()`` inside would
wait for itself on SQLite.

``acquire_lock("r")`` opens a read session for the section. Radicale renders PROPFIND answers
and filters REPORT results after releasing the lock, so collections keep snapshots of their
rows and items are fully loaded; what still needs the database then (``sync``, ``get_all``)
opens a short read session of its own (:func:`reading`).

A refused write marks the section for rollback (:func:`refuse`): Radicale catches the
``ValueError`` it sees and leaves the lock normally, and the transaction must not commit what
happened before the refusal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.dav.errors import DavRefused
from bridge.store import Store
from bridge.store.models import Provider
from radicale_plugins import context


@dataclasses.dataclass
class Scope:
    mode: str
    session: Session
    user: str
    doomed: bool = False


class Rejected(ValueError):
    """A refused write, as Radicale understands it.

    Radicale answers a ``ValueError`` from ``upload``/``move``/``create_collection``/``set_meta``
    with 400, or 403 when the message holds ``[Errno 13]``; the bridge's application
    (:mod:`radicale_plugins.app`) answers with the refusal's own status and reason instead.
    """

    def __init__(self, refusal: DavRefused) -> None:
        prefix = "[Errno 13] " if refusal.status == 403 else ""
        super().__init__(prefix + refusal.message)
        self.refusal = refusal


class _RolledBack(Exception):
    pass


_local = threading.local()


def current() -> Scope | None:
    scope: Scope | None = getattr(_local, "scope", None)
    return scope


def _set(scope: Scope | None) -> None:
    _local.scope = scope


def _lock_owners(session: Session, owners: Iterable[str]) -> None:
    ids = session.scalars(
        select(Provider.id).where(Provider.slug.in_(sorted(set(owners)))).order_by(Provider.id)
    ).all()
    for provider_id in ids:
        Store.lock_provider(session, provider_id)


@contextlib.contextmanager
def locked(store: Store, mode: str, user: str, owners: Iterable[str] = ()) -> Iterator[None]:
    """Hold Radicale's ``mode`` lock (``"r"`` or ``"w"``) as described in the module doc."""
    if mode not in ("r", "w"):
        raise ValueError(f"unknown lock mode {mode!r}")
    if current() is not None:
        raise RuntimeError("the storage lock is not re-entrant")
    if mode == "r":
        with store.read() as session:
            _set(Scope("r", session, user))
            try:
                yield
            finally:
                _set(None)
        return
    try:
        with store.write() as session:
            scope = Scope("w", session, user)
            _lock_owners(session, owners)
            _set(scope)
            try:
                yield
            finally:
                _set(None)
            if scope.doomed:
                raise _RolledBack
    except _RolledBack:
        pass


@contextlib.contextmanager
def reading(store: Store) -> Iterator[Session]:
    """The session of this thread's lock, or (after Radicale released it) a short read session."""
    scope = current()
    if scope is not None:
        yield scope.session
        return
    with store.read() as session:
        yield session


def writing() -> Scope:
    """The write scope of this thread.

    Raises:
        RuntimeError: no write lock is held (Radicale always writes under one).
    """
    scope = current()
    if scope is None or scope.mode != "w":
        raise RuntimeError("a storage write outside Radicale's write lock")
    return scope


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """Turn a :class:`~bridge.dav.errors.DavRefused` into :class:`Rejected`, dooming the scope."""
    try:
        yield
    except DavRefused as exc:
        scope = current()
        if scope is not None:
            scope.doomed = True
        context.state().refusal = exc
        raise Rejected(exc) from exc
