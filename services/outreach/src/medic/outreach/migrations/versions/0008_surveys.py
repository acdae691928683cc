"""Surveys: questionnaires, versions, items; responses and answers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
VERSION = (["questionnaire_id", "version"], ["survey_versions.questionnaire_id", "survey_versions.version"])


def upgrade() -> None:
    op.create_table(
        "survey_questionnaires",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "survey_versions",
        sa.Column("questionnaire_id", sa.Uuid(), sa.ForeignKey("survey_questionnaires.id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("published_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "survey_items",
        sa.Column("questionnaire_id", sa.Uuid(), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("text", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(*VERSION),
        sa.UniqueConstraint("questionnaire_id", "version", "code", name="uq_survey_items_code"),
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("questionnaire_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), sa.ForeignKey("participants.participant_id"), nullable=False),
        sa.Column("cycle_id", sa.Uuid(), sa.ForeignKey("watcch_cycles.id"), nullable=False),
        sa.Column("activity_id", sa.Uuid(), sa.ForeignKey("activities.id")),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(*VERSION),
        sa.UniqueConstraint("questionnaire_id", "version", "participant_id", "kind", name="uq_survey_responses_one"),
    )
    op.create_index(
        "ix_survey_responses_questionnaire_id_cycle_id", "survey_responses", ["questionnaire_id", "cycle_id"]
    )
    op.create_index("ix_survey_responses_participant_id", "survey_responses", ["participant_id"])
    op.create_table(
        "survey_answers",
        sa.Column("response_id", sa.Uuid(), sa.ForeignKey("survey_responses.id"), primary_key=True),
        sa.Column("item_code", sa.String(40), primary_key=True),
        sa.Column("value", sa.SmallInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_index("ix_survey_responses_participant_id", table_name="survey_responses")
    op.drop_index("ix_survey_responses_questionnaire_id_cycle_id", table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_table("survey_items")
    op.drop_table("survey_versions")
    op.drop_table("survey_questionnaires")
