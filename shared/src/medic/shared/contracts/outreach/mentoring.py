"""Events of WATCCH mentoring: programmes, matches between a medical student (mentor) and a participant, and the
mentoring sessions they log.

Ids, codes, dates and counts only: a mentor appears by their university id, a participant by their pseudonymous id;
no name, no interest a person typed, no session notes, no reason a person wrote. An automatic pause names the unmet
conditions by their codes (e.g. `consent_withdrawn`, `dbs_recheck_overdue`).
"""

import uuid
from datetime import date
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class MentoringProgrammeCreatedV1(EventPayload):
    """A coordinator set up a mentoring programme within a WATCCH cycle."""

    event_type: ClassVar[str] = "outreach.mentoring_programme.created.v1"
    source: ClassVar[str] = SOURCE

    programme_id: uuid.UUID = Field(description="The programme.")
    cycle_id: uuid.UUID = Field(description="The WATCCH cycle it runs in.")
    starts_on: date = Field(description="First day of the programme.")
    ends_on: date = Field(description="Last day of the programme.")


class MentoringMatchV1(EventPayload):
    """What every match event carries: which match, in which programme, between whom (by ids only)."""

    source: ClassVar[str] = SOURCE

    match_id: uuid.UUID = Field(description="The match.")
    programme_id: uuid.UUID = Field(description="The mentoring programme.")
    mentor_id: str = Field(description="The mentor: a medical student's university id.", examples=["2301234"])
    participant_id: uuid.UUID = Field(description="The mentee's pseudonymous id (never their details).")


class MentoringMatchProposedV1(MentoringMatchV1):
    """A coordinator proposed a match (the mentor was cleared and the participant's consents valid that day)."""

    event_type: ClassVar[str] = "outreach.mentoring_match.proposed.v1"


class MentoringMatchAcceptedV1(MentoringMatchV1):
    """The mentor accepted: the match is active."""

    event_type: ClassVar[str] = "outreach.mentoring_match.accepted.v1"


class MentoringMatchDeclinedV1(MentoringMatchV1):
    """The mentor declined the proposal."""

    event_type: ClassVar[str] = "outreach.mentoring_match.declined.v1"


class MentoringMatchPausedV1(MentoringMatchV1):
    """The match was paused: by a coordinator, or by the service itself when the mentor was no longer cleared or
    the participant's consents no longer valid (`automatic`, with the unmet conditions' codes)."""

    event_type: ClassVar[str] = "outreach.mentoring_match.paused.v1"

    automatic: bool = Field(description="True when the service paused it because a condition stopped holding.")
    reason_codes: list[str] = Field(
        description="The unmet conditions' codes (automatic pauses; empty for a coordinator's).",
        examples=[["consent_withdrawn"]],
    )


class MentoringMatchResumedV1(MentoringMatchV1):
    """A coordinator resumed a paused match (every condition held again)."""

    event_type: ClassVar[str] = "outreach.mentoring_match.resumed.v1"


class MentoringMatchCompletedV1(MentoringMatchV1):
    """The mentoring came to its planned end."""

    event_type: ClassVar[str] = "outreach.mentoring_match.completed.v1"


class MentoringMatchEndedV1(MentoringMatchV1):
    """The match ended early: a proposal withdrawn, a match ended by a coordinator, or by erasure of either person."""

    event_type: ClassVar[str] = "outreach.mentoring_match.ended.v1"

    previous_state: str = Field(description="The state it ended from.", examples=["active"])
    by_erasure: bool = Field(description="True when it ended because one of the two people was erased.")


class MentoringSessionLoggedV1(EventPayload):
    """A mentoring session was logged (never its notes)."""

    event_type: ClassVar[str] = "outreach.mentoring_session.logged.v1"
    source: ClassVar[str] = SOURCE

    session_id: uuid.UUID = Field(description="The session.")
    match_id: uuid.UUID = Field(description="The match it belongs to.")
    programme_id: uuid.UUID = Field(description="The mentoring programme.")
    mentor_id: str = Field(description="The mentor: a medical student's university id.", examples=["2301234"])
    participant_id: uuid.UUID = Field(description="The mentee's pseudonymous id.")
    held_on: date = Field(description="The day it took place.")
    mode: str = Field(description="in_person, online or phone.", examples=["online"])
    topic: str = Field(description="The topic's code.", examples=["personal_statement"])
    minutes: int = Field(description="How long it lasted.", examples=[45])


PUBLISHED: tuple[type[EventPayload], ...] = (
    MentoringProgrammeCreatedV1,
    MentoringMatchProposedV1,
    MentoringMatchAcceptedV1,
    MentoringMatchDeclinedV1,
    MentoringMatchPausedV1,
    MentoringMatchResumedV1,
    MentoringMatchCompletedV1,
    MentoringMatchEndedV1,
    MentoringSessionLoggedV1,
)
