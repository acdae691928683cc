"""The primary-school programme: terms, topics, feedback forms, sessions and what is recorded about them, and the
link from a school to its partner organisation. Counts only for pupils; free text (teachers' comments, students'
reflections, cancellation reasons) stays here."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    Uuid,
)

from medic.shared.db import UtcDateTime

from .metadata import metadata

primary_terms = Table(
    "primary_terms",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("academic_year", String(7), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

primary_topics = Table(
    "primary_topics",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("statutory", Boolean, nullable=False),
    Column("retired", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

primary_forms = Table(
    "primary_forms",
    metadata,
    Column("kind", String(10), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("items", JSON, nullable=False),  # [{"key": ..., "text": ...}], never changed once written
    Column("created_at", UtcDateTime, nullable=False),
)

primary_sessions = Table(
    "primary_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("term_id", Uuid, ForeignKey("primary_terms.id"), nullable=False),
    Column("urn", String(6), ForeignKey("schools.urn"), nullable=False),
    Column("date", Date, nullable=False),
    Column("starts_at", Time, nullable=False),
    Column("ends_at", Time, nullable=False),
    Column("year_group", String(10), nullable=False),
    Column("topic_id", String(40), ForeignKey("primary_topics.id"), nullable=False),
    Column("level", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("pupils", Integer, nullable=True),
    Column("classes", Integer, nullable=True),
    Column("teacher_present_throughout", Boolean, nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_primary_sessions_term_id", "term_id"),
    Index("ix_primary_sessions_urn", "urn"),
)

primary_session_students = Table(
    "primary_session_students",
    metadata,
    Column("session_id", Uuid, ForeignKey("primary_sessions.id"), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_primary_session_students_user_id", "user_id"),
)

primary_teacher_feedback = Table(
    "primary_teacher_feedback",
    metadata,
    Column("session_id", Uuid, ForeignKey("primary_sessions.id"), primary_key=True),
    Column("form_version", Integer, nullable=False),
    Column("scores", JSON, nullable=False),
    Column("comments", Text, nullable=True),
    Column("recorded_at", UtcDateTime, nullable=False),
)

primary_pupil_feedback = Table(
    "primary_pupil_feedback",
    metadata,
    Column("session_id", Uuid, ForeignKey("primary_sessions.id"), primary_key=True),
    Column("question", String(40), primary_key=True),
    Column("phase", String(10), primary_key=True),
    Column("form_version", Integer, nullable=False),
    Column("happy", Integer, nullable=False),
    Column("not_sure", Integer, nullable=False),
    Column("sad", Integer, nullable=False),
)

primary_reflections = Table(
    "primary_reflections",
    metadata,
    Column("session_id", Uuid, ForeignKey("primary_sessions.id"), primary_key=True),
    Column("user_id", String(200), primary_key=True),
    Column("text", Text, nullable=False),
    Column("written_at", UtcDateTime, nullable=False),
)

school_partners = Table(
    "school_partners",
    metadata,
    Column("urn", String(6), ForeignKey("schools.urn"), primary_key=True),
    Column("partner_id", Uuid, nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
    Index("ix_school_partners_partner_id", "partner_id"),
)
