"""Messaging tables v2: the outbox keeps correlation ids, the inbox is indexed for its retention sweep.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from medic.shared.migrations import downgrade_messaging_tables_v2, upgrade_messaging_tables_v2

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_messaging_tables_v2(outbox=True, inbox=True)


def downgrade() -> None:
    downgrade_messaging_tables_v2(outbox=True, inbox=True)
