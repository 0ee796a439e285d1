"""Wake the outbox dispatcher as soon as a transaction that wrote outbox rows commits.

Writers mark their session with :func:`mark_outbox_written`; an SQLAlchemy ``after_commit``
listener on every :class:`~sqlalchemy.orm.Session` then sets the event returned by
:func:`outbox_written` and calls the subscribers. A rolled-back transaction signals nothing.
The scheduler waits on the event (with a timeout, as a safety net) and clears it before it
drains, so a commit that lands during a drain wakes it again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_INFO_KEY = "bridge.sync.outbox_written"
_written = threading.Event()
_subscribers: list[Callable[[], None]] = []
_subscribers_lock = threading.Lock()


def outbox_written() -> threading.Event:
    """The event set after every commit that wrote outbox rows (clear it before draining)."""
    return _written


def subscribe(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback()`` after every commit that wrote outbox rows.

    Args:
        callback: runs in the committing thread; it must be quick and must not raise.

    Returns:
        A function that removes the subscription.
    """
    with _subscribers_lock:
        _subscribers.append(callback)

    def unsubscribe() -> None:
        """Remove the subscription (twice is fine)."""
        with _subscribers_lock:
            if callback in _subscribers:
                _subscribers.remove(callback)

    return unsubscribe


def mark_outbox_written(session: Session) -> None:
    """Note that ``session``'s transaction wrote outbox rows, to signal when it commits."""
    session.info[_INFO_KEY] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.info.pop(_INFO_KEY, False):
        return
    _written.set()
    with _subscribers_lock:
        callbacks = list(_subscribers)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a subscriber must never break the committing caller
            log.exception("Outbox subscriber %r failed", callback)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Runs after after_commit; a root transaction that ends without committing discards the
    # mark (a savepoint's end keeps it: the outer transaction may still commit the rows).
    if transaction.parent is None:
        session.info.pop(_INFO_KEY, None)
