"""The bridge's CalDAV data: collections, items and their change log, in the bridge database.

``radicale_plugins`` is a thin Radicale adapter over this package. The ``bookings`` and ``busy``
collections are projections kept in step with bookings and imported busy time inside the same
transactions (:mod:`bridge.dav.projection`), so CalDAV clients see a change at once and sync
tokens cover it.
"""
