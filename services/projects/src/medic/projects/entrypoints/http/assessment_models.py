"""Request and response bodies of the assessment API. The schemas accept exactly what the domain accepts."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from medic.projects.adapters.assessment_repository import StudentReflection
from medic.projects.domain.assessment import MAX_CRITERIA, MAX_MARK, MAX_REFLECTION_WORDS, MAX_WEIGHT, Marking, Rubric
from medic.projects.domain.lifecycle import State
from medic.projects.domain.project import Project, ShowcaseFormat
from medic.projects.service_layer.assessment import MarkSheet, ReleasedMarks
from medic.shared.http_fields import NO_CONTROL_CHARACTERS, VISIBLE_TEXT

CriterionKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Mark = Annotated[int, Field(ge=0, le=MAX_MARK)]
# Keys other than criterion keys are refused: the schema says so too (patternProperties alone would allow them).
Marks = Annotated[
    dict[CriterionKey, Mark],
    Field(min_length=1, max_length=MAX_CRITERIA, json_schema_extra={"additionalProperties": False}),
]
Note = Annotated[str, Field(max_length=5000, pattern=NO_CONTROL_CHARACTERS)]

# Prose of 1 to 1000 words, in paragraphs: words of visible characters, between them spaces, tabs or line breaks
# (what Python's str.split() splits on), and no other control character.
_SPACES = r" \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WORD = rf"[^\x00-\x1f\x7f{_SPACES}]+"
_GAP = rf"[\t\n\r{_SPACES}]"
PROSE = rf"^{_GAP}*(?:{_WORD}{_GAP}+){{0,{MAX_REFLECTION_WORDS - 1}}}{_WORD}{_GAP}*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CriterionIn(Strict):
    key: CriterionKey = Field(examples=["impact"], description="Names the criterion in marks; a-z, 0-9, _")
    title: Annotated[str, Field(min_length=1, max_length=200, pattern=VISIBLE_TEXT)] = Field(
        examples=["Impact on the community"]
    )
    descriptor: Note = Field(
        default="", examples=["Excellent (9-10): a measured change the partner confirms, sustained after handover."]
    )
    max_mark: Annotated[int, Field(ge=1, le=MAX_MARK)] = Field(examples=[10])
    weight: Annotated[float, Field(gt=0, le=MAX_WEIGHT)] = Field(
        default=1.0, examples=[2], description="Its share of the total, relative to the other criteria"
    )


class RubricIn(Strict):
    criteria: list[CriterionIn] = Field(
        min_length=1,
        max_length=MAX_CRITERIA,
        examples=[
            [
                {"key": "need", "title": "Needs analysis", "max_mark": 10},
                {"key": "impact", "title": "Impact on the community", "max_mark": 10, "weight": 2},
            ]
        ],
        description="In the order assessors see them; each key once",
    )


class MarksIn(Strict):
    marks: Marks = Field(examples=[{"need": 7, "impact": 8}], description="Criterion key to mark, 0 to its max")
    comment: Note = Field(default="", examples=["Clear poster; the data could be sharper."])


class ModerationIn(Strict):
    marks: Marks = Field(examples=[{"need": 7, "impact": 9}], description="The agreed mark of every criterion")
    note: Note = Field(default="", examples=["Second marker's impact mark agreed after review."])


class NominationIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000, pattern=VISIBLE_TEXT)] = Field(
        examples=["The partner now runs the sessions monthly."]
    )


class ReflectionIn(Strict):
    text: Annotated[str, Field(max_length=20_000, pattern=PROSE)] = Field(
        examples=["Working with the food bank taught me how much a need looks different from outside."],
        description=f"Your own reflection, 1 to {MAX_REFLECTION_WORDS} words; paragraphs allowed",
    )


class CriterionOut(BaseModel):
    key: str
    title: str
    descriptor: str
    max_mark: int
    weight: float


class RubricOut(BaseModel):
    cohort_id: uuid.UUID
    criteria: list[CriterionOut] = Field(description="Empty until a coordinator defines the rubric")
    updated_at: datetime | None


class MarkingOut(BaseModel):
    assessor: str = Field(description="The assessor's user id")
    marks: dict[str, int]
    comment: str
    complete: bool = Field(description="Whether every criterion has a mark")
    recorded_at: datetime


class ModerationOut(BaseModel):
    marks: dict[str, int]
    percentage: float = Field(description="The weighted total, as a percentage")
    note: str
    moderated_by: str
    moderated_at: datetime
    released_at: datetime | None = Field(description="When students could first see these marks")


class MarkSheetOut(BaseModel):
    """A project's assessment as its staff see it (a peer assessor sees only their own marking)."""

    project_id: uuid.UUID
    state: State
    assessment_complete: bool
    rubric: RubricOut | None
    markings: list[MarkingOut]
    moderation: ModerationOut | None


