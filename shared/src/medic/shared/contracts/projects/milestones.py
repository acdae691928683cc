"""Events about a cohort's milestones and the reminders the projects service's scheduler sends for them.

A reminder names the project, its cohort and group, the milestone and its date: ids only. Notifications finds
whom to write to (the group's students and supervisors) by asking projects; no name or address travels here.
"""

import uuid
from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

_SOURCE = "/services/projects"


class MilestoneKind(StrEnum):
    """The dates a cohort's projects work towards."""

    PROPOSAL_DUE = "proposal_due"
    GOVERNANCE_DUE = "governance_due"
    EVALUATION_DUE = "evaluation_due"
    SHOWCASE = "showcase"


class CohortMilestoneSetV1(EventPayload):
    """A coordinator set (or moved) one of a cohort's milestones."""

    event_type: ClassVar[str] = "projects.cohort_milestone.set.v1"
    source: ClassVar[str] = _SOURCE

    cohort_id: uuid.UUID = Field(description="The cohort (academic year) the milestone belongs to.")
    milestone: MilestoneKind = Field(description="Which milestone.")
    due_on: date = Field(description="The day it is due, a Europe/London calendar date.")


class MilestoneReminderV1(EventPayload):
    """Base of the reminders: a project has not yet met one of its cohort's milestones."""

    source: ClassVar[str] = _SOURCE

    project_id: uuid.UUID = Field(description="The project that has not met the milestone.")
    cohort_id: uuid.UUID = Field(description="The project's cohort, whose milestone it is.")
    group_id: uuid.UUID = Field(description="The student group running the project.")
    milestone: MilestoneKind = Field(description="Which milestone.")
    due_on: date = Field(description="The day it is due, a Europe/London calendar date.")


class MilestoneApproachingV1(MilestoneReminderV1):
    """A milestone the project has not met is due within 7 days (sent once, 7 days before, or when set later)."""

    event_type: ClassVar[str] = "projects.milestone.approaching.v1"


class MilestoneDueV1(MilestoneReminderV1):
    """A milestone the project has not met is due today."""

    event_type: ClassVar[str] = "projects.milestone.due.v1"


class MilestoneOverdueV1(MilestoneReminderV1):
    """A milestone the project has not met was due yesterday or earlier."""

    event_type: ClassVar[str] = "projects.milestone.overdue.v1"


PUBLISHED: tuple[type[EventPayload], ...] = (
    CohortMilestoneSetV1,
    MilestoneApproachingV1,
    MilestoneDueV1,
    MilestoneOverdueV1,
)
