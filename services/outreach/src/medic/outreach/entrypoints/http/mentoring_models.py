"""Request and response bodies of the mentoring API, and how its errors become HTTP answers."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from medic.outreach.domain.conditions import ConditionsUnmet, Unmet
from medic.outreach.domain.mentoring import (
    Action,
    InvalidMentoring,
    MenteePreferences,
    MentoringNotFound,
    MentoringSession,
    MentorProfile,
    PartOfDay,
    Programme,
    SessionMode,
    SessionTopic,
    Slot,
    State,
    TransitionRefused,
    Weekday,
)
from medic.outreach.service_layer.mentoring import MatchView, MentorView, SuggestionsView
from medic.shared.http_fields import NOT_TEXT, VISIBLE_TEXT, IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut

from .dependencies import ConditionsUnmetErrorOut, UnmetOut, conditions_unmet

PERSON_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$"
Interest = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", examples=["surgery"])]
Interests = Annotated[list[Interest], Field(max_length=30, examples=[["surgery", "applying_to_medicine"]])]
PersonId = Annotated[
    str, Field(pattern=PERSON_ID, description="A medical student's university id", examples=["2301234"])
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatchAction(StrEnum):
    """The actions taken through `/actions/{action}` (logging a session has its own route)."""

    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    END = "end"


# --- programmes -----------------------------------------------------------------------------------------------


class ProgrammeIn(Strict):
    cycle_id: uuid.UUID = Field(
        description="The WATCCH cycle it runs in", examples=["6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"]
    )
    name: str = Field(min_length=1, max_length=200, pattern=VISIBLE_TEXT, examples=["Mentoring 2026/27"])
    starts_on: IsoDate = Field(description="Within the cycle's programme dates", examples=["2027-01-16"])
    ends_on: IsoDate = Field(description="Within the cycle's programme dates", examples=["2027-07-10"])
    interests: Interests = Field(
        description="The interests mentors and mentees choose from (codes)",
        examples=[["surgery", "general_practice", "applying_to_medicine"]],
    )


class ProgrammeOut(BaseModel):
    id: uuid.UUID
    cycle_id: uuid.UUID
    name: str
    starts_on: date
    ends_on: date
    interests: list[str]

    @classmethod
    def of(cls, programme: Programme) -> "ProgrammeOut":
        return cls(
            id=programme.id, cycle_id=programme.cycle_id, name=programme.name, starts_on=programme.starts_on,
            ends_on=programme.ends_on, interests=list(programme.interests),
        )  # fmt: skip


# --- mentors and mentees --------------------------------------------------------------------------------------


class SlotIn(Strict):
    weekday: Weekday = Field(examples=["tuesday"])
    part_of_day: PartOfDay = Field(examples=["evening"])


Availability = Annotated[
    list[SlotIn], Field(max_length=21, examples=[[{"weekday": "tuesday", "part_of_day": "evening"}]])
]


def slots_of(body: list[SlotIn]) -> tuple[Slot, ...]:
    return tuple(Slot(s.weekday, s.part_of_day) for s in body)


class SlotOut(BaseModel):
    weekday: Weekday
    part_of_day: PartOfDay


def _slots_out(slots: tuple[Slot, ...]) -> list[SlotOut]:
    return [SlotOut(weekday=s.weekday, part_of_day=s.part_of_day) for s in slots]


class MentorIn(Strict):
    interests: Interests = Field(description="From the programme's interests")
    availability: Availability = Field(description="When they can meet: weekday and part of day")
    max_mentees: Annotated[int, Field(ge=1, le=10, examples=[2]), NOT_TEXT] = Field(
        description="The most mentees they take (proposed and active matches)"
    )
    about: str | None = Field(
        default=None, max_length=2000, pattern=VISIBLE_TEXT, examples=["Third-year student; ran a revision club"],
        description="In their own words, for coordinators (deleted if the mentor is erased)",
    )  # fmt: skip


class MentorOut(BaseModel):
    programme_id: uuid.UUID
    person_id: str
    interests: list[str]
    availability: list[SlotOut]
    max_mentees: int
    load: int = Field(description="Proposed and active matches")
    about: str | None

    @classmethod
    def of(cls, view: MentorView) -> "MentorOut":
        p: MentorProfile = view.profile
        return cls(
            programme_id=p.programme_id, person_id=p.person_id, interests=list(p.interests),
            availability=_slots_out(p.availability), max_mentees=p.max_mentees, load=view.load, about=p.about,
        )  # fmt: skip


class MenteeIn(Strict):
    interests: Interests = Field(description="From the programme's interests")
    availability: Availability = Field(description="When they can meet: weekday and part of day")


class MenteeOut(BaseModel):
    programme_id: uuid.UUID
    participant_id: uuid.UUID
    interests: list[str]
    availability: list[SlotOut]

    @classmethod
    def of(cls, preferences: MenteePreferences) -> "MenteeOut":
        return cls(
            programme_id=preferences.programme_id, participant_id=preferences.participant_id,
            interests=list(preferences.interests), availability=_slots_out(preferences.availability),
        )  # fmt: skip


# --- suggestions ----------------------------------------------------------------------------------------------


def unmet_out(unmet: tuple[Unmet, ...]) -> list[UnmetOut]:
    return [UnmetOut(code=u.code, message=u.message, subject=u.subject) for u in unmet]


class PartOut(BaseModel):
    part: str = Field(description="interests, availability or load", examples=["interests"])
    points: int
    because: str = Field(examples=["shares surgery"])


class RankedOut(BaseModel):
    rank: int = Field(description="1 is the best suited")
    mentor_id: str
    score: int = Field(description="The sum of the parts' points")
    parts: list[PartOut]
    shared_interests: list[str]
    shared_slots: list[str]
    load: int
    max_mentees: int


class UnavailableOut(BaseModel):
    mentor_id: str
    unmet: list[UnmetOut] = Field(description="Why they cannot be matched with this participant on the day")
    load: int
    max_mentees: int


class SuggestionsOut(BaseModel):
    participant_id: uuid.UUID
    on: date = Field(description="The day the mentors' clearance and the participant's consents are judged on")
    preferences_recorded: bool = Field(description="False: ranked by load alone (no interests or times recorded)")
    participant_unmet: list[UnmetOut] = Field(
        description="The participant's own unmet conditions that day: no match can be proposed until they are met"
    )
    ranked: list[RankedOut] = Field(description="Mentors who may take the participant, best first")
    unavailable: list[UnavailableOut] = Field(description="Mentors not cleared, full or already matched, never ranked")

    @classmethod
    def of(cls, view: SuggestionsView) -> "SuggestionsOut":
        s = view.suggestions
        return cls(
            participant_id=s.participant_id,
            on=view.on,
            preferences_recorded=view.preferences_recorded,
            participant_unmet=unmet_out(view.participant_unmet),
            ranked=[
                RankedOut(
                    rank=i,
                    mentor_id=r.mentor_id,
                    score=r.score,
                    parts=[PartOut(part=p.part, points=p.points, because=p.because) for p in r.parts],
                    shared_interests=list(r.shared_interests),
                    shared_slots=list(r.shared_slots),
                    load=r.load,
                    max_mentees=r.max_mentees,
                )
                for i, r in enumerate(s.ranked, start=1)
            ],
            unavailable=[
                UnavailableOut(mentor_id=u.mentor_id, unmet=unmet_out(u.unmet), load=u.load, max_mentees=u.max_mentees)
                for u in s.unavailable
            ],
        )


# --- matches and sessions -------------------------------------------------------------------------------------


class MatchIn(Strict):
    programme_id: uuid.UUID = Field(examples=["0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a"])
    mentor_id: PersonId
    participant_id: uuid.UUID = Field(
        description="The mentee's pseudonymous id (enrolled in the programme's cycle)",
        examples=["3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b"],
    )


class MatchOut(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    mentor_id: str
    participant_id: uuid.UUID
    state: State
    proposed_at: datetime
    active_since: datetime | None = Field(description="When it last became active")
    first_active_on: date | None = Field(description="Sessions are logged on or after this day")
    paused_automatically: bool = Field(description="Paused by the service because a condition stopped holding")
    pause_reasons: list[str] = Field(description="The unmet conditions' codes of an automatic pause")
    allowed_actions: list[Action] = Field(description="What the caller may do now (guards are judged when taken)")

    @classmethod
    def of(cls, view: MatchView) -> "MatchOut":
        m = view.match
        return cls(
            id=m.id, programme_id=m.programme_id, mentor_id=m.mentor_id, participant_id=m.participant_id,
            state=m.state, proposed_at=m.proposed_at, active_since=m.active_since, first_active_on=m.first_active_on,
            paused_automatically=m.paused_automatically, pause_reasons=list(m.pause_reasons),
            allowed_actions=list(view.actions),
        )  # fmt: skip


class SessionIn(Strict):
    held_on: IsoDate = Field(description="The day it took place: not in the future", examples=["2027-02-09"])
    mode: SessionMode = Field(examples=["online"])
    minutes: Annotated[int, Field(ge=5, le=480, examples=[45]), NOT_TEXT]
    topic: SessionTopic = Field(examples=["personal_statement"])
    notes: str | None = Field(
        default=None, max_length=4000, pattern=VISIBLE_TEXT, examples=["Went through the first draft together"],
        description="Free text for coordinators only: never shown to the mentor, never in an event or a log",
    )  # fmt: skip


class SessionOut(BaseModel):
    id: uuid.UUID
    match_id: uuid.UUID
    held_on: date
    mode: SessionMode
    minutes: int
    topic: SessionTopic
    logged_by: str
    logged_at: datetime
    notes: str | None = Field(description="Coordinators only: always null for the mentor")

    @classmethod
    def of(cls, session: MentoringSession, *, with_notes: bool) -> "SessionOut":
        return cls(
            id=session.id, match_id=session.match_id, held_on=session.held_on, mode=session.mode,
            minutes=session.minutes, topic=session.topic, logged_by=session.logged_by, logged_at=session.logged_at,
            notes=session.notes if with_notes else None,
        )  # fmt: skip


class TransitionRefusedOut(BaseModel):
    detail: str = Field(examples=["cannot accept a match that is active"])
    state: State
    allowed_actions: list[Action]


class TransitionRefusedErrorOut(BaseModel):
    detail: TransitionRefusedOut


# --- errors ---------------------------------------------------------------------------------------------------


@contextmanager
def answering_errors(*, path_fields: frozenset[str] = frozenset()) -> Iterator[None]:
    """Unknown objects 404 (naming the body field that named one); bad input 422 and contradictions 409 naming the
    field; illegal moves 409 with the state and the allowed actions; unmet conditions 409 listing each."""
    try:
        yield
    except MentoringNotFound as error:
        if error.field is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
        where = "path" if error.field in path_fields else "body"
        detail = [{"loc": [where, error.field], "msg": str(error), "type": "not_found"}]
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail) from None
    except InvalidMentoring as error:
        where = "path" if error.field in path_fields else "body"
        code = status.HTTP_409_CONFLICT if error.conflict else status.HTTP_422_UNPROCESSABLE_CONTENT
        kind = "conflict" if error.conflict else "value_error"
        raise HTTPException(code, [{"loc": [where, error.field], "msg": str(error), "type": kind}]) from None
    except TransitionRefused as refused:
        body = {"detail": refused.reason, "state": refused.state.value,
                "allowed_actions": [a.value for a in refused.allowed]}  # fmt: skip
        raise HTTPException(status.HTTP_409_CONFLICT, body) from None
    except ConditionsUnmet as refusal:
        raise conditions_unmet(refusal) from None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described: dict[int, tuple[object, str]] = {
        404: (ErrorOut | FieldErrorsOut, "No such programme, mentor, participant or match (or not yours to see)"),
        409: (
            ConditionsUnmetErrorOut | TransitionRefusedErrorOut | FieldErrorsOut,
            "Refused: `unmet` lists every unmet condition of both people (a mentor not cleared, a consent not valid, "
            "a full mentor); or the match's state does not allow it (with the allowed actions); or a field "
            "contradicts the programme, the cycle or today (`loc` names it)",
        ),
        422: (FieldErrorsOut, "Bad input: `loc` names the field"),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
