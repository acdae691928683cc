"""Community Action Projects.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("cohort_id", sa.Uuid(), sa.ForeignKey("cohorts.id"), nullable=False, index=True),
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("groups.id"), nullable=False, unique=True),
        sa.Column("practice_id", sa.Uuid(), sa.ForeignKey("practices.id"), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False, index=True),
        sa.Column("need_summary", sa.Text(), nullable=False),
        sa.Column("state", sa.String(30), nullable=False, index=True),
        sa.Column("paused_from", sa.String(30), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("assessment_complete", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "project_partners",
        sa.Column("project_id", sa.Uuid(), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("partner_id", sa.Uuid(), sa.ForeignKey("partners.id"), primary_key=True, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("project_partners")
    op.drop_table("projects")
