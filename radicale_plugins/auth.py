"""Radicale authentication against the bridge's providers: ``[auth] type = radicale_plugins.auth``.

The user name is the provider's slug; the password is the provider's own password (argon2) or
any of their live app passwords (:mod:`bridge.booking.app_passwords`, SHA-256: a cheap indexed
lookup, checked on every request, so a revoked app password stops working at once).

CalDAV clients send the password with every request, and an argon2 check costs 50-100 ms, so a
successful password check is remembered in this process for :data:`CACHE_SECONDS`, keyed by an
HMAC (with a random per-process key) of the user, the password and the stored hash: nothing
reversible is kept, and changing the password ends the entry at once. A failed login costs about
the same whether or not the user exists (an argon2 check against a dummy hash). Brute force is
the rate limiter's job, not this module's: configure ``[auth] delay`` near 0.

The database is the one of ``[storage] bridge_database_url`` (see
:mod:`radicale_plugins.storage.registry`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
import threading
import time

from radicale import auth, config
from sqlalchemy import select

from bridge.booking import app_passwords
from bridge.booking.secrets import hash_password, verify_password
from bridge.dav import projection
from bridge.store import Store
from bridge.store.models import DAV_BOOKINGS, DAV_BUSY, DavCollection, Provider
from radicale_plugins import context
from radicale_plugins.storage import registry

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
_CACHE_LIMIT = 10_000


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash no password matches, so that an unknown user costs one argon2 check too."""
    return hash_password(secrets.token_urlsafe(32))


class SuccessCache:
    """Successful password checks, for at most ``ttl`` seconds, under an HMAC key."""

    def __init__(self, ttl: float) -> None:
        self._key = secrets.token_bytes(32)
        self._ttl = ttl
        self._lock = threading.Lock()
        self._expiry: dict[bytes, float] = {}

    def _digest(self, *parts: str) -> bytes:
        message = "\0".join(parts).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def hit(self, *parts: str) -> bool:
        digest = self._digest(*parts)
        now = time.monotonic()
        with self._lock:
            expiry = self._expiry.get(digest)
            if expiry is not None and expiry <= now:
                del self._expiry[digest]
                expiry = None
        return expiry is not None

    def remember(self, *parts: str) -> None:
        digest = self._digest(*parts)
        now = time.monotonic()
        with self._lock:
            if len(self._expiry) >= _CACHE_LIMIT:
                for stale in [d for d, e in self._expiry.items() if e <= now]:
                    del self._expiry[stale]
                if len(self._expiry) >= _CACHE_LIMIT:
                    self._expiry.clear()
            self._expiry[digest] = now + self._ttl


_cache = SuccessCache(CACHE_SECONDS)


_ensured: set[tuple[int, int]] = set()
_ensured_lock = threading.Lock()


def ensure_calendars(store: Store, provider_id: int) -> None:
    """Make sure a provider who logs in has ``bookings`` and ``busy`` (once per process).

    Providers made before CalDAV existed have neither; like Radicale's own principal creation
    on first login, they are made (and filled) then.
    """
    key = (id(store), provider_id)
    with _ensured_lock:
        if key in _ensured:
            return
    with store.read() as session:
        kinds = set(
            session.scalars(
                select(DavCollection.kind).where(
                    DavCollection.provider_id == provider_id,
                    DavCollection.kind.in_((DAV_BOOKINGS, DAV_BUSY)),
                )
            )
        )
    if kinds != {DAV_BOOKINGS, DAV_BUSY}:
        with store.write() as session:
            Store.lock_provider(session, provider_id)
            projection.provider_collections(session, provider_id)
        log.info("Made the CalDAV calendars of provider %s", provider_id)
    with _ensured_lock:
        _ensured.add(key)


def check(store: Store, login: str, password: str) -> str | None:
    """The label of the credential ``password`` is for ``login``, or None if it is none of them.

    ``password`` for the provider's own password, else the app password's label.
    """
    with store.read() as session:
        row = session.execute(
            select(Provider.id, Provider.password_hash).where(Provider.slug == login)
        ).first()
        provider_id, password_hash = row if row is not None else (None, None)
        app_password = (
            app_passwords.find_live(session, provider_id, password)
            if provider_id is not None
            else None
        )
        if app_password is not None:
            label, app_password_id = app_password.label, app_password.id
            stale = app_passwords.use_is_stale(app_password)
    if app_password is not None and provider_id is not None:
        if stale:
            with store.write() as session:
                app_passwords.record_use(session, app_password_id)
        ensure_calendars(store, provider_id)
        return label
    if provider_id is None or password_hash is None:
        verify_password(_dummy_hash(), password)  # as long as a real check
        return None
    if not _cache.hit(login, password, password_hash):
        if not verify_password(password_hash, password):
            return None
        _cache.remember(login, password, password_hash)
    ensure_calendars(store, provider_id)
    return "password"


class Auth(auth.BaseAuth):
    def __init__(self, configuration: config.Configuration) -> None:
        super().__init__(configuration)
        try:
            url = configuration.get("storage", "bridge_database_url")
        except KeyError:  # not configured: the bridge's own database setting
            url = ""
        self._store = registry.resolve(url)

    def _login(self, login: str, password: str) -> str:
        if not login or not password:
            return ""
        label = check(self._store, login, password)
        if label is None:
            return ""
        context.state().login = (login, label)
        return login
