"""Two-way sync between bookings and external calendars, the same for every connector.

The package never branches on a calendar system: everything remote goes through
:class:`bridge.connectors.base.Connector`. Its parts, one concern each:

- :mod:`.outbox` — outbound work: a row per (booking, calendar), written in the booking's own
  transaction (:func:`~.outbox.enqueue_booking`), claimed with leases;
- :mod:`.plan` — the pure decision what a row means (create, update, delete, nothing);
- :mod:`.drain` — executes planned writes and commits the new mirror state;
- :mod:`.policy` — the conflict rule when both sides changed;
- :mod:`.pull` — inbound pulls with cursors, leases and error handling;
- :mod:`.inbound`, :mod:`.mirrors`, :mod:`.busytime`, :mod:`.recurrence` — applying what a
  pull brought: our own events (mirrors) vs foreign events (busy time);
- :mod:`.breaker` — the mass-deletion breaker;
- :mod:`.connections`, :mod:`.channels`, :mod:`.health` — connection life cycle, push channels
  and what the booking page must know about broken or stale calendars;
- :mod:`.engine` — :class:`~.engine.SyncEngine`, the facade the scheduler, web and CLI use.

This module imports nothing, so ``bridge.booking.bookings`` can import :mod:`.outbox` cheaply.
"""
