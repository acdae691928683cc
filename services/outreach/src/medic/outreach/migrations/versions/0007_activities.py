"""WATCCH activities, registrations with their waitlist, and attendance.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("cycle_id", sa.Uuid(), sa.ForeignKey("watcch_cycles.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", TIME, nullable=False),
        sa.Column("ends_at", TIME, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("host_kind", sa.String(20)),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("places_taken", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("cancelled_at", TIME),
    )
    op.create_index("ix_activities_cycle_id_starts_at", "activities", ["cycle_id", "starts_at"])
    op.create_table(
        "activity_registrations",
        sa.Column("activity_id", sa.Uuid(), sa.ForeignKey("activities.id"), primary_key=True),
        sa.Column("participant_id", sa.Uuid(), sa.ForeignKey("participants.participant_id"), primary_key=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("asked_at", TIME, nullable=False),
        sa.Column("attendance", sa.String(12)),
        sa.Column("attended_minutes", sa.Integer()),
        sa.Column("pair", sa.Integer()),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_activity_registrations_participant_id", "activity_registrations", ["participant_id"])


def downgrade() -> None:
    op.drop_index("ix_activity_registrations_participant_id", table_name="activity_registrations")
    op.drop_table("activity_registrations")
    op.drop_index("ix_activities_cycle_id_starts_at", table_name="activities")
    op.drop_table("activities")
