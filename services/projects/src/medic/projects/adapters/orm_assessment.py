"""Tables of assessment: a rubric per cohort, each assessor's marks, the moderated marks and their release,
prize nominations, and students' reflections. Marks are JSON objects of criterion key to mark."""

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

rubrics = Table(
    "rubrics",
    metadata,
    Column("cohort_id", Uuid, ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("criteria", JSON, nullable=False),  # [{key, title, descriptor, max_mark, weight}], in order
    Column("updated_at", UtcDateTime, nullable=False),
)

assessor_marks = Table(
    "assessor_marks",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("assessor", String(200), primary_key=True),  # the assessor's user id
    Column("cohort_id", Uuid, ForeignKey("cohorts.id"), nullable=False, index=True),  # locks the rubric
    Column("marks", JSON, nullable=False),
    Column("comment", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

moderated_marks = Table(
    "moderated_marks",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("cohort_id", Uuid, ForeignKey("cohorts.id"), nullable=False, index=True),
    Column("marks", JSON, nullable=False),
    Column("note", Text, nullable=False),
    Column("moderated_by", String(200), nullable=False),
    Column("moderated_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime, nullable=True),  # students see the marks from then on
)

prize_nominations = Table(
    "prize_nominations",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("nominator", String(200), primary_key=True),  # one nomination per supervisor per project
    Column("cohort_id", Uuid, ForeignKey("cohorts.id"), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("nominated_at", UtcDateTime, nullable=False),
)

reflections = Table(
    "reflections",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("student_id", Uuid, ForeignKey("students.id"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
