"""Safeguarding: the people who work with children (medical students), their personal details apart.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safeguarding_people",
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "safeguarding_person_names",
        sa.Column(
            "person_id",
            sa.String(64),
            sa.ForeignKey("safeguarding_people.person_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("full_name", sa.String(200), nullable=False),
    )
    op.create_table(
        "dbs_certificates",
        sa.Column("check_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "person_id",
            sa.String(64),
            sa.ForeignKey("safeguarding_people.person_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number_hmac", sa.String(64), nullable=False),
        sa.Column("last_four", sa.String(4), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dbs_certificates_person", "dbs_certificates", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_dbs_certificates_person", table_name="dbs_certificates")
    op.drop_table("dbs_certificates")
    op.drop_table("safeguarding_person_names")
    op.drop_table("safeguarding_people")
