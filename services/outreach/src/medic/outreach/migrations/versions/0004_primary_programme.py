"""The primary-school programme: terms, the topic catalogue (seeded with the statutory primary health-education
areas), versioned feedback forms (version 1 of each seeded), sessions and their feedback, students' reflections, and
the link from a school to its partner organisation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEEDED_AT = datetime(2026, 11, 27, tzinfo=UTC)
# Written out, not imported: a migration must not change when the code does.
STATUTORY_TOPICS = [
    ("mental_wellbeing", "Mental wellbeing"),
    ("internet_safety", "Internet safety and harms"),
    ("physical_health", "Physical health and fitness"),
    ("healthy_eating", "Healthy eating"),
    ("drugs_alcohol_tobacco", "Drugs, alcohol and tobacco"),
    ("health_prevention", "Health and prevention"),
    ("first_aid", "Basic first aid"),
    ("changing_body", "Changing adolescent body"),
]
TEACHER_FORM_V1 = [
    {"key": "right_level", "text": "The content was pitched at the right level for the class"},
    {"key": "pupils_engaged", "text": "The pupils were engaged"},
    {"key": "students_prepared", "text": "The medical students were well prepared"},
    {"key": "fits_curriculum", "text": "The session supported the class's health-education curriculum"},
    {"key": "welcome_again", "text": "I would welcome the medical students again"},
]
PUPIL_FORM_V1 = [
    {"key": "know_topic", "text": "I know about today's topic"},
    {"key": "stay_healthy", "text": "I know something I can do to keep healthy"},
    {"key": "ask_for_help", "text": "I know who I can talk to if I am worried"},
]


def upgrade() -> None:
    op.create_table(
        "primary_terms",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("academic_year", sa.String(7), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    topics = op.create_table(
        "primary_topics",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("statutory", sa.Boolean(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    forms = op.create_table(
        "primary_forms",
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "primary_sessions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("term_id", sa.Uuid(), sa.ForeignKey("primary_terms.id"), nullable=False),
        sa.Column("urn", sa.String(6), sa.ForeignKey("schools.urn"), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column("year_group", sa.String(10), nullable=False),
        sa.Column("topic_id", sa.String(40), sa.ForeignKey("primary_topics.id"), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=True),
        sa.Column("classes", sa.Integer(), nullable=True),
        sa.Column("teacher_present_throughout", sa.Boolean(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_primary_sessions_term_id", "primary_sessions", ["term_id"])
    op.create_index("ix_primary_sessions_urn", "primary_sessions", ["urn"])
    op.create_table(
        "primary_session_students",
        sa.Column("session_id", sa.Uuid(), sa.ForeignKey("primary_sessions.id"), primary_key=True),
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_primary_session_students_user_id", "primary_session_students", ["user_id"])
    op.create_table(
        "primary_teacher_feedback",
        sa.Column("session_id", sa.Uuid(), sa.ForeignKey("primary_sessions.id"), primary_key=True),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "primary_pupil_feedback",
        sa.Column("session_id", sa.Uuid(), sa.ForeignKey("primary_sessions.id"), primary_key=True),
        sa.Column("question", sa.String(40), primary_key=True),
        sa.Column("phase", sa.String(10), primary_key=True),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("happy", sa.Integer(), nullable=False),
        sa.Column("not_sure", sa.Integer(), nullable=False),
        sa.Column("sad", sa.Integer(), nullable=False),
    )
    op.create_table(
        "primary_reflections",
        sa.Column("session_id", sa.Uuid(), sa.ForeignKey("primary_sessions.id"), primary_key=True),
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "school_partners",
        sa.Column("urn", sa.String(6), sa.ForeignKey("schools.urn"), primary_key=True),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_school_partners_partner_id", "school_partners", ["partner_id"])
    op.bulk_insert(
        topics,
        [
            {"id": id, "name": name, "statutory": True, "retired": False, "created_at": SEEDED_AT}
            for id, name in STATUTORY_TOPICS
        ],
    )
    op.bulk_insert(
        forms,
        [
            {"kind": "teacher", "version": 1, "items": TEACHER_FORM_V1, "created_at": SEEDED_AT},
            {"kind": "pupil", "version": 1, "items": PUPIL_FORM_V1, "created_at": SEEDED_AT},
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_school_partners_partner_id", table_name="school_partners")
    op.drop_table("school_partners")
    op.drop_table("primary_reflections")
    op.drop_table("primary_pupil_feedback")
    op.drop_table("primary_teacher_feedback")
    op.drop_index("ix_primary_session_students_user_id", table_name="primary_session_students")
    op.drop_table("primary_session_students")
    op.drop_index("ix_primary_sessions_urn", table_name="primary_sessions")
    op.drop_index("ix_primary_sessions_term_id", table_name="primary_sessions")
    op.drop_table("primary_sessions")
    op.drop_table("primary_forms")
    op.drop_table("primary_topics")
    op.drop_table("primary_terms")
