"""Request and response bodies of the projects API. Responses list what the caller may do now."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from medic.projects.domain.lifecycle import Action, Actor, State, options
from medic.projects.domain.project import (
    MAX_MEASURES,
    Audience,
    Classification,
    Measure,
    MeasureType,
    Project,
    Section,
    ShowcaseFormat,
    editable_sections,
)
from medic.projects.domain.qi import (
    MAX_DATA_POINTS,
    CycleStage,
    Decision,
    PdsaCycle,
    Step,
    writable_steps,
)
from medic.projects.domain.verification import VerificationStatus
from medic.shared.http_fields import NO_CONTROL_CHARACTERS, VISIBLE_TEXT

Title = Annotated[str, Field(min_length=1, max_length=200, pattern=VISIBLE_TEXT)]
ShortText = Annotated[str, Field(max_length=200, pattern=NO_CONTROL_CHARACTERS)]
LongText = Annotated[str, Field(max_length=5000, pattern=NO_CONTROL_CHARACTERS)]
PartnerIds = Annotated[list[uuid.UUID], Field(max_length=10)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectIn(Strict):
    group_id: uuid.UUID = Field(examples=["5f0c7a4e-0d5e-4c3b-9a51-2c1f3b7d9e10"])
    title: Title = Field(examples=["Cooking on a budget with the food bank"])
    topic: Annotated[str, Field(min_length=1, max_length=100, pattern=VISIBLE_TEXT)] = Field(examples=["nutrition"])
    partner_ids: PartnerIds = Field(
        default_factory=list, examples=[["0b1e5f6a-3c2d-4e8f-9a7b-6c5d4e3f2a1b"]], description="The lead partner first."
    )


class NeedIn(Strict):
    summary: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["Families at the practice report little access to fresh food."]
    )
    evidence: list[ShortText] = Field(default_factory=list, max_length=20, examples=[["practice audit 2026"]])
    stakeholders_consulted: list[ShortText] = Field(default_factory=list, max_length=20, examples=[["food bank"]])
    community_involvement: LongText = Field(default="", examples=["a survey of 40 patients"])


class AimIn(Strict):
    what: Annotated[str, Field(min_length=1, max_length=500, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["more families cook a fresh meal each week"]
    )
    how_much: ShortText = Field(examples=["20% more than at baseline"])
    by_when: date = Field(examples=["2027-03-01"])
    target_population: ShortText = Field(examples=["families registered at the practice"])


class MeasureIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=VISIBLE_TEXT)] = Field(examples=["fresh meals"])
    type: MeasureType = Field(examples=["outcome"])
    definition: LongText = Field(examples=["fresh meals cooked per family per week"])
    data_source: ShortText = Field(examples=["before and after survey"])
    baseline: ShortText = Field(examples=["2"])
    target: ShortText = Field(examples=["3"])


class ProposalIn(Strict):
    title: Title = Field(examples=["Cooking on a budget with the food bank"])
    topic: Annotated[str, Field(min_length=1, max_length=100, pattern=VISIBLE_TEXT)] = Field(examples=["nutrition"])
    partner_ids: PartnerIds = Field(examples=[["0b1e5f6a-3c2d-4e8f-9a7b-6c5d4e3f2a1b"]])
    need: NeedIn | None = Field(
        default=None,
        examples=[{"summary": "Families report little access to fresh food", "evidence": ["practice audit"]}],
    )
    aim: AimIn | None = Field(
        default=None,
        examples=[
            {
                "what": "more families cook a fresh meal each week",
                "how_much": "20% more",
                "by_when": "2027-03-01",
                "target_population": "families at the practice",
            }
        ],
    )
    measures: list[MeasureIn] = Field(
        default_factory=list,
        max_length=MAX_MEASURES,
        examples=[
            [
                {
                    "name": "fresh meals",
                    "type": "outcome",
                    "definition": "fresh meals cooked per family per week",
                    "data_source": "before and after survey",
                    "baseline": "2",
                    "target": "3",
                }
            ]
        ],
    )


class GovernanceIn(Strict):
    classification: Classification | None = Field(default=None, examples=["service_evaluation"])
    classification_reason: LongText = Field(default="", examples=["no change to care; evaluates a service"])
    ethics_reference: ShortText = Field(default="", examples=[""])
    risk_assessment: LongText = Field(default="", examples=["low risk; public venue; RA-2026-14"])
    works_with_children_or_vulnerable_adults: bool = Field(default=False, examples=[False])


class DbsAttestationIn(Strict):
    student_ids: list[uuid.UUID] = Field(
        max_length=20,
        examples=[["8a6b4c2d-1e3f-4a5b-8c7d-9e0f1a2b3c4d"]],
        description="The group's students whose DBS check the supervisor has seen.",
    )


class DeliverySessionIn(Strict):
    held_on: date = Field(examples=["2027-01-14"])
    place: Annotated[str, Field(min_length=1, max_length=200, pattern=VISIBLE_TEXT)] = Field(
        examples=["St Mary's community hall"]
    )
    format: Annotated[str, Field(min_length=1, max_length=100, pattern=VISIBLE_TEXT)] = Field(examples=["workshop"])
    reach: dict[Audience, Annotated[int, Field(ge=0, le=100_000)]] = Field(
        examples=[{"adults": 14, "children": 6}], description="People reached by audience: counts only."
    )


class EvaluationIn(Strict):
    results: LongText = Field(default="", examples=["3.1 fresh meals a week after, from 2.0"])
    what_worked: LongText = Field(default="", examples=["cooking demonstrations"])
    limitations: LongText = Field(default="", examples=["small sample, self-reported"])
    sustainability: LongText = Field(default="", examples=["the food bank runs the sessions monthly"])


class ShowcaseIn(Strict):
    format: ShowcaseFormat = Field(examples=["poster"])
    title: Title = Field(examples=["Fresh food, fewer takeaways"])
    abstract: Annotated[str, Field(min_length=1, max_length=3000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["We worked with the food bank to ..."]
    )


class AuditCodesIn(Strict):
    needs_analysis: bool = Field(default=False, examples=[True])
    patient_involvement: bool = Field(default=False, examples=[True])
    sustainable_impact: bool = Field(default=False, examples=[False])
    topic: ShortText = Field(default="", examples=["nutrition"])
    format: ShortText = Field(default="", examples=["workshop"])


class ProgressIn(Strict):
    ihi_score: float | None = Field(
        default=None, ge=0.5, le=5.0, multiple_of=0.5, examples=[3.0], description="IHI progress score."
    )
    audit_codes: AuditCodesIn = Field(
        default_factory=AuditCodesIn,
        examples=[{"needs_analysis": True, "patient_involvement": True, "topic": "nutrition", "format": "workshop"}],
    )


class ActionIn(Strict):
    reason: LongText | None = Field(
        default=None,
        examples=["Please make the aim measurable."],
        description="Needed to reject, request changes, withdraw or pause.",
    )


class HistoryEntryOut(BaseModel):
    action: Action
    from_state: State
    to_state: State
    taken_by: str = Field(description="The user id of whoever took the action")
    reason: str | None = Field(description="The reason they gave (changes requested, rejection, withdrawal, pause)")
    taken_at: datetime


class ActionOut(BaseModel):
    action: Action
    allowed: bool
    blocked_by: list[str] = Field(description="What must happen first; empty when allowed.")
    needs_reason: bool


class TransitionRefusedOut(BaseModel):
    detail: str
    state: State
    reasons: list[str]
    allowed_actions: list[Action]


class EditRefusedOut(BaseModel):
    detail: str
    state: State
    section: Section


class NeedOut(BaseModel):
    summary: str
    evidence: list[str]
    stakeholders_consulted: list[str]
    community_involvement: str


class AimOut(BaseModel):
    what: str
    how_much: str
    by_when: date
    target_population: str


class GovernanceOut(GovernanceIn):
    model_config = ConfigDict(extra="ignore")
    dbs_attested: list[uuid.UUID]
    cleared: bool
    cleared_at: datetime | None


class DataPointFiguresOut(BaseModel):
    id: uuid.UUID
    measured_on: date
    value: float


class DataPointOut(DataPointFiguresOut):
    annotation: str


class MeasureFiguresOut(BaseModel):
    """A measure and its dated values, as partners see it: no annotations."""

    id: uuid.UUID = Field(description="Stable while the measure keeps its name in the proposal.")
    name: str
    type: MeasureType
    baseline: str
    target: str
    data_points: Sequence[DataPointFiguresOut] = Field(
        description=f"In date order; at most {MAX_DATA_POINTS}. Pre/post figures are two points."
    )


class MeasureOut(MeasureFiguresOut):
    definition: str
    data_source: str
    data_points: Sequence[DataPointOut] = Field(
        description=f"In date order; at most {MAX_DATA_POINTS}. Pre/post figures are two points."
    )


class ChangeIdeaOut(BaseModel):
    id: uuid.UUID
    text: str


class PlanIn(Strict):
    objective: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["see whether a cooking demonstration at the food bank changes what families cook"]
    )
    prediction: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["half the families who come will cook one of the recipes within a week"]
    )
    data_plan: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["a two-question card at the session and a phone follow-up a week later"]
    )
    questions: LongText = Field(default="", examples=["do families take the recipe cards home?"])
    who: ShortText = Field(default="", examples=["two students and the food bank's volunteer lead"])
    what: ShortText = Field(default="", examples=["a 30-minute demonstration with tasting"])
    when: ShortText = Field(default="", examples=["Tuesday distribution, week 3"])
    where: ShortText = Field(default="", examples=["Riverside Food Bank hall"])


class DoIn(Strict):
    what_happened: Annotated[str, Field(min_length=1, max_length=5000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["18 families watched; 12 tasted; 15 took recipe cards"]
    )
    deviations: LongText = Field(default="", examples=["the hob failed, so we used a microwave recipe"])


class StudyIn(Strict):
    results: Annotated[str, Field(min_length=1, max_length=5000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["7 of 15 families cooked a recipe within a week"]
    )
    against_prediction: Annotated[str, Field(min_length=1, max_length=5000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["close to the half we predicted; more did with the microwave recipe"]
    )


class ActIn(Strict):
    decision: Decision = Field(examples=["adapt"])
    next_step: Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_CONTROL_CHARACTERS)] = Field(
        examples=["test microwave-only recipes in the next cycle"]
    )


class PdsaCycleOut(BaseModel):
    id: uuid.UUID
    change_idea_id: uuid.UUID
    stage: CycleStage = Field(description="planning, doing, studying, acting or complete: the step it waits for.")
    writable_steps: list[Step] = Field(
        description="The steps that may be recorded now: the one it waits for, and the latest one, to correct it."
    )
    plan: PlanIn | None
    do: DoIn | None
    study: StudyIn | None
    act: ActIn | None


class StepRefusedOut(EditRefusedOut):
    """A section that cannot be edited now, or, for a PDSA step out of order, the cycle's stage and what may be
    recorded instead."""

    cycle_id: uuid.UUID | None = None
    stage: CycleStage | None = None
    writable_steps: list[Step] | None = None


class DeliverySessionOut(BaseModel):
    id: uuid.UUID
    held_on: date
    place: str
    format: str
    reach: dict[Audience, int]


class ProjectSummaryOut(BaseModel):
    """What anyone who may see the project sees, partners included."""

    id: uuid.UUID
    cohort_id: uuid.UUID
    group_id: uuid.UUID
    practice_id: uuid.UUID
    title: str
    topic: str
    partner_ids: list[uuid.UUID]
    state: State
    need: NeedOut | None
    aim: AimOut | None
    measures: Sequence[MeasureFiguresOut]
    delivery_sessions: list[DeliverySessionOut]
    showcase: ShowcaseIn | None
    verification: VerificationStatus | None = Field(description="The partner's confirmation; null until submitted.")
    version: int
    created_at: datetime
    updated_at: datetime
    actions: list[ActionOut] = Field(description="What the caller may do now, and what blocks the rest.")
    editable_sections: list[Section]


class ProjectOut(ProjectSummaryOut):
    """The whole project, for its coordinators, supervisors and students."""

    paused_from: State | None
    measures: Sequence[MeasureOut]
    change_ideas: list[ChangeIdeaOut]
    pdsa_cycles: list[PdsaCycleOut]
    governance: GovernanceOut
    evaluation: EvaluationIn
    ihi_score: float | None
    audit_codes: AuditCodesIn


class ProjectPageOut(BaseModel):
    items: list[ProjectOut | ProjectSummaryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


def project_view(project: Project, actor: Actor) -> ProjectOut | ProjectSummaryOut:
    summary = {
        "id": project.id,
        "cohort_id": project.cohort_id,
        "group_id": project.group_id,
        "practice_id": project.practice_id,
        "title": project.title,
        "topic": project.topic,
        "partner_ids": list(project.partner_ids),
        "state": project.state,
        "need": NeedOut(**vars(project.need)) if project.need else None,
        "aim": AimOut(**vars(project.aim)) if project.aim else None,
        "delivery_sessions": [
            DeliverySessionOut(id=s.id, held_on=s.held_on, place=s.place, format=s.format, reach=dict(s.reach))
            for s in project.delivery_sessions
        ],
        "showcase": ShowcaseIn(**vars(project.showcase)) if project.showcase else None,
        "verification": project.verification,
        "version": project.version,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "actions": [
            ActionOut(action=o.action, allowed=o.allowed, blocked_by=list(o.blocked_by), needs_reason=o.needs_reason)
            for o in options(project, actor)
        ],
        "editable_sections": editable_sections(project.state, actor),
    }
    if actor is Actor.PARTNER:
        # Partners see the figures their work produced, not the team's annotations, change ideas or cycles.
        return ProjectSummaryOut(**summary, measures=[_figures_out(m) for m in project.measures])
    g = project.governance
    return ProjectOut(
        **summary,
        measures=[_measure_out(m) for m in project.measures],
        change_ideas=[ChangeIdeaOut(id=i.id, text=i.text) for i in project.change_ideas],
        pdsa_cycles=[_cycle_out(c) for c in project.pdsa_cycles],
        paused_from=project.paused_from,
        governance=GovernanceOut(
            classification=g.classification,
            classification_reason=g.classification_reason,
            ethics_reference=g.ethics_reference,
            risk_assessment=g.risk_assessment,
            works_with_children_or_vulnerable_adults=g.works_with_children_or_vulnerable_adults,
            dbs_attested=sorted(g.dbs_attested),
            cleared=g.cleared,
            cleared_at=g.cleared_at,
        ),
        evaluation=EvaluationIn(**vars(project.evaluation)),
        ihi_score=project.ihi_score,
        audit_codes=AuditCodesIn(**vars(project.audit_codes)),
    )


def _figures_out(measure: Measure) -> MeasureFiguresOut:
    return MeasureFiguresOut(
        id=measure.id,
        name=measure.name,
        type=measure.type,
        baseline=measure.baseline,
        target=measure.target,
        data_points=[
            DataPointFiguresOut(id=p.id, measured_on=p.measured_on, value=p.value) for p in measure.data_points
        ],
    )


def _measure_out(measure: Measure) -> MeasureOut:
    return MeasureOut(
        id=measure.id,
        name=measure.name,
        type=measure.type,
        definition=measure.definition,
        data_source=measure.data_source,
        baseline=measure.baseline,
        target=measure.target,
        data_points=[
            DataPointOut(id=p.id, measured_on=p.measured_on, value=p.value, annotation=p.annotation)
            for p in measure.data_points
        ],
    )


def _cycle_out(cycle: PdsaCycle) -> PdsaCycleOut:
    return PdsaCycleOut(
        id=cycle.id,
        change_idea_id=cycle.change_idea_id,
        stage=cycle.stage,
        writable_steps=writable_steps(cycle.stage),
        plan=PlanIn(**vars(cycle.plan)) if cycle.plan else None,
        do=DoIn(**vars(cycle.do)) if cycle.do else None,
        study=StudyIn(**vars(cycle.study)) if cycle.study else None,
        act=ActIn(decision=cycle.act.decision, next_step=cycle.act.next_step) if cycle.act else None,
    )


class DataPointIn(Strict):
    measured_on: date = Field(examples=["2027-01-20"], description="Within the last five years; not in the future.")
    value: float = Field(allow_inf_nan=False, examples=[2.5])
    annotation: ShortText = Field(
        default="", examples=["before the first workshop"], description="Not shown to partners."
    )


class ChangeIdeaIn(Strict):
    text: Title = Field(examples=["cooking demonstrations at the food bank's Tuesday distribution"])


class CycleIn(Strict):
    change_idea_id: uuid.UUID = Field(
        examples=["3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"], description="The listed change idea the cycle tests."
    )
