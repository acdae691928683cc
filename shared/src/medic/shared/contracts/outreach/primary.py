"""The primary-school health-education programme: sessions that medical students teach in primary schools.

Events carry ids and counts only: the session, its term, the school's URN, the topic's id, the year group and key
stage, and, once delivered, how many pupils and classes were taught. Pupils are under 13 and never appear, not even
by id; no event carries free text (teachers' comments, students' reflections, a cancellation's reason) or names.
Medical students appear by their user id (the token's `sub`), a pseudonymous id.
"""

import datetime as dt
import uuid
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class YearGroup(StrEnum):
    RECEPTION = "reception"
    YEAR_1 = "year_1"
    YEAR_2 = "year_2"
    YEAR_3 = "year_3"
    YEAR_4 = "year_4"
    YEAR_5 = "year_5"
    YEAR_6 = "year_6"


class KeyStage(StrEnum):
    """Derived from the year group: Reception is the early years foundation stage, Years 1-2 KS1, 3-6 KS2."""

    EYFS = "eyfs"
    KS1 = "ks1"
    KS2 = "ks2"


class SessionV1(EventPayload):
    """What every session event carries: which session, in which term, at which school."""

    source: ClassVar[str] = SOURCE

    session_id: uuid.UUID = Field(description="The session's id in outreach.")
    term_id: uuid.UUID = Field(description="The term the session belongs to.")
    urn: str = Field(description="The school's URN, 6 digits.", examples=["100000"])


class SessionPlannedV1(SessionV1):
    """A coordinator planned a session."""

    event_type: ClassVar[str] = "outreach.session.planned.v1"

    date: dt.date = Field(description="The day of the session.")
    year_group: YearGroup
    key_stage: KeyStage
    topic_id: str = Field(description="The topic's id in the catalogue.", examples=["healthy_eating"])
    student_ids: list[str] = Field(description="The delivering medical students' user ids (pseudonymous).")


class SessionPlanReviewedV1(SessionV1):
    """The session's plan was reviewed by a coordinator."""

    event_type: ClassVar[str] = "outreach.session.plan_reviewed.v1"


class SessionDeliveredV1(SessionV1):
    """The session was taught: counts only, never a pupil."""

    event_type: ClassVar[str] = "outreach.session.delivered.v1"

    date: dt.date = Field(description="The day of the session.")
    year_group: YearGroup
    key_stage: KeyStage
    topic_id: str = Field(examples=["healthy_eating"])
    pupils: int = Field(ge=0, description="How many pupils were taught.")
    classes: int = Field(ge=0, description="How many classes were taught.")
    teacher_present_throughout: bool


class SessionFeedbackCollectedV1(SessionV1):
    """The session's feedback is in (its content stays in outreach)."""

    event_type: ClassVar[str] = "outreach.session.feedback_collected.v1"


class SessionClosedV1(SessionV1):
    event_type: ClassVar[str] = "outreach.session.closed.v1"


class SessionCancelledV1(SessionV1):
    """The session will not take place (the reason stays in outreach)."""

    event_type: ClassVar[str] = "outreach.session.cancelled.v1"


PUBLISHED: tuple[type[EventPayload], ...] = (
    SessionPlannedV1,
    SessionPlanReviewedV1,
    SessionDeliveredV1,
    SessionFeedbackCollectedV1,
    SessionClosedV1,
    SessionCancelledV1,
)
