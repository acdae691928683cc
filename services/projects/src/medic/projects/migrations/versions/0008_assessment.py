"""Assessment: rubrics per cohort, marks, moderation, release, prize nominations, reflections.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _project_id() -> sa.Column[uuid.UUID]:
    return sa.Column("project_id", sa.Uuid(), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)


def _cohort_id() -> sa.Column[uuid.UUID]:
    return sa.Column("cohort_id", sa.Uuid(), sa.ForeignKey("cohorts.id"), nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "rubrics",
        sa.Column("cohort_id", sa.Uuid(), sa.ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "assessor_marks",
        _project_id(),
        sa.Column("assessor", sa.String(200), primary_key=True),
        _cohort_id(),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "moderated_marks",
        _project_id(),
        _cohort_id(),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("moderated_by", sa.String(200), nullable=False),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "prize_nominations",
        _project_id(),
        sa.Column("nominator", sa.String(200), primary_key=True),
        _cohort_id(),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("nominated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "reflections",
        _project_id(),
        sa.Column("student_id", sa.Uuid(), sa.ForeignKey("students.id"), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("reflections", "prize_nominations", "moderated_marks", "assessor_marks", "rubrics"):
        op.drop_table(table)
