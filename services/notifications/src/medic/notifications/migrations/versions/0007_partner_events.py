"""What partner payloads need that events do not repeat (project titles, which partner a school is), and each
partner's message sequence.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_event_projects",
        sa.Column("project_id", sa.Uuid(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
    )
    op.create_table(
        "partner_event_sequences",
        sa.Column("partner_id", sa.Uuid(), primary_key=True),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "partner_event_partners",
        sa.Column("partner_id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
    )
    op.create_table(
        "partner_event_schools",
        sa.Column("urn", sa.String(6), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "partner_school_links",
        sa.Column("urn", sa.String(6), primary_key=True),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_partner_school_links_partner", "partner_school_links", ["partner_id"])


def downgrade() -> None:
    op.drop_index("ix_partner_school_links_partner", "partner_school_links")
    for table in (
        "partner_school_links",
        "partner_event_schools",
        "partner_event_partners",
        "partner_event_sequences",
        "partner_event_projects",
    ):
        op.drop_table(table)
