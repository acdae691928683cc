"""The directory of adult contacts, built from events, and what the email rules need to find them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_contacts",
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid()),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Text()),
        sa.Column("display_name", sa.Text()),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("kind", "contact_id", name="pk_directory_contacts"),
    )
    op.create_index("ix_directory_contacts_partner_id", "directory_contacts", ["partner_id"])
    op.create_table(
        "directory_groups",
        sa.Column("group_id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "directory_group_members",
        sa.Column(
            "group_id", sa.Uuid(), sa.ForeignKey("directory_groups.group_id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "kind", "contact_id", name="pk_directory_group_members"),
    )
    op.create_table(
        "directory_projects",
        sa.Column("project_id", sa.Uuid(), primary_key=True),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("lead_partner_id", sa.Uuid()),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "watcch_offer_reminders",
        sa.Column("application_id", sa.Uuid(), primary_key=True),
        sa.Column("cycle_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_watcch_offer_reminders_due", "watcch_offer_reminders", ["state", "remind_at"])
    op.create_index("ix_watcch_offer_reminders_participant_id", "watcch_offer_reminders", ["participant_id"])


def downgrade() -> None:
    op.drop_index("ix_watcch_offer_reminders_participant_id", "watcch_offer_reminders")
    op.drop_index("ix_watcch_offer_reminders_due", "watcch_offer_reminders")
    op.drop_table("watcch_offer_reminders")
    op.drop_table("directory_projects")
    op.drop_table("directory_group_members")
    op.drop_table("directory_groups")
    op.drop_index("ix_directory_contacts_partner_id", "directory_contacts")
    op.drop_table("directory_contacts")
