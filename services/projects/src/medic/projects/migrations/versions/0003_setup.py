"""A CAP year's set-up: cohorts, GP practices, supervisors, students and groups.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column[datetime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("academic_year", sa.String(7), nullable=False, unique=True),
        sa.Column("placement_start", sa.Date(), nullable=False),
        sa.Column("placement_end", sa.Date(), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("max_group_size", sa.Integer(), nullable=False),
        _created_at(),
    )
    op.create_table(
        "practices",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("ods_code", sa.String(10), nullable=False, unique=True),
        sa.Column("area", sa.String(100), nullable=False),
        _created_at(),
    )
    op.create_table(
        "supervisors",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        _created_at(),
    )
    op.create_table(
        "supervisor_practices",
        sa.Column("supervisor_id", sa.Uuid(), sa.ForeignKey("supervisors.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("practice_id", sa.Uuid(), sa.ForeignKey("practices.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("university_id", sa.String(20), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        _created_at(),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("cohort_id", sa.Uuid(), sa.ForeignKey("cohorts.id"), nullable=False, index=True),
        sa.Column("practice_id", sa.Uuid(), sa.ForeignKey("practices.id"), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        _created_at(),
        sa.UniqueConstraint("cohort_id", "name", name="uq_groups_cohort_name"),
    )
    op.create_table(
        "group_students",
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("student_id", sa.Uuid(), sa.ForeignKey("students.id"), primary_key=True),
        sa.Column("cohort_id", sa.Uuid(), sa.ForeignKey("cohorts.id"), nullable=False),
        sa.UniqueConstraint("cohort_id", "student_id", name="uq_group_students_one_group_per_cohort"),
    )
    op.create_table(
        "group_supervisors",
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("supervisor_id", sa.Uuid(), sa.ForeignKey("supervisors.id"), primary_key=True),
    )


def downgrade() -> None:
    for table in (
        "group_supervisors",
        "group_students",
        "groups",
        "students",
        "supervisor_practices",
        "supervisors",
        "practices",
        "cohorts",
    ):
        op.drop_table(table)
