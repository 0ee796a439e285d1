"""CalDAV collections, items and change log; app passwords; ICS feed tokens.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:01:07.046479
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "app_passwords",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_app_passwords_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_passwords")),
        sa.UniqueConstraint("password_hash", name=op.f("uq_app_passwords_password_hash")),
    )
    with op.batch_alter_table("app_passwords", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_app_passwords_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "dav_collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sync_key", sa.String(length=32), nullable=False),
        sa.Column("props", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("pruned_revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('bookings', 'busy', 'user')", name=op.f("ck_dav_collections_kind")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_dav_collections_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dav_collections")),
        sa.UniqueConstraint("provider_id", "name", name="uq_dav_collections_provider_name"),
        sa.UniqueConstraint("sync_key", name=op.f("uq_dav_collections_sync_key")),
    )
    op.create_table(
        "feed_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('full', 'busy')", name=op.f("ck_feed_tokens_kind")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_feed_tokens_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feed_tokens_token_hash")),
    )
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feed_tokens_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "dav_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("href", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["dav_collections.id"],
            name=op.f("fk_dav_changes_collection_id_dav_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dav_changes")),
    )
    with op.batch_alter_table("dav_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dav_changes_collection_revision", ["collection_id", "revision"], unique=False
        )

    op.create_table(
        "dav_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("href", sa.String(length=255), nullable=False),
        sa.Column("uid", sa.String(length=1024), nullable=False),
        sa.Column("component", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.Column("start_ts", sa.BigInteger(), nullable=False),
        sa.Column("end_ts", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("busy_interval_id", sa.Integer(), nullable=True),
        sa.Column("overlay", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_dav_items_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["busy_interval_id"],
            ["busy_intervals.id"],
            name=op.f("fk_dav_items_busy_interval_id_busy_intervals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["dav_collections.id"],
            name=op.f("fk_dav_items_collection_id_dav_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dav_items")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_dav_items_booking_id")),
        sa.UniqueConstraint("busy_interval_id", name=op.f("uq_dav_items_busy_interval_id")),
        sa.UniqueConstraint("collection_id", "href", name="uq_dav_items_collection_href"),
    )
    with op.batch_alter_table("dav_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dav_items_collection_range", ["collection_id", "start_ts", "end_ts"], unique=False
        )
        batch_op.create_index("ix_dav_items_collection_uid", ["collection_id", "uid"], unique=False)

    with op.batch_alter_table("blocked_times", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dav_item_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_blocked_times_dav_item_id"), ["dav_item_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_blocked_times_dav_item_id_dav_items"),
            "dav_items",
            ["dav_item_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:

    with op.batch_alter_table("blocked_times", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_blocked_times_dav_item_id_dav_items"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_blocked_times_dav_item_id"))
        batch_op.drop_column("dav_item_id")

    with op.batch_alter_table("dav_items", schema=None) as batch_op:
        batch_op.drop_index("ix_dav_items_collection_uid")
        batch_op.drop_index("ix_dav_items_collection_range")

    op.drop_table("dav_items")
    with op.batch_alter_table("dav_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_dav_changes_collection_revision")

    op.drop_table("dav_changes")
    with op.batch_alter_table("feed_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_tokens_provider_id"))

    op.drop_table("feed_tokens")
    op.drop_table("dav_collections")
    with op.batch_alter_table("app_passwords", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_passwords_provider_id"))

    op.drop_table("app_passwords")
