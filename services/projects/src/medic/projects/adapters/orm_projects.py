"""Tables of Community Action Projects.

The columns that lists filter, sort and search on are columns; the QI content (need, aim, measures,
governance, delivery, evaluation, showcase, progress) is one JSON document, read and written whole with the
project. `version` guards against lost updates between two editors.
"""

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Table, Text, Uuid

from medic.shared.db import UtcDateTime

from .metadata import metadata

projects = Table(
    "projects",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("cohort_id", Uuid, ForeignKey("cohorts.id"), nullable=False, index=True),
    Column("group_id", Uuid, ForeignKey("groups.id"), nullable=False, unique=True),  # one project per group
    Column("practice_id", Uuid, ForeignKey("practices.id"), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("topic", String(100), nullable=False, index=True),
    Column("need_summary", Text, nullable=False),  # searched with the title
    Column("state", String(30), nullable=False, index=True),
    Column("paused_from", String(30), nullable=True),
    Column("content", JSON, nullable=False),
    Column("assessment_complete", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

project_partners = Table(
    "project_partners",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", Uuid, ForeignKey("partners.id"), primary_key=True, index=True),
    Column("position", Integer, nullable=False),  # 0 is the lead partner
)

# What happened to each project and why: every lifecycle action, who took it and the reason they gave. The
# reasons (changes requested, rejection, withdrawal) are for the project's people and never go on the bus.
project_history = Table(
    "project_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("action", String(30), nullable=False),
    Column("from_state", String(30), nullable=False),
    Column("to_state", String(30), nullable=False),
    Column("taken_by", String(200), nullable=False),
    Column("reason", Text, nullable=True),
    Column("taken_at", UtcDateTime, nullable=False),
)
