"""Connecting an account through its OAuth consent flow: the state, the PKCE verifier, the callback.

Connecting takes two requests, possibly in two processes (``bridge connect`` prints the link, the
server's callback finishes)::

    start_consent  ── consent URL ──►  the account holder approves at the authorisation server
                                              │ 302 to <public_url>/oauth/<kind>/callback?code&state
    complete_consent ◄─────────────────────────┘
       claim the state (single use) → exchange the code (PKCE) → account and calendars
       → save the connection (its primary calendar checks conflicts and is the destination)
       → ask for a first pull

The ``state`` carries 256 random bits, is stored only as its SHA-256 (:class:`OAuthState`), is
bound to the provider, the connector kind and, when started from a dashboard session, to that
session; it is claimed (marked used) before anything else is checked, so it works once, and it
expires after :data:`STATE_TTL`. The PKCE verifier is stored encrypted (``oauth-verifiers`` key).

Errors, each with a message that can be shown as is (never a token, never a remote body)::

    BridgeError
    └── OAuthError
        ├── ConnectorNotConfigured   unknown kind, or its OAuth client is not configured
        ├── OAuthStateInvalid        unknown, used, expired, another kind or another session
        ├── ConsentDenied            the account holder declined (``error=access_denied``)
        ├── ConsentFailed            the code exchange or the first look at the account failed
        └── AccountMismatch          a reconnect signed in to another account
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib
import logging
import secrets
from collections.abc import Callable
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from bridge import clock, keys
from bridge.connectors import build_connector
from bridge.connectors.errors import ConnectorError
from bridge.errors import BridgeError, ConfigError, NotFound
from bridge.keys import Keyring
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.sync_models import Connection, OAuthState
from bridge.sync import connections

log = logging.getLogger(__name__)

STATE_TTL = dt.timedelta(minutes=10)
STATE_BYTES = 32  # 256 bits; the design asks for at least 128
# Claimed or expired states are kept a while (a late second callback gets "already used"), then
# purged when a new flow starts.
_KEEP_USED = dt.timedelta(days=1)


class OAuthError(BridgeError):
    """A consent flow cannot go on; ``str()`` is safe to show to whoever is connecting."""


class ConnectorNotConfigured(OAuthError):
    pass


class OAuthStateInvalid(OAuthError):
    pass


class ConsentDenied(OAuthError):
    pass


class ConsentFailed(OAuthError):
    pass


class AccountMismatch(OAuthError):
    pass


class ConsentFlow(Protocol):
    """What a connector's OAuth module provides (e.g. :mod:`bridge.connectors.google_oauth`)."""

    def new_code_verifier(self) -> str:
        """A fresh PKCE code verifier (RFC 7636)."""

    def consent_url(
        self, settings: Settings, *, redirect_uri: str, state: str, code_verifier: str
    ) -> str:
        """The authorisation server's consent page for this flow."""

    def exchange_code(
        self, settings: Settings, *, redirect_uri: str, code: str, code_verifier: str
    ) -> str:
        """The connection's credentials (to store encrypted) for an authorisation ``code``."""

    def revoke(self, settings: Settings, credentials: str) -> None:
        """Ask the authorisation server to end the grant; best effort, never raises."""


@dataclasses.dataclass(frozen=True)
class _Kind:
    title: str
    module: str
    enabled: Callable[[Settings], bool]
    how_to_enable: str


_KINDS: dict[str, _Kind] = {
    "google": _Kind(
        title="Google Calendar",
        module="bridge.connectors.google_oauth",
        enabled=lambda settings: settings.google_enabled,
        how_to_enable="set BRIDGE_GOOGLE_CLIENT_ID and BRIDGE_GOOGLE_CLIENT_SECRET to the OAuth "
        "client of your Google Cloud project (see the README)",
    ),
}


def kinds() -> tuple[str, ...]:
    """The connector kinds that connect through an OAuth consent flow."""
    return tuple(_KINDS)


def title(kind: str) -> str:
    """The system's name for people, e.g. ``Google Calendar``."""
    spec = _KINDS.get(kind)
    return spec.title if spec else kind


def consent_flow(settings: Settings, kind: str) -> ConsentFlow:
    """The OAuth module of ``kind``, if ``settings`` configure its client.

    Raises:
        ConnectorNotConfigured: no such kind, or its OAuth client settings are missing.
    """
    spec = _KINDS.get(kind)
    if spec is None:
        known = ", ".join(_KINDS)
        raise ConnectorNotConfigured(f"cannot connect {kind!r} calendars; known: {known}")
    if not spec.enabled(settings):
        raise ConnectorNotConfigured(
            f"{spec.title} is not set up on this server: {spec.how_to_enable}"
        )
    module: ConsentFlow = importlib.import_module(spec.module)
    return module


