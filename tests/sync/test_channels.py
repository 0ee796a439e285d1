"""Push channels, and keeping access fresh."""

from __future__ import annotations

import datetime as dt

from bridge.connectors.errors import NeedsReauth
from bridge.keys import Keyring
from bridge.store import Store
from bridge.store.sync_models import CONNECTION_NEEDS_REAUTH, Connection
from bridge.sync import connections
from bridge.sync.engine import SyncEngine
from tests.sync.conftest import SETTINGS, Clock, Linked
from tests.sync.helpers import calendar_row

HOOK = "https://bridge.example/hooks/memory"


def _token(linked: Linked, channel_id: str) -> str:
    return linked.system.channels[channel_id][0]


def test_channels_start_for_watched_calendars(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    linked.system.add_calendar("other", "Other", primary=False)  # not watched: no channel

    assert engine.renew_channels(HOOK) == 1

    calendar = calendar_row(store, linked.calendar_id)
    assert calendar.channel_id in linked.system.channels
    assert calendar.channel_token_hash is not None
    assert _token(linked, calendar.channel_id) not in calendar.channel_token_hash
    assert engine.renew_channels(HOOK) == 0  # still fresh


def test_a_notification_counts_only_with_the_current_channel_and_token(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    engine.renew_channels(HOOK)
    channel_id = calendar_row(store, linked.calendar_id).channel_id
    assert channel_id is not None
    token = _token(linked, channel_id)

    assert engine.check_channel(channel_id, token) == linked.calendar_id
    assert engine.check_channel(channel_id, token + "x") is None
    assert engine.check_channel(channel_id, None) is None
    assert engine.check_channel("unknown", token) is None


def test_expiring_channels_are_replaced_and_the_old_ones_stopped(
    store: Store, engine: SyncEngine, linked: Linked, moving_clock: Clock
) -> None:
    engine.renew_channels(HOOK)
    old = calendar_row(store, linked.calendar_id).channel_id
    assert old is not None
    old_token = _token(linked, old)
    moving_clock.advance(seconds=SETTINGS.push_channel_ttl - SETTINGS.push_renew_margin + 1)

    assert engine.renew_channels(HOOK) == 1

    new = calendar_row(store, linked.calendar_id).channel_id
    assert new is not None and new != old
    assert set(linked.system.channels) == {new}
    assert engine.check_channel(old, old_token) is None
    assert engine.check_channel(new, _token(linked, new)) == linked.calendar_id


def test_stopping_a_connections_channels(store: Store, engine: SyncEngine, linked: Linked) -> None:
    engine.renew_channels(HOOK)

    engine.stop_channels(linked.connection_id)

    assert linked.system.channels == {}
    calendar = calendar_row(store, linked.calendar_id)
    assert (calendar.channel_id, calendar.channel_token_hash) == (None, None)


def test_unwatched_calendars_lose_their_channel(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    engine.renew_channels(HOOK)
    with store.write() as session:
        connections.set_calendar_options(
            session, linked.ref.id, linked.calendar_id, check_conflicts=False, is_destination=False
        )

    engine.renew_channels(HOOK)

    assert linked.system.channels == {}


def test_refreshing_access_stores_new_credentials(
    store: Store, engine: SyncEngine, linked: Linked, keyring: Keyring
) -> None:
    linked.system.new_credentials = "refreshed-token"

    assert engine.refresh_access() >= 1

    with store.read() as session:
        connection = session.get(Connection, linked.connection_id)
        assert connection is not None
        assert connections.decrypt_credentials(keyring, connection) == "refreshed-token"


def test_refreshing_revoked_access_marks_the_connection(
    store: Store, engine: SyncEngine, linked: Linked
) -> None:
    linked.system.fail("refresh", NeedsReauth("invalid_grant"))

    engine.refresh_access()

    with store.read() as session:
        connection = session.get(Connection, linked.connection_id)
        assert connection is not None
        assert (connection.status, connection.status_reason) == (
            CONNECTION_NEEDS_REAUTH,
            "invalid_grant",
        )
    assert engine.renew_channels(HOOK) == 0
    assert isinstance(dt.timedelta(), dt.timedelta)
