"""Request and response bodies of the primary-school programme's API, and how its errors become HTTP answers."""

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, WithJsonSchema

from medic.outreach.adapters.primary_repository import Reflection, SessionChangedMeanwhile
from medic.outreach.domain.conditions import ConditionsUnmet
from medic.outreach.domain.primary import (
    MAX_COMMENTS,
    MAX_ITEM_TEXT,
    MAX_PUPILS,
    MAX_REFLECTION,
    MAX_TERM_NAME,
    MAX_TOPIC_NAME,
    Conflict,
    Form,
    FormKind,
    InvalidInput,
    Level,
    NotFound,
    Phase,
    Term,
    Topic,
    UnknownReference,
)
from medic.outreach.domain.primary_lifecycle import Action, Actor, State, TransitionRefused
from medic.outreach.service_layer.primary import SessionView, Tally, TermSummary
from medic.shared.contracts.outreach.primary import KeyStage, YearGroup
from medic.shared.http_fields import VISIBLE_TEXT, IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut

from .dependencies import ConditionsUnmetErrorOut, conditions_unmet

TOPIC_ID_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
Name = Annotated[str, Field(max_length=MAX_TERM_NAME, pattern=VISIBLE_TEXT)]
Count = Annotated[int, Field(ge=0, le=MAX_PUPILS)]
FormVersion = Annotated[int, Field(ge=1, le=10_000)]
FreeText = Annotated[str, Field(max_length=MAX_REFLECTION, pattern=r"^[^\x00-\x09\x0b-\x1f\x7f]*$")]


def _time_text(value: object) -> object:
    if not isinstance(value, str | dt.time):
        raise ValueError("expected a time HH:MM[:SS], e.g. 09:30")
    return value


# A time of day as text (pydantic alone would also read a number of seconds).
TimeOfDay = Annotated[dt.time, BeforeValidator(_time_text), WithJsonSchema({"type": "string", "format": "time"})]


class LifecycleAction(StrEnum):
    """The actions taken with at most a reason. Delivery, feedback and reflections have routes of their own."""

    REVIEW_PLAN = "review_plan"
    COLLECT_FEEDBACK = "collect_feedback"
    CLOSE = "close"
    CANCEL = "cancel"


class TermIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["Spring term 2027"])
    academic_year: str = Field(
        pattern=r"^[0-9]{4}/[0-9]{2}$", description="Two consecutive years, e.g. 2026/27", examples=["2026/27"]
    )
    starts_on: IsoDate = Field(examples=["2027-01-04"])
    ends_on: IsoDate = Field(description="On or after `starts_on`, in the academic year", examples=["2027-03-26"])


class TermOut(BaseModel):
    id: uuid.UUID
    name: str
    academic_year: str
    starts_on: dt.date
    ends_on: dt.date

    @classmethod
    def of(cls, term: Term) -> "TermOut":
        return cls(**vars(term))


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=TOPIC_ID_PATTERN, description="A short lower-case id", examples=["sun_safety"])
    name: str = Field(max_length=MAX_TOPIC_NAME, pattern=VISIBLE_TEXT, examples=["Sun safety"])


class TopicOut(BaseModel):
    id: str
    name: str
    statutory: bool = Field(description="One of the statutory primary health-education areas")
    retired: bool = Field(description="Offered for no new session; sessions already on it keep it")

    @classmethod
    def of(cls, topic: Topic) -> "TopicOut":
        return cls(**vars(topic))


class FormItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=TOPIC_ID_PATTERN, examples=["right_level"])
    text: str = Field(
        max_length=MAX_ITEM_TEXT, pattern=VISIBLE_TEXT, examples=["The content was pitched at the right level"]
    )


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[FormItemIn] = Field(
        min_length=1,
        max_length=12,
        examples=[[{"key": "right_level", "text": "The content was pitched at the right level"}]],
    )


class FormItemOut(BaseModel):
    key: str
    text: str


class FormOut(BaseModel):
    kind: FormKind
    version: int
    items: list[FormItemOut]

    @classmethod
    def of(cls, form: Form) -> "FormOut":
        return cls(
            kind=form.kind, version=form.version, items=[FormItemOut(key=i.key, text=i.text) for i in form.items]
        )


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    term_id: uuid.UUID = Field(examples=["4a0c4b9e-3f7d-4c55-9a3e-2f1d8c7b6a50"])
    urn: str = Field(
        pattern=r"^[0-9]{6}$",
        description="A registered school whose phase teaches primary pupils (primary, all-through, special)",
        examples=["100001"],
    )
    date: IsoDate = Field(description="Within the term", examples=["2027-01-20"])
    starts_at: TimeOfDay = Field(description="Local time at the school", examples=["09:30"])
    ends_at: TimeOfDay = Field(description="After `starts_at`", examples=["10:30"])
    year_group: YearGroup = Field(
        description="Reception or Year 1 to Year 6; the key stage follows", examples=["year_3"]
    )
    topic_id: str = Field(pattern=TOPIC_ID_PATTERN, description="A current topic", examples=["healthy_eating"])
    level: Level = Field(
        description="introductory (first contact with the topic), core (what the year group's curriculum expects), "
        "extension (beyond it)",
        examples=["core"],
    )
    student_ids: list[Annotated[str, Field(min_length=1, max_length=200, pattern=VISIBLE_TEXT)]] = Field(
        min_length=1,
        max_length=30,
        description="The delivering medical students' user ids (their token's `sub`)",
        examples=[["student-1", "student-2"]],
    )


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: FreeText | None = Field(
        default=None,
        max_length=MAX_COMMENTS,
        description="Needed to cancel; kept in outreach, shown to coordinators, never published",
        examples=["The school closed for snow"],
    )


class DeliveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pupils: Count = Field(description="How many pupils were taught (a count: never a pupil's details)", examples=[28])
    classes: Count = Field(description="How many classes; no more than the pupils", examples=[1])
    teacher_present_throughout: StrictBool = Field(examples=[True])


class TeacherFeedbackIn(BaseModel):
    """The class teacher's answers, entered by a coordinator (teachers have no login)."""

    model_config = ConfigDict(extra="forbid")

    form_version: FormVersion = Field(examples=[1])
    scores: dict[Annotated[str, Field(pattern=TOPIC_ID_PATTERN)], Annotated[int, Field(ge=1, le=5)]] = Field(
        description="A score 1-5 for every item of that version of the teacher form",
        # Keys not matching the pattern are refused, which patternProperties alone does not say.
        json_schema_extra={"additionalProperties": False},
        examples=[{"right_level": 4, "pupils_engaged": 5, "students_prepared": 4, "fits_curriculum": 4,
                   "welcome_again": 5}],
    )  # fmt: skip
    comments: FreeText | None = Field(
        default=None, max_length=MAX_COMMENTS, description="Shown to coordinators only", examples=["Lively session"]
    )


class FaceCountsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(pattern=TOPIC_ID_PATTERN, examples=["know_topic"])
    phase: Phase = Field(examples=["before"])
    happy: Count = Field(examples=[10])
    not_sure: Count = Field(examples=[12])
    sad: Count = Field(examples=[4])


class PupilFeedbackIn(BaseModel):
    """How many pupils chose each face, per question, before and after: every question of the version, both phases;
    no row more answers than the pupils taught."""

    model_config = ConfigDict(extra="forbid")

    form_version: FormVersion = Field(examples=[1])
    counts: list[FaceCountsIn] = Field(
        min_length=1,
        max_length=48,
        examples=[
            [
                {"question": q, "phase": p, "happy": 10, "not_sure": 8, "sad": 2}
                for q in ("know_topic", "stay_healthy", "ask_for_help")
                for p in ("before", "after")
            ]
        ],
    )


class ReflectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: FreeText = Field(
        min_length=1, description="Personal to the student: never published", examples=["Year 3 loved the food quiz"]
    )


class ReflectionOut(BaseModel):
    user_id: str
    text: str
    written_at: dt.datetime

    @classmethod
    def of(cls, reflection: Reflection) -> "ReflectionOut":
        return cls(**vars(reflection))


class PartnerLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: uuid.UUID = Field(
        description="A partner of kind `school` known to outreach (from projects' partner events)",
        examples=["0b6f2f5e-7a59-4f57-a1a9-5d6c2f0e9b11"],
    )


class PartnerLinkOut(BaseModel):
    urn: str
    partner_id: uuid.UUID


class ActionOut(BaseModel):
    action: Action
    allowed: bool
    blocked_by: list[str] = Field(description="What must happen first; empty when allowed")
    needs_reason: bool


class DeliveryOut(BaseModel):
    pupils: int
    classes: int
    teacher_present_throughout: bool


class TeacherFeedbackOut(BaseModel):
    form_version: int
    scores: dict[str, int]
    comments: str | None = Field(description="Coordinators only: null for others")


class FaceCountsOut(BaseModel):
    question: str
    phase: Phase
    happy: int
    not_sure: int
    sad: int


class PupilFeedbackOut(BaseModel):
    form_version: int
    counts: list[FaceCountsOut]


