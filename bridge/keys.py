"""The application secret, and the per-purpose keys derived from it.

Where the secret comes from, first match wins:

1. the setting ``secret_key`` (``BRIDGE_SECRET_KEY``): one key, or several separated by commas,
   newest first;
2. on the embedded default only, the key file ``<data_dir>/secret.key``: one key per line, newest
   first, ``#`` comments allowed. The first use creates it, mode 0600, with a random key. With
   ``database_url`` set, several processes (maybe on several machines) share the data, so a
   local file would give each its own key: there the setting is required.

Each purpose (:data:`FEED_TOKENS`, :data:`CONNECTOR_CREDENTIALS`, :data:`OAUTH_VERIFIERS`)
gets its own key: HKDF-SHA256 (RFC 5869) of every secret key with
``info = "calendar-bridge/<purpose>"``, used as a Fernet key.
Data are encrypted with the newest key and decrypted with any (:class:`~cryptography.fernet.
MultiFernet`). To rotate, put a new key first and keep the old one after it; data encrypted with
the old key still decrypt, and :meth:`Keyring.reencrypt` moves them to the new one.

A missing or wrong key is never a crash. Errors::

    BridgeError
    ├── ConfigError
    │   └── SecretKeyMissing        no key configured and no key file allowed or readable
    └── SecretKeyError
        └── UndecryptableSecret     encrypted with a key that is no longer configured (or damaged)

Callers turn :class:`UndecryptableSecret` into a message (a feed link "cannot be shown again"),
never into a traceback.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bridge.errors import BridgeError, ConfigError
from bridge.settings import MIN_SECRET_KEY_LENGTH, Settings

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"
SETTING_SOURCE = "BRIDGE_SECRET_KEY"
FEED_TOKENS = "feed-tokens"
CONNECTOR_CREDENTIALS = "connector-credentials"
OAUTH_VERIFIERS = "oauth-verifiers"
_INFO_PREFIX = b"calendar-bridge/"
_KEY_FILE_HEADER = """\
# Calendar bridge secret key. Keep it private (mode 0600) and back it up with the database.
# One key per line, newest first: to rotate, add a new key as the first line and keep the old
# ones below it until every secret was re-encrypted. Or set BRIDGE_SECRET_KEY instead.
"""


class SecretKeyMissing(ConfigError):
    """No secret key is available: none configured, or the key file cannot be used."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__("secret_key", source, problem)


class SecretKeyError(BridgeError):
    """A problem with the secret keys that is not a configuration error."""


class UndecryptableSecret(SecretKeyError):
    """Data that none of the configured keys decrypts (a key was replaced, or the data damaged).

    Attributes:
        purpose: what the data was encrypted for, e.g. :data:`FEED_TOKENS`.
    """

    def __init__(self, purpose: str) -> None:
        super().__init__(
            f"cannot decrypt {purpose}: encrypted with a secret key that is no longer configured"
        )
        self.purpose = purpose


def derive_key(secret_key: str, purpose: str) -> bytes:
    """The Fernet key (URL-safe base64 of 32 bytes) of ``purpose`` under ``secret_key``."""
    if not purpose:
        raise ValueError("a purpose is required")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=_INFO_PREFIX + purpose.encode("utf-8"),
    )
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode("utf-8")))


class Keyring:
    """Encrypt and decrypt per purpose with the secret keys (newest first).

    Args:
        secret_keys: the keys, newest first; the first encrypts, all decrypt.
        source: where they came from, for messages (never the keys themselves).
    """

    def __init__(self, secret_keys: Sequence[str], *, source: str) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is needed")
        self._secret_keys = tuple(secret_keys)
        self.source = source
        self._fernets: dict[str, MultiFernet] = {}

    def __repr__(self) -> str:
        return f"Keyring(<{len(self._secret_keys)} keys from {self.source}>)"

    def _fernet(self, purpose: str) -> MultiFernet:
        fernet = self._fernets.get(purpose)
        if fernet is None:
            fernet = MultiFernet([Fernet(derive_key(k, purpose)) for k in self._secret_keys])
            self._fernets[purpose] = fernet
        return fernet

    def encrypt(self, purpose: str, plaintext: str) -> str:
        """``plaintext`` encrypted with the newest key's sub-key for ``purpose``."""
        return self._fernet(purpose).encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, purpose: str, token: str) -> str:
        """The plaintext of ``token``, which any configured key may have encrypted.

        Raises:
            UndecryptableSecret: no configured key decrypts it.
        """
        try:
            return self._fernet(purpose).decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise UndecryptableSecret(purpose) from exc

    def is_current(self, purpose: str, token: str) -> bool:
        """Whether ``token`` is encrypted with the newest key (nothing to re-encrypt)."""
        newest = Fernet(derive_key(self._secret_keys[0], purpose))
        try:
            newest.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True

    def reencrypt(self, purpose: str, token: str) -> str:
        """``token`` encrypted again with the newest key.

        Raises:
            UndecryptableSecret: no configured key decrypts it.
        """
        return self.encrypt(purpose, self.decrypt(purpose, token))


def load_keyring(settings: Settings) -> Keyring:
    """The keyring of ``settings`` (see the module docstring for where the keys come from).

    Raises:
        SecretKeyMissing: no ``secret_key`` on a non-embedded database, or an unusable key file.
        ConfigError: the key file holds a key that is too short.
    """
    if settings.secret_key is not None:
        return Keyring(settings.secret_key.keys, source=SETTING_SOURCE)
    if not settings.is_embedded:
        raise SecretKeyMissing(
            SETTING_SOURCE,
            "not set; it is required with database_url, since every process must use the same "
            "key (make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')",
        )
    path = settings.data_dir / KEY_FILE_NAME
    return Keyring(read_key_file(path, create=True), source=str(path))


def read_key_file(path: Path, *, create: bool = False) -> list[str]:
    """The keys in ``path``, newest first; with ``create``, a missing file is made first.

    Raises:
        SecretKeyMissing: the file is missing (without ``create``), unreadable or empty.
        ConfigError: a key in it is too short.
    """
    if create and not path.exists():
        _create_key_file(path)
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise SecretKeyMissing(str(path), f"cannot read the key file: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "The key file %s can be read by other users (mode %o); run: chmod 600 %s",
            path,
            stat.S_IMODE(mode),
            path,
        )
    keys = [line.strip() for line in text.splitlines()]
    keys = [key for key in keys if key and not key.startswith("#")]
    if not keys:
        raise SecretKeyMissing(str(path), "the key file holds no key")
    for position, key in enumerate(keys, start=1):
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                "secret_key",
                str(path),
                f"key {position} has {len(key)} characters; each needs at least "
                f"{MIN_SECRET_KEY_LENGTH}",
            )
    return keys


def _create_key_file(path: Path) -> None:
    """Write a new random key to ``path`` (0600) unless another process got there first.

    The key is written to a private temporary file that is then hard-linked into place: linking
    fails if ``path`` exists, so concurrent first runs agree on one key, and no reader ever sees
    a half-written file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise SecretKeyMissing(str(path), f"cannot create the key file: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_KEY_FILE_HEADER + secrets.token_urlsafe(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return
        except OSError as exc:
            raise SecretKeyMissing(
                str(path), f"cannot create the key file: {exc.strerror}"
            ) from exc
        log.info("Created the secret key file %s (mode 0600); back it up", path)
    finally:
        temporary.unlink(missing_ok=True)
