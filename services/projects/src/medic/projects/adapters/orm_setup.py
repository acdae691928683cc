"""Tables of a CAP year's set-up: cohorts, GP practices, supervisors, students and groups.

People are linked to their tokens by `user_id` (supervisors) and `university_id` (students): the `sub`
claim of the bearer tokens they call the API with.
"""

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, UniqueConstraint, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

cohorts = Table(
    "cohorts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("academic_year", String(7), nullable=False, unique=True),  # e.g. 2026-27
    Column("placement_start", Date, nullable=False),
    Column("placement_end", Date, nullable=False),
    Column("min_group_size", Integer, nullable=False),
    Column("max_group_size", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

practices = Table(
    "practices",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("ods_code", String(10), nullable=False, unique=True),  # NHS ODS code, upper case
    Column("area", String(100), nullable=False),  # area or borough
    Column("created_at", UtcDateTime, nullable=False),
)

supervisors = Table(
    "supervisors",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", String(200), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

supervisor_practices = Table(
    "supervisor_practices",
    metadata,
    Column("supervisor_id", Uuid, ForeignKey("supervisors.id", ondelete="CASCADE"), primary_key=True),
    Column("practice_id", Uuid, ForeignKey("practices.id", ondelete="CASCADE"), primary_key=True),
)

students = Table(
    "students",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("university_id", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("cohort_id", Uuid, ForeignKey("cohorts.id"), nullable=False, index=True),
    Column("practice_id", Uuid, ForeignKey("practices.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("cohort_id", "name", name="uq_groups_cohort_name"),
)

group_students = Table(
    "group_students",
    metadata,
    Column("group_id", Uuid, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("student_id", Uuid, ForeignKey("students.id"), primary_key=True),
    Column("cohort_id", Uuid, ForeignKey("cohorts.id"), nullable=False),
    # Each student is in one group per cohort.
    UniqueConstraint("cohort_id", "student_id", name="uq_group_students_one_group_per_cohort"),
)

group_supervisors = Table(
    "group_supervisors",
    metadata,
    Column("group_id", Uuid, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("supervisor_id", Uuid, ForeignKey("supervisors.id"), primary_key=True),
)