class SessionOut(BaseModel):
    id: uuid.UUID
    term_id: uuid.UUID
    urn: str
    date: dt.date
    starts_at: dt.time
    ends_at: dt.time
    year_group: YearGroup
    key_stage: KeyStage
    topic_id: str
    level: Level
    student_ids: list[str] | None = Field(description="Null for partners")
    state: State
    delivery: DeliveryOut | None
    teacher_feedback: TeacherFeedbackOut | None
    pupil_feedback: PupilFeedbackOut | None
    cancel_reason: str | None = Field(description="Coordinators only: null for others")
    actions: list[ActionOut] = Field(description="What the caller may do now, and what blocks the rest")

    @classmethod
    def of(cls, view: SessionView) -> "SessionOut":
        s, coordinator = view.session, view.actor is Actor.COORDINATOR
        teacher = s.teacher_feedback
        return cls(
            id=s.id,
            term_id=s.term_id,
            urn=s.urn,
            date=s.date,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            year_group=s.year_group,
            key_stage=s.key_stage,
            topic_id=s.topic_id,
            level=s.level,
            student_ids=None if view.actor is Actor.PARTNER else list(s.students),
            state=s.state,
            delivery=None if s.delivery is None else DeliveryOut(**vars(s.delivery)),
            teacher_feedback=None
            if teacher is None
            else TeacherFeedbackOut(
                form_version=teacher.form_version,
                scores=dict(teacher.scores),
                comments=teacher.comments if coordinator else None,
            ),
            pupil_feedback=None
            if s.pupil_feedback is None
            else PupilFeedbackOut(
                form_version=s.pupil_feedback.form_version,
                counts=[FaceCountsOut(**vars(c)) for c in s.pupil_feedback.counts],
            ),
            cancel_reason=s.cancel_reason if coordinator else None,
            actions=[
                ActionOut(
                    action=o.action, allowed=o.allowed, blocked_by=list(o.blocked_by), needs_reason=o.needs_reason
                )
                for o in view.options
            ],
        )


class TallyOut(BaseModel):
    sessions: int
    pupils: int
    classes: int

    @classmethod
    def of(cls, tally: Tally) -> "TallyOut":
        return cls(**vars(tally))


class TermSummaryOut(BaseModel):
    """Exact counts, for coordinators: sessions by state; what the taught sessions (delivered, feedback collected,
    closed) reached, in all, per topic and per key stage."""

    term: TermOut
    sessions_by_state: dict[State, int]
    delivered: TallyOut
    by_topic: dict[str, TallyOut]
    by_key_stage: dict[KeyStage, TallyOut]

    @classmethod
    def of(cls, summary: TermSummary) -> "TermSummaryOut":
        return cls(
            term=TermOut.of(summary.term),
            sessions_by_state=summary.by_state,
            delivered=TallyOut.of(summary.delivered),
            by_topic={topic: TallyOut.of(t) for topic, t in sorted(summary.by_topic.items())},
            by_key_stage={stage: TallyOut.of(t) for stage, t in summary.by_key_stage.items()},
        )


class RefusalOut(BaseModel):
    message: str
    state: State
    reasons: list[str]
    allowed_actions: list[Action]


class TransitionRefusedOut(BaseModel):
    detail: RefusalOut


@contextmanager
def answering_errors(*, body_checked: bool = False) -> Iterator[None]:
    """Domain errors as HTTP answers: bad input 422 naming the field, refusals and conflicts 409, unknown (or
    not the caller's) objects 404.

    With `body_checked` (the route's schema says all it can of the body), what the domain still refuses in a body
    is a reference to nothing (404) or a contradiction the schema cannot express (409, e.g. fewer pupils than
    classes), both naming the field as a 422 would."""
    try:
        yield
    except NotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except InvalidInput as error:
        errors = [{"loc": ["body", *error.loc], "msg": str(error), "type": "value_error"}]
        if not body_checked:
            code = status.HTTP_422_UNPROCESSABLE_CONTENT
        elif isinstance(error, UnknownReference):
            code = status.HTTP_404_NOT_FOUND
        else:
            code = status.HTTP_409_CONFLICT
        raise HTTPException(code, errors) from None
    except Conflict as error:
        errors = [{"loc": ["body", error.field], "msg": str(error), "type": "value_error"}]
        raise HTTPException(status.HTTP_409_CONFLICT, errors) from None
    except SessionChangedMeanwhile as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except ConditionsUnmet as unmet:  # a delivering student not cleared on the day (safeguarding)
        raise conditions_unmet(unmet) from None
    except TransitionRefused as error:
        refusal = RefusalOut(
            message=str(error), state=error.state, reasons=error.reasons, allowed_actions=error.allowed
        )
        raise HTTPException(status.HTTP_409_CONFLICT, refusal.model_dump(mode="json")) from None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented answers of a route besides its success, FastAPI's 422 and the edge's."""
    described: dict[int, tuple[Any, str]] = {
        404: (
            ErrorOut | FieldErrorsOut,
            "No such object, or not one the caller may see; `loc` names a body field naming no such object",
        ),
        409: (
            TransitionRefusedOut | FieldErrorsOut | ErrorOut | ConditionsUnmetErrorOut,
            "Not allowed now: the state, the reasons and the actions the caller may take; or a conflict or a "
            "contradiction in the body, `loc` naming the field; or the session changed meanwhile; or (a delivery) "
            "a delivering student not cleared for contact with children on the day, each unmet condition listed",
        ),
        422: (FieldErrorsOut, "Bad input: `loc` names the field"),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