class ReleasedMarkOut(BaseModel):
    key: str
    title: str
    mark: int
    max_mark: int
    weight: float


class ReleasedMarksOut(BaseModel):
    """What a student sees once their cohort's marks are released: the moderated marks only."""

    project_id: uuid.UUID
    marks: list[ReleasedMarkOut]
    percentage: float
    released_at: datetime


class ReleaseOut(BaseModel):
    released: list[uuid.UUID] = Field(description="Projects whose marks students can now see")
    awaiting_moderation: list[uuid.UUID] = Field(description="Marked but not moderated: for a later release")


class ShowcaseEntryOut(BaseModel):
    format: ShowcaseFormat
    title: str
    abstract: str


class ShowcasedOut(BaseModel):
    project_id: uuid.UUID
    group_id: uuid.UUID
    title: str
    state: State
    showcase: ShowcaseEntryOut | None

    @classmethod
    def of(cls, project: Project) -> "ShowcasedOut":
        entry = project.showcase
        return cls(
            project_id=project.id,
            group_id=project.group_id,
            title=project.title,
            state=project.state,
            showcase=ShowcaseEntryOut(format=entry.format, title=entry.title, abstract=entry.abstract)
            if entry
            else None,
        )


class NominationOut(BaseModel):
    project_id: uuid.UUID
    reason: str
    nominated_at: datetime


class ShortlistedOut(BaseModel):
    project_id: uuid.UUID
    title: str
    nominations: int
    reasons: list[str]


class ReflectionOut(BaseModel):
    student_id: uuid.UUID
    university_id: str
    text: str
    updated_at: datetime


def rubric_view(rubric: Rubric) -> RubricOut:
    return RubricOut(
        cohort_id=rubric.cohort_id,
        criteria=[CriterionOut(**vars(c)) for c in rubric.criteria],
        updated_at=rubric.updated_at,
    )


def _marking_view(marking: Marking, rubric: Rubric | None) -> MarkingOut:
    return MarkingOut(
        assessor=marking.assessor,
        marks=dict(marking.marks),
        comment=marking.comment,
        complete=rubric is not None and rubric.complete(marking.marks),
        recorded_at=marking.recorded_at,
    )


def mark_sheet_view(sheet: MarkSheet) -> MarkSheetOut:
    rubric, moderation = sheet.rubric, sheet.moderation
    return MarkSheetOut(
        project_id=sheet.project.id,
        state=sheet.project.state,
        assessment_complete=sheet.project.assessment_complete,
        rubric=rubric_view(rubric) if rubric else None,
        markings=[_marking_view(m, rubric) for m in sheet.markings],
        moderation=ModerationOut(
            marks=dict(moderation.marks),
            percentage=rubric.percentage(moderation.marks),
            note=moderation.note,
            moderated_by=moderation.moderated_by,
            moderated_at=moderation.moderated_at,
            released_at=moderation.released_at,
        )
        if moderation and rubric
        else None,
    )


def released_view(released: ReleasedMarks) -> ReleasedMarksOut:
    rubric, moderation = released.rubric, released.moderation
    assert moderation.released_at is not None
    return ReleasedMarksOut(
        project_id=released.project.id,
        marks=[
            ReleasedMarkOut(
                key=c.key, title=c.title, mark=moderation.marks[c.key], max_mark=c.max_mark, weight=c.weight
            )
            for c in rubric.criteria
        ],
        percentage=rubric.percentage(moderation.marks),
        released_at=moderation.released_at,
    )


def reflection_view(found: StudentReflection) -> ReflectionOut:
    reflection = found.reflection
    return ReflectionOut(
        student_id=reflection.student_id,
        university_id=found.university_id,
        text=reflection.text,
        updated_at=reflection.updated_at,
    )
