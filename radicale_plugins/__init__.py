"""Radicale plugins that serve the bridge's own database over CalDAV (storage, auth, rights).

The plugins are added by the CalDAV issue; this package exists so that the distribution's layout
(``bridge`` and ``radicale_plugins``) is fixed from the start.
"""
