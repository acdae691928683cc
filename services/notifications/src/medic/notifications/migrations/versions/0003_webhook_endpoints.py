"""Partner webhook endpoints and their signing secrets (encrypted).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
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
        "webhook_endpoints",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("partner_id", sa.Uuid, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("event_types", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("rate_limit_per_s", sa.Integer),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True)),
        sa.Column("rotation_ends_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_webhook_endpoints_partner_id", "webhook_endpoints", ["partner_id", "created_at"])
    op.create_index("ix_webhook_endpoints_created_at", "webhook_endpoints", ["created_at", "id"])
    op.create_table(
        "webhook_endpoint_secrets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("endpoint_id", sa.Uuid, sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_webhook_endpoint_secrets_endpoint_id", "webhook_endpoint_secrets", ["endpoint_id"])
    op.create_index(
        "uq_webhook_endpoint_secrets_current",
        "webhook_endpoint_secrets",
        ["endpoint_id"],
        unique=True,
        postgresql_where=sa.text("expires_at IS NULL"),
        sqlite_where=sa.text("expires_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("webhook_endpoint_secrets")
    op.drop_table("webhook_endpoints")
