"""Feed tokens: created on demand, stored hashed and encrypted, rotated, revoked, and what
happens when the secret key changes."""

from __future__ import annotations

import hashlib
import threading

from sqlalchemy import select

from bridge import keys
from bridge.booking import feeds
from bridge.store import Store
from bridge.store.models import FeedToken, Provider
from tests.conftest import ProviderRef
from tests.feeds.conftest import SECRET

NEWER = "feed-test-newer-key-" + "n" * 32


def ensure(store: Store, ref: ProviderRef, keyring: keys.Keyring, kind="full") -> feeds.FeedLink:
    with store.write() as session:
        return feeds.ensure(session, session.get_one(Provider, ref.id), kind, keyring)


def rotate(store: Store, ref: ProviderRef, keyring: keys.Keyring, kind="full") -> feeds.FeedLink:
    with store.write() as session:
        return feeds.rotate(session, session.get_one(Provider, ref.id), kind, keyring)


def revoke(store: Store, ref: ProviderRef, kind="full") -> int:
    with store.write() as session:
        return feeds.revoke(session, session.get_one(Provider, ref.id), kind)


def is_live(store: Store, secret: str) -> bool:
    with store.read() as session:
        return feeds.find_live(session, secret) is not None


def rows(store: Store, ref: ProviderRef) -> list[FeedToken]:
    with store.read() as session:
        query = select(FeedToken).where(FeedToken.provider_id == ref.id).order_by(FeedToken.id)
        return list(session.scalars(query))


def test_a_link_is_created_once_and_then_shown_again(store, provider, keyring):
    first = ensure(store, provider, keyring)
    again = ensure(store, provider, keyring)

    assert first.secret is not None and again.secret == first.secret
    assert again.token_id == first.token_id and first.problem is None
    assert len(rows(store, provider)) == 1
    assert is_live(store, first.secret)


def test_the_token_has_256_random_bits_and_is_stored_hashed_and_encrypted(store, provider, keyring):
    link = ensure(store, provider, keyring)

    assert link.secret is not None and len(link.secret) == 43  # 32 bytes, URL-safe base64
    [row] = rows(store, provider)
    assert row.token_hash == hashlib.sha256(link.secret.encode()).hexdigest()
    assert link.secret not in row.token_encrypted
    assert keyring.decrypt(keys.FEED_TOKENS, row.token_encrypted) == link.secret


def test_each_kind_has_its_own_link(store, provider, keyring):
    full = ensure(store, provider, keyring, "full")
    busy = ensure(store, provider, keyring, "busy")

    assert full.secret != busy.secret and (full.kind, busy.kind) == ("full", "busy")
    with store.read() as session:
        assert feeds.find_live(session, busy.secret or "").kind == "busy"


def test_rotating_kills_the_old_link_at_once(store, provider, keyring):
    old = ensure(store, provider, keyring)
    busy = ensure(store, provider, keyring, "busy")

    new = rotate(store, provider, keyring)

    assert new.secret != old.secret
    assert not is_live(store, old.secret or "")
    assert is_live(store, new.secret or "") and is_live(store, busy.secret or "")
    assert ensure(store, provider, keyring).secret == new.secret


def test_revoking_ends_the_link_and_the_next_request_makes_a_new_one(store, provider, keyring):
    old = ensure(store, provider, keyring)

    assert revoke(store, provider) == 1
    assert revoke(store, provider) == 0

    assert not is_live(store, old.secret or "")
    new = ensure(store, provider, keyring)
    assert new.secret != old.secret and is_live(store, new.secret or "")


def test_unknown_tokens_are_not_found(store):
    assert not is_live(store, "no-such-token")


def test_with_a_replaced_key_the_link_works_but_cannot_be_shown(store, provider, keyring):
    old = ensure(store, provider, keyring)
    replaced = keys.Keyring([NEWER], source="BRIDGE_SECRET_KEY")

    link = ensure(store, provider, replaced)

    assert link.secret is None
    assert link.problem is not None
    assert "cannot be shown again" in link.problem and "BRIDGE_SECRET_KEY" in link.problem
    assert is_live(store, old.secret or "")  # subscribers are not cut off
    fresh = rotate(store, provider, replaced)
    assert fresh.secret is not None and ensure(store, provider, replaced).secret == fresh.secret


def test_showing_a_link_moves_it_to_the_newest_key(store, provider, keyring):
    old = ensure(store, provider, keyring)
    rotated_keys = keys.Keyring([NEWER, SECRET], source="test")

    assert ensure(store, provider, rotated_keys).secret == old.secret

    only_newer = keys.Keyring([NEWER], source="test")
    assert ensure(store, provider, only_newer).secret == old.secret


def test_concurrent_first_requests_make_one_link(store, provider, keyring):
    barrier = threading.Barrier(6)
    secrets: list[str | None] = []

    def first_request() -> None:
        barrier.wait()
        secrets.append(ensure(store, provider, keyring).secret)

    threads = [threading.Thread(target=first_request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(secrets) == 6 and len(set(secrets)) == 1
    assert len(rows(store, provider)) == 1
