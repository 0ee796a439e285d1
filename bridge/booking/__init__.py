"""The booking system: providers, services, working hours, bookings and blocked times.

Functions here take a SQLAlchemy session (or the :class:`~bridge.store.Store` when they need to
control the transaction themselves) and raise :mod:`bridge.errors` exceptions.
"""
