"""Radicale plugins that serve the bridge's own database over CalDAV.

- :mod:`radicale_plugins.storage` (``[storage] type = radicale_plugins.storage``): every
  collection and item lives in the bridge database; the ``bookings`` and ``busy`` calendars are
  views of bookings and imported busy time (:mod:`bridge.dav`).
- :mod:`radicale_plugins.auth` (``[auth] type = radicale_plugins.auth``): user name = provider
  slug, password = the provider's password or one of their app passwords.
- :mod:`radicale_plugins.rights` (``[rights] type = radicale_plugins.rights``): a provider
  reaches only their own principal and calendars; ``busy`` is read-only, ``bookings`` and
  ``busy`` cannot be deleted or overwritten.
- :mod:`radicale_plugins.app`: the Radicale application as ``bridge serve`` mounts it, which
  answers the bridge's refusals with their reason (:mod:`bridge.dav.errors`).

The same plugins run under plain ``radicale --config config/radicale.conf``.
"""
