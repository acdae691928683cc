"""Events about a CAP year's set-up (cohorts, practices, supervisors, students, groups), published by projects.

They carry ids and what other services need, never a student's or supervisor's name or email: those travel only
in `projects.contact_address.set.v1` (contacts.py), for the notifications service's directory of addresses.
"""

import uuid
from datetime import date
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

SOURCE = "/services/projects"


class CohortV1(EventPayload):
    """What every cohort event carries: the cohort as it now is."""

    source: ClassVar[str] = SOURCE

    cohort_id: uuid.UUID = Field(description="The cohort's id, the same in every event about it.")
    academic_year: str = Field(description="The academic year, `YYYY-YY`, e.g. `2026-27`.", examples=["2026-27"])
    placement_start: date = Field(description="First day of the GP placement.")
    placement_end: date = Field(description="Last day of the GP placement.")
    min_group_size: int = Field(ge=1, description="Fewest students a formed group of this cohort has.")
    max_group_size: int = Field(ge=1, description="Most students a group of this cohort has.")


class CohortCreatedV1(CohortV1):
    """A cohort (a CAP year) was set up."""

    event_type: ClassVar[str] = "projects.cohort.created.v1"


class CohortChangedV1(CohortV1):
    """A cohort's placement dates or group-size range changed."""

    event_type: ClassVar[str] = "projects.cohort.changed.v1"


class PracticeV1(EventPayload):
    """What every GP practice event carries: the practice as it now is (an organisation: no personal data)."""

    source: ClassVar[str] = SOURCE

    practice_id: uuid.UUID = Field(description="The practice's id, the same in every event about it.")
    ods_code: str = Field(description="The practice's NHS ODS code, upper case.", examples=["Y03053"])
    name: str = Field(description="The practice's name.")
    area: str = Field(description="The area or borough the practice serves.")


class PracticeRegisteredV1(PracticeV1):
    """A GP practice that hosts CAP groups was registered."""

    event_type: ClassVar[str] = "projects.practice.registered.v1"


class PracticeChangedV1(PracticeV1):
    """A GP practice's name, ODS code or area changed."""

    event_type: ClassVar[str] = "projects.practice.changed.v1"


class SupervisorV1(EventPayload):
    """A supervisor by id, with the practices they are linked to. Never their name or email."""

    source: ClassVar[str] = SOURCE

    supervisor_id: uuid.UUID = Field(description="The supervisor's id, the same in every event about them.")
    practice_ids: list[uuid.UUID] = Field(description="The GP practices the supervisor is linked to.")


class SupervisorRegisteredV1(SupervisorV1):
    """A supervisor (a GP tutor) was registered."""

    event_type: ClassVar[str] = "projects.supervisor.registered.v1"


class SupervisorChangedV1(SupervisorV1):
    """A supervisor's details or practice links changed (the details themselves stay in projects)."""

    event_type: ClassVar[str] = "projects.supervisor.changed.v1"


class StudentRegisteredV1(EventPayload):
    """A student was registered. Only the id: name, email and university id stay in projects."""

    event_type: ClassVar[str] = "projects.student.registered.v1"
    source: ClassVar[str] = SOURCE

    student_id: uuid.UUID = Field(description="The student's id, the same in every event about them.")


class StudentChangedV1(EventPayload):
    """A student's details changed (the details themselves stay in projects)."""

    event_type: ClassVar[str] = "projects.student.changed.v1"
    source: ClassVar[str] = SOURCE

    student_id: uuid.UUID = Field(description="The student's id.")


class GroupV1(EventPayload):
    """A group as it now is, by ids: its cohort, practice, students and supervisors."""

    source: ClassVar[str] = SOURCE

    group_id: uuid.UUID = Field(description="The group's id, the same in every event about it.")
    cohort_id: uuid.UUID = Field(description="The cohort the group belongs to.")
    practice_id: uuid.UUID = Field(description="The GP practice the group is placed at.")
    name: str = Field(description="The group's name within its cohort, e.g. `A1`.", examples=["A1"])
    student_ids: list[uuid.UUID] = Field(description="The group's students, by student id.")
    supervisor_ids: list[uuid.UUID] = Field(description="The group's supervisors, by supervisor id.")


class GroupCreatedV1(GroupV1):
    """A group was created (possibly still empty: it is filled afterwards)."""

    event_type: ClassVar[str] = "projects.group.created.v1"


class GroupChangedV1(GroupV1):
    """A group's students, supervisors or practice changed."""

    event_type: ClassVar[str] = "projects.group.changed.v1"


class GroupFormedV1(GroupV1):
    """A group has just reached its cohort's minimum size (it had fewer): it can start its project.
    Published after the `projects.group.created.v1` or `.changed.v1` of the same change."""

    event_type: ClassVar[str] = "projects.group.formed.v1"


PUBLISHED: tuple[type[EventPayload], ...] = (
    CohortCreatedV1,
    CohortChangedV1,
    PracticeRegisteredV1,
    PracticeChangedV1,
    SupervisorRegisteredV1,
    SupervisorChangedV1,
    StudentRegisteredV1,
    StudentChangedV1,
    GroupCreatedV1,
    GroupChangedV1,
    GroupFormedV1,
)
