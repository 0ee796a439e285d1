"""API tokens: issued once, stored hashed, scoped, revocable."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from bridge.booking import tokens
from bridge.booking.providers import get_provider
from bridge.errors import NotFound
from bridge.store.models import ApiToken
from tests.conftest import new_provider


def issue(store, ref, label="laptop"):
    with store.write() as session:
        provider = get_provider(session, ref.slug) if ref is not None else None
        return tokens.create_token(session, provider=provider, label=label)


def test_a_token_is_stored_as_the_hash_of_its_secret(store, provider):
    issued = issue(store, provider)
    assert issued.secret.startswith("bat_")
    assert len(issued.secret) >= 4 + 43  # 256 bits, URL-safe base64
    with store.read() as session:
        row = session.get(ApiToken, issued.token.id)
        assert row is not None
        assert row.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
        everything = session.execute(select(*ApiToken.__table__.columns)).all()
    assert everything
    assert all(issued.secret not in str(cell) for cells in everything for cell in cells)


def test_a_token_authenticates_and_records_its_use(store, provider):
    issued = issue(store, provider)
    with store.write() as session:
        token = tokens.authenticate(session, issued.secret)
        assert token is not None
        assert (token.provider_id, token.is_admin, token.label) == (provider.id, False, "laptop")
        assert token.last_used_at is not None
    with store.read() as session:
        assert session.get(ApiToken, issued.token.id).last_used_at is not None


def test_a_wrong_secret_authenticates_nothing(store, provider):
    issued = issue(store, provider)
    with store.write() as session:
        assert tokens.authenticate(session, issued.secret + "x") is None
        assert tokens.authenticate(session, issued.secret[:-1]) is None


def test_a_revoked_token_no_longer_authenticates_or_lists(store, provider):
    keep, drop = issue(store, provider, "keep"), issue(store, provider, "drop")
    with store.write() as session:
        revoked = tokens.revoke_token(session, drop.token.id)
        assert revoked.revoked_at is not None
        again = tokens.revoke_token(session, drop.token.id)
        assert again.revoked_at == revoked.revoked_at
    with store.write() as session:
        assert tokens.authenticate(session, drop.secret) is None
        assert tokens.authenticate(session, keep.secret) is not None
        owner = get_provider(session, provider.slug)
        assert [t.id for t in tokens.list_tokens(session, provider=owner)] == [keep.token.id]


def test_a_provider_cannot_revoke_another_providers_token(store, provider):
    other = new_provider(store)
    theirs = issue(store, other)
    with pytest.raises(NotFound), store.write() as session:
        tokens.revoke_token(session, theirs.token.id, provider=get_provider(session, provider.slug))
    with store.write() as session:
        assert tokens.authenticate(session, theirs.secret) is not None


def test_an_admin_token_has_no_provider(store):
    issued = issue(store, None, "ops")
    with store.write() as session:
        token = tokens.authenticate(session, issued.secret)
        assert token is not None
        assert (token.is_admin, token.provider_id) == (True, None)
        assert issued.token.id in [t.id for t in tokens.list_tokens(session, provider=None)]


def test_every_token_is_different(store, provider):
    secrets = {issue(store, provider).secret for _ in range(5)}
    assert len(secrets) == 5
