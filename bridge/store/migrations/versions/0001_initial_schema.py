"""initial schema

Revision ID: 0001
Revises: -
Create Date: 2026-11-24 09:20:39.269771
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("slug", name=op.f("uq_providers_slug")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(is_admin AND provider_id IS NULL) OR (NOT is_admin AND provider_id IS NOT NULL)",
            name=op.f("ck_api_tokens_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_api_tokens_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_tokens_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "availability_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name=op.f("ck_availability_rules_minutes"),
        ),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_availability_rules_weekday")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_availability_rules_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_rules")),
    )
    with op.batch_alter_table("availability_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_availability_rules_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "blocked_times",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("start_at < end_at", name=op.f("ck_blocked_times_ordered")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_blocked_times_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_times")),
    )
    with op.batch_alter_table("blocked_times", schema=None) as batch_op:
        batch_op.create_index(
            "ix_blocked_times_provider_end", ["provider_id", "end_at"], unique=False
        )

    op.create_table(
        "busy_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("remote_id", sa.String(length=1024), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("start_at < end_at", name=op.f("ck_busy_intervals_ordered")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_busy_intervals_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_busy_intervals")),
    )
    with op.batch_alter_table("busy_intervals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_busy_intervals_provider_end", ["provider_id", "end_at"], unique=False
        )
        batch_op.create_index(
            "ix_busy_intervals_source_remote", ["source", "remote_id"], unique=False
        )

    op.create_table(
        "date_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=True),
        sa.Column("end_minute", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR (start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute)",
            name=op.f("ck_date_overrides_minutes"),
        ),
        sa.CheckConstraint(
            "available = false OR start_minute IS NOT NULL",
            name=op.f("ck_date_overrides_extra_has_hours"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_date_overrides_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_date_overrides")),
    )
    with op.batch_alter_table("date_overrides", schema=None) as batch_op:
        batch_op.create_index(
            "ix_date_overrides_provider_date", ["provider_id", "date"], unique=False
        )

    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("slot_step_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "buffer_before_minutes >= 0 AND buffer_after_minutes >= 0",
            name=op.f("ck_services_buffers"),
        ),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_services_duration_positive")),
        sa.CheckConstraint("horizon_days > 0", name=op.f("ck_services_horizon_positive")),
        sa.CheckConstraint("min_notice_minutes >= 0", name=op.f("ck_services_notice")),
        sa.CheckConstraint("slot_step_minutes > 0", name=op.f("ck_services_step_positive")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_services_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
    )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_services_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("client_email", sa.String(length=320), nullable=False),
        sa.Column("client_phone", sa.String(length=64), nullable=True),
        sa.Column("client_notes", sa.Text(), nullable=True),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('confirmed', 'cancelled')", name=op.f("ck_bookings_status")),
        sa.CheckConstraint("start_at < end_at", name=op.f("ck_bookings_ordered")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_bookings_provider_id_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_bookings_service_id_services"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_bookings_manage_token_hash")),
        sa.UniqueConstraint("uid", name=op.f("uq_bookings_uid")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_provider_end", ["provider_id", "end_at"], unique=False)

    op.create_table(
        "booking_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_changes_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_changes")),
    )
    with op.batch_alter_table("booking_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_changes_booking_id"), ["booking_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        # Backstop for the per-provider lock: two confirmed bookings of one provider can never
        # overlap, whatever code path writes them. btree_gist is a trusted extension (PG >= 13).
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap EXCLUDE USING gist "
            "(provider_id WITH =, tstzrange(start_at, end_at) WITH &&) "
            "WHERE (status = 'confirmed')"
        )


def downgrade() -> None:

    with op.batch_alter_table("booking_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_changes_booking_id"))

    op.drop_table("booking_changes")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_provider_end")

    op.drop_table("bookings")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_provider_id"))

    op.drop_table("services")
    with op.batch_alter_table("date_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_date_overrides_provider_date")

    op.drop_table("date_overrides")
    with op.batch_alter_table("busy_intervals", schema=None) as batch_op:
        batch_op.drop_index("ix_busy_intervals_source_remote")
        batch_op.drop_index("ix_busy_intervals_provider_end")

    op.drop_table("busy_intervals")
    with op.batch_alter_table("blocked_times", schema=None) as batch_op:
        batch_op.drop_index("ix_blocked_times_provider_end")

    op.drop_table("blocked_times")
    with op.batch_alter_table("availability_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_availability_rules_provider_id"))

    op.drop_table("availability_rules")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_provider_id"))

    op.drop_table("api_tokens")
    op.drop_table("providers")
