"""Erasure and the retention sweep: erasure records (the proof, kept), retention reviews and their items.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure_records",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("subject_kind", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("request_reference", sa.String(40)),
        sa.Column("deleted", sa.JSON(), nullable=False),
        sa.Column("partners_notified", sa.Integer(), nullable=False),
        sa.Column("retention_review_id", sa.Uuid()),
        sa.UniqueConstraint("subject_kind", "subject_id", name="uq_erasure_records_subject"),
    )
    op.create_table(
        "retention_reviews",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False, unique=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("listed_by", sa.String(200), nullable=False),
        sa.Column("erase_from", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "retention_review_items",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("review_id", sa.Uuid(), sa.ForeignKey("retention_reviews.id"), nullable=False),
        sa.Column("subject_kind", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("due_since", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("keep_reason", sa.String(40)),
        sa.Column("review_again_on", sa.Date()),
        sa.Column("kept_by", sa.String(200)),
        sa.Column("kept_at", sa.DateTime(timezone=True)),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
        sa.Column("failure", sa.String(100)),
        sa.UniqueConstraint("review_id", "subject_kind", "subject_id", name="uq_retention_review_items_subject"),
    )
    op.create_index("ix_retention_review_items_subject", "retention_review_items", ["subject_kind", "subject_id"])


def downgrade() -> None:
    op.drop_index("ix_retention_review_items_subject", table_name="retention_review_items")
    op.drop_table("retention_review_items")
    op.drop_table("retention_reviews")
    op.drop_table("erasure_records")
