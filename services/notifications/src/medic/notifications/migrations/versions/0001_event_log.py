"""The ops event log, with the outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medic.shared.migrations import create_messaging_tables_v1, drop_messaging_tables_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text()),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("causation_id", sa.Uuid()),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_event_log_time", "event_log", ["time"])
    op.create_index("ix_event_log_type", "event_log", ["type"])
    op.create_index("ix_event_log_correlation_id", "event_log", ["correlation_id"])
    create_messaging_tables_v1(outbox=True, inbox=True)


def downgrade() -> None:
    drop_messaging_tables_v1(outbox=True, inbox=True)
    op.drop_index("ix_event_log_correlation_id", "event_log")
    op.drop_index("ix_event_log_type", "event_log")
    op.drop_index("ix_event_log_time", "event_log")
    op.drop_table("event_log")
