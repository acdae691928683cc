"""Schools, and their contacts in a table of their own.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("urn", sa.String(6), primary_key=True),
        sa.Column("local_authority_code", sa.String(3), nullable=False),
        sa.Column("establishment_number", sa.String(4), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("local_authority_name", sa.String(100), nullable=False),
        sa.Column("postcode", sa.String(8), nullable=False),
        sa.Column("state_funded", sa.Boolean(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_schools_local_authority_code", "schools", ["local_authority_code"])
    op.create_table(
        "school_contacts",
        sa.Column("urn", sa.String(6), sa.ForeignKey("schools.urn"), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("school_contacts")
    op.drop_index("ix_schools_local_authority_code", table_name="schools")
    op.drop_table("schools")
