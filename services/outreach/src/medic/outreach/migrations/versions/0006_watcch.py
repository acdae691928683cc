"""WATCCH: participants and their personal details (kept apart), individual indicators, cycles with versioned
rules, applications, referee links, the offer-expiry timer's firings.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "participants",
        sa.Column("participant_id", sa.Uuid(), primary_key=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "personal_details",
        sa.Column("participant_id", sa.Uuid(), sa.ForeignKey("participants.participant_id"), primary_key=True),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("home_postcode", sa.String(8), nullable=False),
        sa.Column("guardian_name", sa.String(200), nullable=False),
        sa.Column("guardian_email", sa.String(254)),
        sa.Column("guardian_phone", sa.String(20)),
        sa.Column("referee_name", sa.String(200)),
        sa.Column("referee_email", sa.String(254)),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "individual_indicators",
        sa.Column("participant_id", sa.Uuid(), sa.ForeignKey("participants.participant_id"), primary_key=True),
        sa.Column("measure", sa.String(30), primary_key=True),
        sa.Column("source", sa.String(20), primary_key=True),
        sa.Column("recorded_at", TIME, primary_key=True),
        sa.Column("value", sa.String(40), nullable=False),
    )
    op.create_table(
        "watcch_cycles",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("academic_year", sa.String(7), nullable=False, unique=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("places_taken", sa.Integer(), nullable=False),
        sa.Column("applications_open_on", sa.Date(), nullable=False),
        sa.Column("applications_close_on", sa.Date(), nullable=False),
        sa.Column("programme_starts_on", sa.Date(), nullable=False),
        sa.Column("programme_ends_on", sa.Date(), nullable=False),
        sa.Column("offer_lifetime_days", sa.SmallInteger(), nullable=False),
        sa.Column("year_groups", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "watcch_rule_versions",
        sa.Column("cycle_id", sa.Uuid(), sa.ForeignKey("watcch_cycles.id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "watcch_applications",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("reference", sa.String(15), nullable=False, unique=True),
        sa.Column("cycle_id", sa.Uuid(), sa.ForeignKey("watcch_cycles.id"), nullable=False),
        sa.Column("participant_id", sa.Uuid(), sa.ForeignKey("participants.participant_id"), nullable=False),
        sa.Column("school_urn", sa.String(6), sa.ForeignKey("schools.urn"), nullable=False),
        sa.Column("year_group", sa.String(10), nullable=False),
        sa.Column("state", sa.String(15), nullable=False),
        sa.Column("submitted_at", TIME, nullable=False),
        sa.Column("entered_by_coordinator", sa.Boolean(), nullable=False),
        sa.Column("rules_version", sa.Integer()),
        sa.Column("decision", sa.JSON()),
        sa.Column("decided_at", TIME),
        sa.Column("eligible_at", TIME),
        sa.Column("queue_draw", sa.Integer()),
        sa.Column("offered_at", TIME),
        sa.Column("offer_expires_at", TIME),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_watcch_applications_cycle_state", "watcch_applications", ["cycle_id", "state"])
    op.create_index("ix_watcch_applications_offer_expires_at", "watcch_applications", ["offer_expires_at"])
    op.create_index("ix_watcch_applications_participant_cycle", "watcch_applications", ["participant_id", "cycle_id"])
    op.create_table(
        "watcch_referee_links",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("application_id", sa.Uuid(), sa.ForeignKey("watcch_applications.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("issued_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(20)),
        sa.Column("decided_at", TIME),
    )
    op.create_index("ix_watcch_referee_links_application_id", "watcch_referee_links", ["application_id"])
    op.create_table(
        "watcch_fired_timers",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("fired_at", TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("watcch_fired_timers")
    op.drop_index("ix_watcch_referee_links_application_id", table_name="watcch_referee_links")
    op.drop_table("watcch_referee_links")
    op.drop_index("ix_watcch_applications_participant_cycle", table_name="watcch_applications")
    op.drop_index("ix_watcch_applications_offer_expires_at", table_name="watcch_applications")
    op.drop_index("ix_watcch_applications_cycle_state", table_name="watcch_applications")
    op.drop_table("watcch_applications")
    op.drop_table("watcch_rule_versions")
    op.drop_table("watcch_cycles")
    op.drop_table("individual_indicators")
    op.drop_table("personal_details")
    op.drop_table("participants")
