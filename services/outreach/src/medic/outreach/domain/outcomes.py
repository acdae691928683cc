"""WATCCH progression outcomes: applied to, offered a place on, enrolled on a healthcare course. No I/O.

An outcome is a fact about a participant (by pseudonymous id) from one source: the stage reached, the course type,
the year of entry and the date it happened. The same fact from the same source is recorded once; the same stage
from another source (self-reported, then confirmed by UCAS or HESA) is a second record, so a report can say how
many outcomes were confirmed. No free text: no institution, no course title.
"""

import uuid
from dataclasses import dataclass
from datetime import date

from medic.shared.contracts.outreach.outcomes import CourseType, OutcomeSource, OutcomeStage

FIRST_ENTRY_YEAR = 2000
YEARS_AHEAD = 3  # an application may be for entry up to this many years after it is recorded (deferred entry)


class InvalidOutcome(ValueError):
    """Bad input; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class OutcomeNotFound(Exception):
    """No such participant (or outcome)."""


class OutcomeConflict(Exception):
    """The same outcome from the same source is recorded already."""


ALREADY_RECORDED = "this outcome (stage, course type and year of entry) is already recorded from this source"


@dataclass(frozen=True)
class Outcome:
    id: uuid.UUID
    participant_id: uuid.UUID
    stage: OutcomeStage
    course_type: CourseType
    entry_year: int
    source: OutcomeSource
    occurred_on: date  # when the participant applied, received the offer or enrolled

    @property
    def key(self) -> tuple[uuid.UUID, OutcomeStage, CourseType, int, OutcomeSource]:
        return (self.participant_id, self.stage, self.course_type, self.entry_year, self.source)

    @classmethod
    def record(
        cls,
        *,
        participant_id: uuid.UUID,
        stage: OutcomeStage,
        course_type: CourseType,
        entry_year: int,
        source: OutcomeSource,
        occurred_on: date,
        today: date,
    ) -> "Outcome":
        if occurred_on > today:
            raise InvalidOutcome(
                "occurred_on", "an outcome is recorded once it has happened: the date is not in the future"
            )
        if not FIRST_ENTRY_YEAR <= entry_year <= today.year + YEARS_AHEAD:
            raise InvalidOutcome(
                "entry_year", f"the year of entry is between {FIRST_ENTRY_YEAR} and {today.year + YEARS_AHEAD}"
            )
        if occurred_on.year > entry_year:
            raise InvalidOutcome(
                "occurred_on", "an application, offer or enrolment happens in or before the year of entry"
            )
        return cls(uuid.uuid4(), participant_id, stage, course_type, entry_year, source, occurred_on)


@dataclass(frozen=True)
class RecordOutcome:
    participant_id: uuid.UUID
    stage: OutcomeStage
    course_type: CourseType
    entry_year: int
    source: OutcomeSource
    occurred_on: date
    correlation_id: uuid.UUID


STAGE_ORDER = (OutcomeStage.APPLIED, OutcomeStage.OFFERED, OutcomeStage.ENROLLED)


def furthest_stage(outcomes: list[Outcome], course_types: frozenset[CourseType] | None = None) -> OutcomeStage | None:
    """The furthest stage a participant reached (for any of `course_types`; all if None). An enrolment implies an
    offer and an application, an offer an application, whatever was recorded."""
    reached = {o.stage for o in outcomes if course_types is None or o.course_type in course_types}
    return next((stage for stage in reversed(STAGE_ORDER) if stage in reached), None)


def reached(outcomes: list[Outcome], stage: OutcomeStage) -> bool:
    furthest = furthest_stage(outcomes)
    return furthest is not None and STAGE_ORDER.index(furthest) >= STAGE_ORDER.index(stage)
