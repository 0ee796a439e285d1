"""The store: SQLite set-up, cascades, UTC datetimes and the PostgreSQL overlap backstop."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from bridge.store import Store
from bridge.store.database import SQLITE_BUSY_TIMEOUT_MS
from bridge.store.models import (
    AvailabilityRule,
    BlockedTime,
    Booking,
    BookingChange,
    Provider,
    Service,
)
from tests.booking.helpers import TUESDAY, book, local
from tests.conftest import new_provider

START = dt.datetime(2026, 6, 2, 8, 0, tzinfo=dt.UTC)
HALF_HOUR = dt.timedelta(minutes=30)


@pytest.fixture
def sqlite_store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'nested' / 'bridge.sqlite3'}")
    store.upgrade()
    yield store
    store.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(sqlite_store):
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS >= 5000


def test_sqlite_refuses_rows_pointing_at_a_missing_provider(sqlite_store):
    with pytest.raises(IntegrityError), sqlite_store.write() as session:
        session.execute(
            insert(AvailabilityRule).values(
                provider_id=424242, weekday=0, start_minute=0, end_minute=60
            )
        )


def test_sqlite_write_transactions_take_the_write_lock_at_once(sqlite_store, tmp_path):
    other = sqlite3.connect(tmp_path / "nested" / "bridge.sqlite3", timeout=0)
    other.isolation_level = None
    try:
        with sqlite_store.write() as session:
            session.execute(select(1))  # a read only, but the write lock is already held
            # Readers go on (WAL); another writer cannot even begin.
            assert other.execute("SELECT count(*) FROM providers").fetchone() is not None
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.mark.usefixtures("frozen_now")
def test_deleting_a_provider_cascades_to_everything_it_owns(store):
    ref = new_provider(store)
    booking = book(store, ref, local(ref, TUESDAY, 10)).booking
    with store.write() as session:
        # Plain SQL, so the database's ON DELETE CASCADE does the work, not the ORM.
        session.execute(delete(Provider).where(Provider.id == ref.id))
    with store.read() as session:
        for model, column in [
            (Service, Service.provider_id),
            (AvailabilityRule, AvailabilityRule.provider_id),
            (Booking, Booking.provider_id),
        ]:
            assert session.scalar(select(func.count()).where(column == ref.id)) == 0, model
        changes = select(func.count()).where(BookingChange.booking_id == booking.id)
        assert session.scalar(changes) == 0


def test_a_write_block_that_raises_leaves_nothing_behind(store):
    slug = f"p-{uuid.uuid4().hex[:10]}"
    with pytest.raises(RuntimeError), store.write() as session:
        session.add(Provider(slug=slug, name="X", email="x@example.org", time_zone="UTC"))
        session.flush()
        raise RuntimeError("boom")
    with store.read() as session:
        assert session.scalar(select(Provider.id).where(Provider.slug == slug)) is None


# --- UTCDateTime ----------------------------------------------------------------------------


def test_datetimes_come_back_as_the_same_instant_in_utc(store, provider):
    kathmandu = dt.timezone(dt.timedelta(hours=5, minutes=45))
    start = dt.datetime(2026, 6, 2, 10, 15, 30, 123456, tzinfo=kathmandu)
    with store.write() as session:
        block = BlockedTime(provider_id=provider.id, start_at=start, end_at=start + HALF_HOUR)
        session.add(block)
        session.flush()
        block_id = block.id
    with store.read() as session:
        stored = session.get(BlockedTime, block_id)
        assert stored is not None
        assert stored.start_at == start
        assert stored.start_at.tzinfo is not None
        assert stored.start_at.utcoffset() == dt.timedelta(0)
        assert stored.start_at.microsecond == 123456
        # Range queries compare instants, whatever offset the bound carries.
        bound = start.astimezone(dt.timezone(dt.timedelta(hours=-8)))
        found = session.scalars(
            select(BlockedTime.id).where(
                BlockedTime.provider_id == provider.id, BlockedTime.start_at >= bound
            )
        ).all()
        assert found == [block_id]


def test_a_naive_datetime_is_refused(store, provider):
    naive = dt.datetime(2026, 6, 2, 10, 0)
    with pytest.raises(StatementError, match="naive datetime"), store.write() as session:
        session.add(BlockedTime(provider_id=provider.id, start_at=naive, end_at=START))
        session.flush()
    with store.read() as session:
        count = select(func.count()).where(BlockedTime.provider_id == provider.id)
        assert session.scalar(count) == 0


# --- The overlap backstop -------------------------------------------------------------------


def raw_booking(ref, start, end, status="confirmed") -> dict:
    return {
        "uid": f"{uuid.uuid4()}@test",
        "provider_id": ref.id,
        "service_id": ref.service_id,
        "start_at": start,
        "end_at": end,
        "status": status,
        "source": "test",
        "client_name": "Raw",
        "client_email": "raw@example.org",
    }


def insert_raw(store, row) -> None:
    with store.write() as session:
        session.execute(insert(Booking).values(**row))


def test_overlapping_confirmed_bookings_written_directly(store, provider):
    """PostgreSQL's exclusion constraint refuses them; SQLite relies on the lock alone."""
    insert_raw(store, raw_booking(provider, START, START + HALF_HOUR))
    overlapping = raw_booking(provider, START + HALF_HOUR / 2, START + 2 * HALF_HOUR)
    if store.dialect == "postgresql":
        with pytest.raises(IntegrityError) as failure:
            insert_raw(store, overlapping)
        assert failure.value.orig.sqlstate == "23P01"
        assert "ex_bookings_no_overlap" in str(failure.value)
        expected = 1
    else:
        assert store.dialect == "sqlite"
        insert_raw(store, overlapping)  # no constraint: the booking lock is the only guard
        expected = 2
    with store.read() as session:
        count = select(func.count()).where(
            Booking.provider_id == provider.id, Booking.status == "confirmed"
        )
        assert session.scalar(count) == expected


def test_cancelled_touching_and_other_providers_bookings_may_share_the_time(store, provider):
    other = new_provider(store)
    insert_raw(store, raw_booking(provider, START, START + HALF_HOUR))
    insert_raw(store, raw_booking(provider, START, START + HALF_HOUR, status="cancelled"))
    insert_raw(store, raw_booking(provider, START + HALF_HOUR, START + 2 * HALF_HOUR))
    insert_raw(store, raw_booking(provider, START - HALF_HOUR, START))
    insert_raw(store, raw_booking(other, START, START + HALF_HOUR))
    with store.read() as session:
        statuses = session.scalars(
            select(Booking.status).where(Booking.provider_id == provider.id)
        ).all()
    assert sorted(statuses) == ["cancelled", "confirmed", "confirmed", "confirmed"]


def test_confirming_a_cancelled_booking_that_now_overlaps_is_refused_on_postgresql(store, provider):
    insert_raw(store, raw_booking(provider, START, START + HALF_HOUR, status="cancelled"))
    insert_raw(store, raw_booking(provider, START, START + HALF_HOUR))
    revive = text(
        "UPDATE bookings SET status = 'confirmed' WHERE provider_id = :p AND status = 'cancelled'"
    )
    if store.dialect == "postgresql":
        with pytest.raises(IntegrityError), store.write() as session:
            session.execute(revive, {"p": provider.id})
    else:
        with store.write() as session:
            assert session.execute(revive, {"p": provider.id}).rowcount == 1
