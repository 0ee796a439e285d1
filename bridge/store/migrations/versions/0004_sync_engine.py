"""Sync engine: connections, external calendars, remote events, mirrors, outbox, notices.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 11:53:33.566682
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=320), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('ok', 'needs_reauth', 'error')", name=op.f("ck_connections_status")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_connections_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("provider_id", "kind", "account", name="uq_connections_account"),
    )
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connections_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "external_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=1024), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("writable", sa.Boolean(), nullable=False),
        sa.Column("check_conflicts", sa.Boolean(), nullable=False),
        sa.Column("is_destination", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("sync_generation", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pull_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("channel_token_hash", sa.String(length=64), nullable=True),
        sa.Column("channel_resource_id", sa.String(length=255), nullable=True),
        sa.Column("channel_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breaker_tripped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('ok', 'error')", name=op.f("ck_external_calendars_status")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_external_calendars_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_external_calendars_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_calendars")),
        sa.UniqueConstraint("connection_id", "remote_id", name="uq_external_calendars_remote"),
    )
    with op.batch_alter_table("external_calendars", schema=None) as batch_op:
        batch_op.create_index("ix_external_calendars_channel", ["channel_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_external_calendars_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "oauth_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.Column("reconnect_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_oauth_states_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reconnect_id"],
            ["connections.id"],
            name=op.f("fk_oauth_states_reconnect_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_states_state_hash")),
    )
    op.create_table(
        "held_cancellations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=1024), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_held_cancellations_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["external_calendars.id"],
            name=op.f("fk_held_cancellations_calendar_id_external_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_cancellations")),
        sa.UniqueConstraint("calendar_id", "booking_id", name="uq_held_cancellations_booking"),
    )
    op.create_table(
        "mirrors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=1024), nullable=False),
        sa.Column("remote_etag", sa.String(length=255), nullable=True),
        sa.Column("booking_version", sa.Integer(), nullable=False),
        sa.Column("remote_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remote_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remote_deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_mirrors_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["external_calendars.id"],
            name=op.f("fk_mirrors_calendar_id_external_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirrors")),
        sa.UniqueConstraint("booking_id", "calendar_id", name="uq_mirrors_booking_calendar"),
        sa.UniqueConstraint("calendar_id", "remote_id", name="uq_mirrors_calendar_remote"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("booking_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_outbox_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["external_calendars.id"],
            name=op.f("fk_outbox_calendar_id_external_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("booking_id", "calendar_id", name="uq_outbox_booking_calendar"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_calendar_id"), ["calendar_id"], unique=False)
        batch_op.create_index("ix_outbox_due", ["next_attempt_at"], unique=False)

    op.create_table(
        "remote_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=1024), nullable=False),
        sa.Column("series_remote_id", sa.String(length=1024), nullable=True),
        sa.Column("original_start", sa.String(length=32), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("recurrence", sa.JSON(), nullable=True),
        sa.Column("blocks", sa.String(length=16), nullable=False),
        sa.Column("seen_generation", sa.Integer(), nullable=False),
        sa.Column("expanded_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "blocks IN ('busy', 'free', 'unanswered')", name=op.f("ck_remote_events_blocks")
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["external_calendars.id"],
            name=op.f("fk_remote_events_calendar_id_external_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_events")),
        sa.UniqueConstraint("calendar_id", "remote_id", name="uq_remote_events_remote"),
    )
    with op.batch_alter_table("remote_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_remote_events_series", ["calendar_id", "series_remote_id"], unique=False
        )

    op.create_table(
        "sync_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_sync_notices_booking_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["external_calendars.id"],
            name=op.f("fk_sync_notices_calendar_id_external_calendars"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_sync_notices_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_notices")),
    )
    with op.batch_alter_table("sync_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_notices_provider_open", ["provider_id", "resolved_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_notices_provider_open")

    op.drop_table("sync_notices")
    with op.batch_alter_table("remote_events", schema=None) as batch_op:
        batch_op.drop_index("ix_remote_events_series")

    op.drop_table("remote_events")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_index(batch_op.f("ix_outbox_calendar_id"))

    op.drop_table("outbox")
    op.drop_table("mirrors")
    op.drop_table("held_cancellations")
    op.drop_table("oauth_states")
    with op.batch_alter_table("external_calendars", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_calendars_provider_id"))
        batch_op.drop_index("ix_external_calendars_channel")

    op.drop_table("external_calendars")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connections_provider_id"))

    op.drop_table("connections")
