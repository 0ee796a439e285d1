"""A faithful fake of Google Calendar API v3 and Google's OAuth endpoints (loopback HTTP).

Usage::

    with FakeGoogle() as fake:
        ada = fake.add_account("ada@example.com")            # primary calendar id = the email
        creds = Credentials(token=None, refresh_token=fake.issue_refresh_token(ada),
                            token_uri=fake.token_uri, client_id=fake.client_id,
                            client_secret=fake.client_secret)
        service = build("calendar", "v3", credentials=creds, static_discovery=True,
                        cache_discovery=False, client_options={"api_endpoint": fake.api_endpoint})
        ada.primary.create_event({...})                       # "the user, in the Google UI"

Knobs: ``fake.faults.add(...)`` (errors, delays, drops, lost answers), ``short_pages``,
``notifications_enabled``, ``expire_channel``, ``FakeCalendar.expire_sync_tokens``,
``advance_clock``, ``consenting_account``. Pytest fixtures live in :mod:`.testing`.

Modules: ``server`` (HTTP), ``api`` (routing, auth, access), ``store`` (events, series,
tombstones), ``events`` (validation, rendering), ``recurrence``, ``listing`` (list, paging, sync
tokens), ``freebusy``, ``oauth``, ``push``, ``faults``.
"""

from .accounts import FakeAccount
from .calendar import FakeCalendar
from .errors import ApiError
from .fake import CALENDAR_SCOPE, FakeGoogle
from .faults import FaultHandle, Faults
from .push import FakeChannel
from .wire import RecordedRequest

__all__ = [
    "CALENDAR_SCOPE",
    "ApiError",
    "FakeAccount",
    "FakeCalendar",
    "FakeChannel",
    "FakeGoogle",
    "FaultHandle",
    "Faults",
    "RecordedRequest",
]