def _consent_url(
    flow: ConsentFlow, settings: Settings, kind: str, *, state: str, verifier: str
) -> str:
    try:
        return flow.consent_url(
            settings, redirect_uri=redirect_uri(settings, kind), state=state, code_verifier=verifier
        )
    except ConfigError as exc:
        raise ConnectorNotConfigured(f"{title(kind)} is not set up correctly: {exc}") from exc


def revoke_access(settings: Settings, kind: str, credentials: str) -> None:
    """End a disconnected account's grant at its authorisation server (best effort)."""
    spec = _KINDS.get(kind)
    if spec is None:
        return
    module: ConsentFlow = importlib.import_module(spec.module)
    module.revoke(settings, credentials)


def redirect_uri(settings: Settings, kind: str) -> str:
    """Where the authorisation server sends the account holder back: built from the public URL."""
    return f"{settings.effective_public_url}/oauth/{kind}/callback"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def start_consent(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    *,
    provider_id: int,
    kind: str,
    session_binding: str | None = None,
    reconnect_id: int | None = None,
) -> str:
    """Begin connecting an account of ``kind`` for a provider; the consent URL to open.

    Args:
        session: a write session; the pending flow is stored in it.
        keyring: encrypts the PKCE verifier.
        settings: the OAuth client and the public URL (for the redirect URI).
        provider_id: who is connecting.
        kind: the connector kind, e.g. ``google``.
        session_binding: a dashboard session's identifier; the callback must present the same.
        reconnect_id: a connection of the provider that this flow renews (e.g. after
            ``needs_reauth``); the account must then be the same.

    Returns:
        The authorisation server's consent URL; it works for :data:`STATE_TTL`.

    Raises:
        ConnectorNotConfigured: ``kind`` cannot be connected on this server.
        NotFound: ``reconnect_id`` is not a connection of this provider and kind.
    """
    flow = consent_flow(settings, kind)
    if reconnect_id is not None:
        existing = session.get(Connection, reconnect_id)
        if existing is None or existing.provider_id != provider_id or existing.kind != kind:
            raise NotFound("connection", reconnect_id)
    now = clock.now()
    session.execute(delete(OAuthState).where(OAuthState.expires_at < now - _KEEP_USED))
    state = secrets.token_urlsafe(STATE_BYTES)
    verifier = flow.new_code_verifier()
    session.add(
        OAuthState(
            state_hash=_digest(state),
            provider_id=provider_id,
            kind=kind,
            code_verifier=keyring.encrypt(keys.OAUTH_VERIFIERS, verifier),
            session_hash=_digest(session_binding) if session_binding is not None else None,
            reconnect_id=reconnect_id,
            created_at=now,
            expires_at=now + STATE_TTL,
        )
    )
    session.flush()
    url = _consent_url(flow, settings, kind, state=state, verifier=verifier)
    log.info("Started connecting a %s account for provider %s", kind, provider_id)
    return url


@dataclasses.dataclass(frozen=True)
class _Claimed:
    provider_id: int
    kind: str
    code_verifier: str
    reconnect_id: int | None


_START_AGAIN = "start connecting again"


def _claim(
    store: Store, *, kind: str, state: str, session_binding: str | None, now: dt.datetime
) -> _Claimed:
    """Mark the flow of ``state`` used (first, so it works once), then check it.

    Raises:
        OAuthStateInvalid: unknown, already used, expired, of another kind or session.
    """
    with store.write() as session:
        row = session.scalar(select(OAuthState).where(OAuthState.state_hash == _digest(state)))
        if row is None:
            raise OAuthStateInvalid(f"this sign-in link is unknown; {_START_AGAIN}")
        claimed = session.execute(
            update(OAuthState)
            .where(OAuthState.id == row.id, OAuthState.used_at.is_(None))
            .values(used_at=now)
        )
        first_use = cast(CursorResult[Any], claimed).rowcount == 1
        found = _Claimed(row.provider_id, row.kind, row.code_verifier, row.reconnect_id)
        expires_at, session_hash = row.expires_at, row.session_hash
    if not first_use:
        raise OAuthStateInvalid(f"this sign-in link was already used; {_START_AGAIN}")
    if expires_at <= now:
        raise OAuthStateInvalid(f"this sign-in link has expired; {_START_AGAIN}")
    if found.kind != kind:
        raise OAuthStateInvalid(f"this sign-in link is for another calendar system; {_START_AGAIN}")
    expected = _digest(session_binding) if session_binding is not None else None
    if session_hash != expected:
        raise OAuthStateInvalid(f"this sign-in link was started in another session; {_START_AGAIN}")
    return found


