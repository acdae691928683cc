"""Commands of a CAP year's set-up. `None` in a change command means "leave as it is"."""

import uuid
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class CreateCohort:
    academic_year: str
    placement_start: date
    placement_end: date
    min_group_size: int
    max_group_size: int
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class ChangeCohort:
    cohort_id: uuid.UUID
    correlation_id: uuid.UUID
    placement_start: date | None = None
    placement_end: date | None = None
    min_group_size: int | None = None
    max_group_size: int | None = None


@dataclass(frozen=True)
class RegisterPractice:
    name: str
    ods_code: str
    area: str
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class ChangePractice:
    practice_id: uuid.UUID
    correlation_id: uuid.UUID
    name: str | None = None
    ods_code: str | None = None
    area: str | None = None


@dataclass(frozen=True)
class RegisterSupervisor:
    user_id: str
    name: str
    email: str
    correlation_id: uuid.UUID
    practice_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class ChangeSupervisor:
    supervisor_id: uuid.UUID
    correlation_id: uuid.UUID
    name: str | None = None
    email: str | None = None
    practice_ids: list[uuid.UUID] | None = None  # the whole new set: links and unlinks at once


@dataclass(frozen=True)
class RegisterStudent:
    university_id: str
    name: str
    email: str
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class CreateGroup:
    cohort_id: uuid.UUID
    practice_id: uuid.UUID
    name: str
    correlation_id: uuid.UUID
    student_ids: list[uuid.UUID] = field(default_factory=list)
    supervisor_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class ChangeGroupMember:
    """Add (`add=True`) or remove a student or a supervisor (`member_id`) of a group."""

    group_id: uuid.UUID
    member_id: uuid.UUID
    add: bool
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class ImportCsv:
    """A CSV file of practices, students or groups, decoded to text."""

    text: str
    correlation_id: uuid.UUID
