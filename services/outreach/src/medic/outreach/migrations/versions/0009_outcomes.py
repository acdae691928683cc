"""WATCCH progression outcomes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "progression_outcomes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("participant_id", sa.Uuid(), sa.ForeignKey("participants.participant_id"), nullable=False),
        sa.Column("stage", sa.String(10), nullable=False),
        sa.Column("course_type", sa.String(20), nullable=False),
        sa.Column("entry_year", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.String(15), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "participant_id", "stage", "course_type", "entry_year", "source", name="uq_progression_outcomes_fact"
        ),
    )
    op.create_index("ix_progression_outcomes_participant_id", "progression_outcomes", ["participant_id"])


def downgrade() -> None:
    op.drop_index("ix_progression_outcomes_participant_id", table_name="progression_outcomes")
    op.drop_table("progression_outcomes")