def decline_consent(store: Store, *, kind: str, state: str | None, reason: str) -> OAuthError:
    """The account holder declined (or the server refused): end the flow; the error to show.

    The state, if it is a live one, is used up so the link cannot be replayed.
    """
    if state:
        try:
            _claim(store, kind=kind, state=state, session_binding=None, now=clock.now())
        except OAuthStateInvalid:
            pass
    if reason == "access_denied":
        return ConsentDenied(
            f"access to the {title(kind)} account was not granted; nothing changed"
        )
    return ConsentFailed(f"{title(kind)} did not grant access ({reason}); {_START_AGAIN}")


def complete_consent(
    store: Store,
    keyring: Keyring,
    settings: Settings,
    *,
    kind: str,
    state: str,
    code: str,
    session_binding: str | None = None,
    request_pull: Callable[[int], None] | None = None,
) -> Connection:
    """Finish a consent flow: exchange the code, look at the account, save the connection.

    The primary calendar of a new connection checks conflicts and is the destination (when the
    provider has none yet), so a provider who connects and does nothing else is fully synced.
    No lock is held across the calls to the authorisation and calendar servers.

    Args:
        store: the database.
        keyring: decrypts the PKCE verifier and encrypts the credentials.
        settings: the OAuth client and the public URL.
        kind: the connector kind named by the callback's path.
        state: the callback's ``state``.
        code: the callback's authorisation ``code``.
        session_binding: the caller's dashboard session, if the flow was bound to one.
        request_pull: asks for a pull of a calendar (by id), called for every calendar the
            connection syncs; by default the sync engine's ``request_pull``.

    Returns:
        The saved connection (detached), with its calendars loaded.

    Raises:
        ConnectorNotConfigured, OAuthStateInvalid, ConsentFailed, AccountMismatch.
    """
    flow = consent_flow(settings, kind)
    claimed = _claim(
        store, kind=kind, state=state, session_binding=session_binding, now=clock.now()
    )
    try:
        verifier = keyring.decrypt(keys.OAUTH_VERIFIERS, claimed.code_verifier)
    except keys.UndecryptableSecret as exc:
        raise OAuthStateInvalid(f"the server's secret key changed; {_START_AGAIN}") from exc
    try:
        credentials = flow.exchange_code(
            settings, redirect_uri=redirect_uri(settings, kind), code=code, code_verifier=verifier
        )
        connector = build_connector(kind, settings, credentials)
        account = connector.account()
        calendars = connector.list_calendars()
    except ConnectorError as exc:
        log.warning(
            "Connecting a %s account for provider %s failed: %s", kind, claimed.provider_id, exc
        )
        raise ConsentFailed(f"could not connect the {title(kind)} account: {exc}") from exc
    except ConfigError as exc:
        log.error("Connecting a %s account failed: %s", kind, exc)
        raise ConsentFailed(f"the server's {title(kind)} settings are wrong: {exc}") from exc
    credentials = connector.credentials() or credentials
    if claimed.reconnect_id is not None:
        with store.read() as session:
            previous = session.get(Connection, claimed.reconnect_id)
            renewing = previous.account if previous is not None else account
        if renewing != account:
            revoke_access(settings, kind, credentials)  # a grant we will not keep
            raise AccountMismatch(
                f"signed in as {account}, but the connection being renewed is {renewing}; "
                "sign in with that account"
            )

    with store.write() as session:
        connection = connections.save_connection(
            session,
            keyring,
            provider_id=claimed.provider_id,
            kind=kind,
            account=account,
            credentials=credentials,
            calendars=calendars,
        )
        synced = [c.id for c in connection.calendars if c.check_conflicts or c.is_destination]
    log.info(
        "Connected %s account %s for provider %s (connection %s, %d calendars)",
        kind,
        account,
        claimed.provider_id,
        connection.id,
        len(connection.calendars),
    )
    if request_pull is None:
        from bridge.sync.engine import SyncEngine

        request_pull = SyncEngine(store, settings, keyring).request_pull
    for calendar_id in synced:
        request_pull(calendar_id)
    return connection
