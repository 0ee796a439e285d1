"""The conflict rule: what happens when a booking and its mirror both changed between syncs.

The rule (:func:`booking_wins`, the default :data:`ConflictPolicy`):

**The booking system wins.** The booking is the single source of truth, so when a booking
changed locally (its version is ahead of the version its mirror shows, or it was cancelled)
and the mirror also changed remotely since the last sync:

- a remote *move* is overwritten by the pending write (the event goes back to the booking's
  time, or is deleted if the booking was cancelled);
- a remote *delete* re-creates the event (the connector's create is idempotent and undeletes
  the same id);
- a remote edit that keeps the times (title, alarm, colour) is not a conflict: the pending
  write simply goes ahead;
- the one agreement: a local cancel and a remote delete want the same thing, so nothing is
  written.

Whenever a remote change is overwritten, a ``conflict`` notice tells the provider what was
lost. When only the remote side changed, the remote change is accepted: a move reschedules
the booking (provider-side rule), a delete cancels it (through the mass-deletion breaker).

The same rule decides a ``412 Precondition Failed`` on update: the engine fetches the event,
asks the policy, and retries with the fresh etag.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable


class Local(enum.Enum):
    """What happened to the booking since its mirror was last written."""

    UNCHANGED = "unchanged"
    CHANGED = "changed"  # moved (a newer version to write)
    CANCELLED = "cancelled"  # cancelled, or this calendar no longer receives it


class Remote(enum.Enum):
    """What happened to the mirror remotely since we last saw it."""

    UNCHANGED = "unchanged"
    EDITED = "edited"  # changed, same times
    MOVED = "moved"
    DELETED = "deleted"


class Outcome(enum.Enum):
    """What the engine does about a mirror."""

    ACCEPT_REMOTE = "accept_remote"  # apply the remote change to the booking
    KEEP_LOCAL = "keep_local"  # (re)write the booking over the remote event
    NOTHING = "nothing"  # both sides agree


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer."""

    outcome: Outcome
    overwrites_remote: bool  # a remote change is lost: tell the provider


ConflictPolicy = Callable[[Local, Remote], Decision]


def booking_wins(local: Local, remote: Remote) -> Decision:
    """The default rule (see the module docstring).

    Args:
        local: the booking side.
        remote: the remote side.

    Returns:
        What to do, and whether a remote change is overwritten.
    """
    if remote in (Remote.UNCHANGED, Remote.EDITED):
        if local is Local.UNCHANGED:
            return Decision(Outcome.NOTHING, overwrites_remote=False)
        return Decision(Outcome.KEEP_LOCAL, overwrites_remote=False)
    if local is Local.UNCHANGED:
        return Decision(Outcome.ACCEPT_REMOTE, overwrites_remote=False)
    if remote is Remote.DELETED and local is Local.CANCELLED:
        return Decision(Outcome.NOTHING, overwrites_remote=False)
    return Decision(Outcome.KEEP_LOCAL, overwrites_remote=True)
