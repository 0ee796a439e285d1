"""Bound booking and busy-interval lengths; index them by start.

With every row at most a day long, "what overlaps [a, b)" becomes a tight index range
``start_at > a - 1 day AND start_at < b`` instead of a scan of everything ending after ``a``.
Imported busy time longer than a day is stored in day-long pieces (bridge.booking.busy).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _at_most_a_day() -> str:
    if op.get_bind().dialect.name == "sqlite":
        return "CAST(strftime('%s', end_at) AS INTEGER) - CAST(strftime('%s', start_at) AS INTEGER) <= 86400"
    return "end_at - start_at <= interval '1 day'"


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.create_check_constraint("at_most_a_day", _at_most_a_day())
        batch.create_index("ix_bookings_provider_start", ["provider_id", "start_at", "end_at"])
    with op.batch_alter_table("busy_intervals") as batch:
        batch.create_check_constraint("at_most_a_day", _at_most_a_day())
        batch.drop_index("ix_busy_intervals_provider_end")
        batch.create_index(
            "ix_busy_intervals_provider_start", ["provider_id", "start_at", "end_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("busy_intervals") as batch:
        batch.drop_index("ix_busy_intervals_provider_start")
        batch.create_index("ix_busy_intervals_provider_end", ["provider_id", "end_at"])
        batch.drop_constraint("ck_busy_intervals_at_most_a_day", type_="check")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_index("ix_bookings_provider_start")
        batch.drop_constraint("ck_bookings_at_most_a_day", type_="check")
