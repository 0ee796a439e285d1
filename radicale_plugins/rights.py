"""Who may do what where: ``[rights] type = radicale_plugins.rights``.

A provider reaches ``/`` (for discovery: current-user-principal), their principal
``/<slug>/`` and the calendars under it; anything of another provider, and anything for an
anonymous user, gets no rights (403 without a word about whether it exists; 401 when anonymous).

=====================  ==========  ======================================================
path                   rights      meaning
=====================  ==========  ======================================================
``/``                  ``R``       read the root (discovery)
``/<slug>/``           ``RW``      read it, make calendars in it (it is never deleted)
``/<slug>/busy/``      ``r``       read-only: every write is 403
``/<slug>/bookings/``  ``rwdo``    read and write items; never delete or overwrite it
``/<slug>/<name>/``    ``rwDO``    a calendar of the provider's own: anything goes
deeper                 (none)      nested collections are not supported
=====================  ==========  ======================================================

``D``/``O`` allow deleting/overwriting a collection when ``[rights] permit_delete_collection``
/ ``permit_overwrite_collection`` are false (the bridge's configuration); ``d``/``o`` deny it
when they are true, so ``bookings`` and ``busy`` stay safe under either setting.
"""

from __future__ import annotations

from radicale import rights

from bridge.store.models import DAV_BOOKINGS, DAV_BUSY
from radicale_plugins.storage.rows import split


class Rights(rights.BaseRights):
    def authorization(self, user: str, user_groups: set[str], path: str) -> str:
        if not user:
            return ""
        parts = split(path)
        if not parts:
            return "R"
        if parts[0] != user:
            return ""
        if len(parts) == 1:
            return "RW"
        if len(parts) > 2:
            return ""
        if parts[1] == DAV_BUSY:
            return "r"
        if parts[1] == DAV_BOOKINGS:
            return "rwdo"
        return "rwDO"
