"""Commands of the primary-school programme, and who is asking."""

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from medic.outreach.domain.primary import FaceCounts, Level
from medic.outreach.domain.primary_lifecycle import Action
from medic.shared.contracts.outreach.primary import YearGroup


@dataclass(frozen=True)
class Caller:
    """The caller as the programme sees them: their user id, whether they coordinate, their organisation."""

    user_id: str
    coordinator: bool
    organisation_id: uuid.UUID | None
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class CreateTerm:
    name: str
    academic_year: str
    starts_on: dt.date
    ends_on: dt.date


@dataclass(frozen=True)
class PlanSession:
    term_id: uuid.UUID
    urn: str
    date: dt.date
    starts_at: dt.time
    ends_at: dt.time
    year_group: YearGroup
    topic_id: str
    level: Level
    student_ids: Sequence[str]


@dataclass(frozen=True)
class TakeAction:
    session_id: uuid.UUID
    action: Action
    reason: str | None


@dataclass(frozen=True)
class RecordDelivery:
    session_id: uuid.UUID
    pupils: int
    classes: int
    teacher_present_throughout: bool


@dataclass(frozen=True)
class GiveTeacherFeedback:
    session_id: uuid.UUID
    form_version: int
    scores: Mapping[str, int]
    comments: str | None


@dataclass(frozen=True)
class GivePupilFeedback:
    session_id: uuid.UUID
    form_version: int
    counts: Sequence[FaceCounts]


@dataclass(frozen=True)
class WriteReflection:
    session_id: uuid.UUID
    text: str
