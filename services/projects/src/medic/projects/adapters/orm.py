"""The projects database schema (SQLAlchemy Core), one module per area. Migrations in `migrations/` create it."""

from medic.shared.inbox import inbox_table
from medic.shared.outbox import outbox_table

from .metadata import metadata
from .orm_assessment import assessor_marks, moderated_marks, prize_nominations, reflections, rubrics
from .orm_milestones import cohort_milestones, fired_timers
from .orm_partners import partners
from .orm_projects import project_history, project_partners, projects
from .orm_setup import (
    cohorts,
    group_students,
    group_supervisors,
    groups,
    practices,
    students,
    supervisor_practices,
    supervisors,
)
from .orm_verification import verification_links

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

__all__ = [
    "assessor_marks",
    "cohort_milestones",
    "cohorts",
    "fired_timers",
    "group_students",
    "group_supervisors",
    "groups",
    "inbox",
    "metadata",
    "moderated_marks",
    "outbox",
    "partners",
    "practices",
    "prize_nominations",
    "project_history",
    "project_partners",
    "projects",
    "reflections",
    "rubrics",
    "students",
    "supervisor_practices",
    "supervisors",
    "verification_links",
]
