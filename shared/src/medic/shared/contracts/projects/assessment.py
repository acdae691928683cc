"""Events about the assessment of Community Action Projects, published by the projects service.

They say that something happened and to which project or cohort: never a mark, a total, a moderator's note, a
nomination's reason or a reflection's text (those stay in projects, behind its access rules).
"""

import uuid
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .projects import ProjectFacts

_SOURCE = "/services/projects"


class CohortRubricSetV1(EventPayload):
    """A coordinator defined or changed a cohort's marking rubric (only possible before any mark is given)."""

    event_type: ClassVar[str] = "projects.cohort.rubric_set.v1"
    source: ClassVar[str] = _SOURCE

    cohort_id: uuid.UUID = Field(description="The cohort (academic year) whose rubric it is.")
    criteria: list[str] = Field(max_length=20, description="The criteria's keys, in the rubric's order.")


class ProjectMarksRecordedV1(ProjectFacts):
    """An assessor recorded or changed their marks for a showcased project (the marks are not in the event)."""

    event_type: ClassVar[str] = "projects.project.marks_recorded.v1"
    assessment_complete: bool = Field(
        description="Whether some assessor has now given every criterion's mark (then it may be assessed)."
    )


class ProjectMarksModeratedV1(ProjectFacts):
    """A coordinator recorded the project's agreed (moderated) marks."""

    event_type: ClassVar[str] = "projects.project.marks_moderated.v1"


class CohortMarksReleasedV1(EventPayload):
    """A coordinator released moderated marks of a cohort to its students."""

    event_type: ClassVar[str] = "projects.cohort.marks_released.v1"
    source: ClassVar[str] = _SOURCE

    cohort_id: uuid.UUID = Field(description="The cohort whose marks were released.")
    project_ids: list[uuid.UUID] = Field(
        max_length=1000, description="The projects whose marks were released by this release."
    )


class ProjectNominatedForPrizeV1(ProjectFacts):
    """A supervisor nominated the project for the cohort's prize (the reason is not in the event)."""

    event_type: ClassVar[str] = "projects.project.nominated_for_prize.v1"
    nominations: int = Field(ge=1, description="How many supervisors have nominated it so far.")


class ProjectReflectionWrittenV1(ProjectFacts):
    """A student wrote or edited their own reflection on the project (the text is not in the event)."""

    event_type: ClassVar[str] = "projects.project.reflection_written.v1"
    student_id: uuid.UUID = Field(description="The student whose reflection it is (an id, never a name).")


PUBLISHED: tuple[type[EventPayload], ...] = (
    CohortRubricSetV1,
    ProjectMarksRecordedV1,
    ProjectMarksModeratedV1,
    CohortMarksReleasedV1,
    ProjectNominatedForPrizeV1,
    ProjectReflectionWrittenV1,
)
