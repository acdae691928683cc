"""Area indicators: lookup editions, postcodes to areas, values by area, and each participant's areas and values.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _areas() -> list[sa.Column[str]]:
    return [sa.Column(name, sa.String(9)) for name in ("lsoa11", "msoa11", "lsoa21", "msoa21")]


def upgrade() -> None:
    op.create_table(
        "area_lookup_editions",
        sa.Column("dataset", sa.String(20), primary_key=True),
        sa.Column("edition", sa.String(20), primary_key=True),
        sa.Column("geography", sa.String(10), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table("postcode_areas", sa.Column("postcode", sa.String(8), primary_key=True), *_areas())
    op.create_table(
        "area_lookup_values",
        sa.Column("dataset", sa.String(20), primary_key=True),
        sa.Column("edition", sa.String(20), primary_key=True),
        sa.Column("area_code", sa.String(9), primary_key=True),
        sa.Column("measure", sa.String(30), primary_key=True),
        sa.Column("value", sa.SmallInteger(), nullable=False),
    )
    op.create_index("ix_area_lookup_values_area_code", "area_lookup_values", ["area_code"])
    op.create_table(
        "participant_areas",
        sa.Column("participant_id", sa.Uuid(), primary_key=True),
        *_areas(),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "participant_area_indicators",
        sa.Column("participant_id", sa.Uuid(), primary_key=True),
        sa.Column("dataset", sa.String(20), primary_key=True),
        sa.Column("edition", sa.String(20), primary_key=True),
        sa.Column("measure", sa.String(30), primary_key=True),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("derived_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("participant_area_indicators")
    op.drop_table("participant_areas")
    op.drop_index("ix_area_lookup_values_area_code", table_name="area_lookup_values")
    op.drop_table("area_lookup_values")
    op.drop_table("postcode_areas")
    op.drop_table("area_lookup_editions")
