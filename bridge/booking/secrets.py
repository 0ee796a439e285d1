"""Opaque bearer secrets (API tokens, booking manage tokens) and provider passwords.

Secrets carry 256 random bits and a prefix naming their kind, and are stored only as SHA-256
hashes: they are high-entropy, so a slow hash adds nothing. Passwords are hashed with argon2id.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_TOKEN_PREFIX = "bat_"
MANAGE_TOKEN_PREFIX = "bmt_"

_hasher = PasswordHasher()


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
