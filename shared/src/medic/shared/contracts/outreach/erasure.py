"""Erasure ("forget me") and the yearly retention sweep.

Ids, dates and counts only: an erasure event says whose record was erased and when, never what it held; a retention
review's events carry counts, never who was listed.
"""

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class ParticipantErasedV1(EventPayload):
    """A WATCCH participant was erased: every service deletes or anonymises what it holds about this id (the
    pseudonymous id may stay in aggregate counts)."""

    event_type: ClassVar[str] = "outreach.participant.erased.v1"
    source: ClassVar[str] = SOURCE

    participant_id: uuid.UUID = Field(description="The erased participant's pseudonymous id.")
    erased_at: datetime = Field(description="When outreach erased the personal details.")
    erasure_id: uuid.UUID = Field(description="Outreach's erasure record (the proof kept for accountability).")


class PartnerErasureNoticeRequestedV1(EventPayload):
    """A partner who may have been sent data about an erased participant (named in a partner-sharing consent) is
    to be told to erase it too; the partner webhook work delivers the notice."""

    event_type: ClassVar[str] = "outreach.partner_erasure_notice.requested.v1"
    source: ClassVar[str] = SOURCE

    partner_id: uuid.UUID = Field(description="The partner organisation to tell.")
    participant_id: uuid.UUID = Field(description="The erased participant's pseudonymous id.")
    erasure_id: uuid.UUID = Field(description="Outreach's erasure record.")


class SafeguardingPersonErasedV1(EventPayload):
    """A medical student's safeguarding record (and mentor profile) was erased after they left."""

    event_type: ClassVar[str] = "outreach.safeguarding_person.erased.v1"
    source: ClassVar[str] = SOURCE

    person_id: str = Field(description="The person's id (the university id their token names).", examples=["2301234"])
    erased_at: datetime = Field(description="When outreach erased the record.")
    erasure_id: uuid.UUID = Field(description="Outreach's erasure record.")


class RetentionReviewListedV1(EventPayload):
    """The yearly retention review listed the records past their retention period, for coordinators to review."""

    event_type: ClassVar[str] = "outreach.retention_review.listed.v1"
    source: ClassVar[str] = SOURCE

    review_id: uuid.UUID = Field(description="The review.")
    year: int = Field(description="The review's year (listed on or after 1 September of it).", examples=[2026])
    participants: int = Field(description="WATCCH participants listed.", examples=[12])
    safeguarding_people: int = Field(description="Medical students' safeguarding records listed.", examples=[3])
    erase_from: date = Field(description="The day from which what is listed and not kept is erased.")


class RetentionReviewCompletedV1(EventPayload):
    """The yearly retention review is done: everything listed and not kept is erased (a review whose erasures
    failed is run again until none is left, and completes then)."""

    event_type: ClassVar[str] = "outreach.retention_review.completed.v1"
    source: ClassVar[str] = SOURCE

    review_id: uuid.UUID = Field(description="The review.")
    year: int = Field(description="The review's year.", examples=[2026])
    listed: int = Field(description="Records listed.", examples=[15])
    kept: int = Field(description="Records a coordinator kept, with a reason.", examples=[1])
    erased: int = Field(description="Records erased (including any erased otherwise meanwhile).", examples=[14])


PUBLISHED: tuple[type[EventPayload], ...] = (
    ParticipantErasedV1,
    PartnerErasureNoticeRequestedV1,
    SafeguardingPersonErasedV1,
    RetentionReviewListedV1,
    RetentionReviewCompletedV1,
)
