"""Emails to send, one per (event, recipient, template), their attempts, and recipients' preferences.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
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
        "emails",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("cause_id", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("recipient_name", sa.String(200)),
        sa.Column("context", sa.JSON()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("claim", sa.Uuid()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(300)),
        sa.Column("last_code", sa.Integer()),
        sa.UniqueConstraint("cause_id", "recipient", "kind", name="uq_emails_cause_recipient_kind"),
    )
    op.create_index("ix_emails_due", "emails", ["status", "next_attempt_at"])
    op.create_index("ix_emails_created", "emails", ["created_at", "id"])
    op.create_index("ix_emails_recipient", "emails", ["recipient"])
    op.create_table(
        "email_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("email_id", sa.Uuid(), sa.ForeignKey("emails.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("code", sa.Integer()),
        sa.Column("detail", sa.Text()),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
    )
    op.create_index("ix_email_attempts_email", "email_attempts", ["email_id", "id"])
    op.create_table(
        "email_unsubscriptions",
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient", "kind", name="pk_email_unsubscriptions"),
    )


def downgrade() -> None:
    op.drop_table("email_unsubscriptions")
    op.drop_index("ix_email_attempts_email", "email_attempts")
    op.drop_table("email_attempts")
    op.drop_index("ix_emails_recipient", "emails")
    op.drop_index("ix_emails_created", "emails")
    op.drop_index("ix_emails_due", "emails")
    op.drop_table("emails")
