"""Mentoring: programmes, mentors, matches and sessions.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mentoring_programmes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("cycle_id", sa.Uuid(), sa.ForeignKey("watcch_cycles.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_mentoring_programmes_cycle_id", "mentoring_programmes", ["cycle_id"])
    op.create_table(
        "mentor_profiles",
        sa.Column("programme_id", sa.Uuid(), sa.ForeignKey("mentoring_programmes.id"), primary_key=True),
        sa.Column("person_id", sa.String(50), primary_key=True),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("availability", sa.JSON(), nullable=False),
        sa.Column("max_mentees", sa.SmallInteger(), nullable=False),
        sa.Column("about", sa.String(2000)),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_mentor_profiles_person_id", "mentor_profiles", ["person_id"])
    op.create_table(
        "mentee_preferences",
        sa.Column("programme_id", sa.Uuid(), sa.ForeignKey("mentoring_programmes.id"), primary_key=True),
        sa.Column("participant_id", sa.Uuid(), primary_key=True),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("availability", sa.JSON(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_mentee_preferences_participant_id", "mentee_preferences", ["participant_id"])
    op.create_table(
        "mentoring_matches",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("programme_id", sa.Uuid(), sa.ForeignKey("mentoring_programmes.id"), nullable=False),
        sa.Column("mentor_id", sa.String(50), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(15), nullable=False),
        sa.Column("proposed_at", TIME, nullable=False),
        sa.Column("active_since", TIME),
        sa.Column("first_active_on", sa.Date()),
        sa.Column("paused_automatically", sa.Boolean(), nullable=False),
        sa.Column("pause_reasons", sa.JSON(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_mentoring_matches_mentor_state", "mentoring_matches", ["mentor_id", "state"])
    op.create_index("ix_mentoring_matches_participant_state", "mentoring_matches", ["participant_id", "state"])
    op.create_index("ix_mentoring_matches_programme_id", "mentoring_matches", ["programme_id"])
    op.create_table(
        "mentoring_sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("match_id", sa.Uuid(), sa.ForeignKey("mentoring_matches.id"), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("logged_by", sa.String(200), nullable=False),
        sa.Column("logged_at", TIME, nullable=False),
    )
    op.create_index("ix_mentoring_sessions_match_id", "mentoring_sessions", ["match_id"])
    op.create_table(
        "mentoring_session_notes",
        sa.Column("session_id", sa.Uuid(), sa.ForeignKey("mentoring_sessions.id"), primary_key=True),
        sa.Column("notes", sa.String(4000), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mentoring_session_notes")
    op.drop_index("ix_mentoring_sessions_match_id", table_name="mentoring_sessions")
    op.drop_table("mentoring_sessions")
    for index in ("ix_mentoring_matches_programme_id", "ix_mentoring_matches_participant_state",
                  "ix_mentoring_matches_mentor_state"):  # fmt: skip
        op.drop_index(index, table_name="mentoring_matches")
    op.drop_table("mentoring_matches")
    op.drop_index("ix_mentee_preferences_participant_id", table_name="mentee_preferences")
    op.drop_table("mentee_preferences")
    op.drop_index("ix_mentor_profiles_person_id", table_name="mentor_profiles")
    op.drop_table("mentor_profiles")
    op.drop_index("ix_mentoring_programmes_cycle_id", table_name="mentoring_programmes")
    op.drop_table("mentoring_programmes")
