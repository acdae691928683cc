"""WATCCH progression outcomes: a participant applied to, was offered a place on, or enrolled on a healthcare course.

Events carry ids and codes only: the outcome's id, the participant's pseudonymous id, the stage, the course type,
the year of entry and where the fact came from. Never a name, an institution, a course title or any free text.
"""

import uuid
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class OutcomeStage(StrEnum):
    """How far the participant got with a course, in order: applied, then offered, then enrolled."""

    APPLIED = "applied"
    OFFERED = "offered"  # any offer, conditional or unconditional
    ENROLLED = "enrolled"  # started the course


class CourseType(StrEnum):
    """The healthcare course, by profession. Allied health covers the NHS's allied health professions (art, drama
    and music therapy, dietetics, occupational therapy, operating department practice, orthoptics, osteopathy,
    paramedic science, physiotherapy, podiatry, prosthetics and orthotics, diagnostic and therapeutic radiography,
    speech and language therapy). Other healthcare: any healthcare degree not listed (e.g. optometry, healthcare
    science, physician associate studies)."""

    MEDICINE = "medicine"
    DENTISTRY = "dentistry"
    NURSING = "nursing"
    MIDWIFERY = "midwifery"
    PHARMACY = "pharmacy"
    ALLIED_HEALTH = "allied_health"
    OTHER_HEALTHCARE = "other_healthcare"


class OutcomeSource(StrEnum):
    SELF_REPORTED = "self_reported"  # the participant told us
    UCAS = "ucas"  # from UCAS data (applications and offers)
    HESA = "hesa"  # from the HESA student record (enrolments)


class OutcomeRecordedV1(EventPayload):
    """A coordinator recorded a participant's progression outcome."""

    source: ClassVar[str] = SOURCE
    event_type: ClassVar[str] = "outreach.outcome.recorded.v1"

    outcome_id: uuid.UUID = Field(description="The outcome's id in outreach.")
    participant_id: uuid.UUID = Field(description="The participant's pseudonymous id.")
    stage: OutcomeStage
    course_type: CourseType
    entry_year: int = Field(description="The calendar year the course starts (2028 for 2028/29).", examples=[2028])
    outcome_source: OutcomeSource = Field(description="Where the fact came from.")


PUBLISHED: tuple[type[EventPayload], ...] = (OutcomeRecordedV1,)
