"""Surveys: versioned pre/post questionnaires of Likert items, and participants' responses to them.

Events carry ids, versions, counts and kinds only. Never an answer, never an item's text, never a name or any
free text: a response appears by its id, its participant's pseudonymous id and what it answered (questionnaire,
version, pre or post), not by what was answered.
"""

import uuid
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class ResponseKind(StrEnum):
    PRE = "pre"  # before the programme or activity
    POST = "post"  # after it


class QuestionnaireVersionPublishedV1(EventPayload):
    """A questionnaire version can be answered: a new questionnaire's first version, a new version, or an unused
    version corrected (then the newest event for the version is the record)."""

    source: ClassVar[str] = SOURCE
    event_type: ClassVar[str] = "outreach.survey.questionnaire_version_published.v1"

    questionnaire_id: uuid.UUID = Field(description="The questionnaire's id in outreach.")
    version: int = Field(description="1, 2, ...: a change to a used version's items is a new version.", examples=[1])
    items: int = Field(description="How many Likert 1-5 items the version has.", examples=[12])


class SurveyResponseRecordedV1(EventPayload):
    """A participant's response to a questionnaire version was recorded (its answers are not in the event)."""

    source: ClassVar[str] = SOURCE
    event_type: ClassVar[str] = "outreach.survey.response_recorded.v1"

    response_id: uuid.UUID = Field(description="The response's id in outreach.")
    questionnaire_id: uuid.UUID
    version: int = Field(examples=[1])
    participant_id: uuid.UUID = Field(description="The participant's pseudonymous id.")
    cycle_id: uuid.UUID = Field(description="The WATCCH cycle the response counts for.")
    activity_id: uuid.UUID | None = Field(description="The activity it was collected at, if any.")
    kind: ResponseKind


PUBLISHED: tuple[type[EventPayload], ...] = (QuestionnaireVersionPublishedV1, SurveyResponseRecordedV1)
