"""A Community Action Project in the quality-improvement shape: need, aim, measures and their data points,
change ideas and PDSA cycles, governance, delivery, evaluation, showcase. Its state changes only through `take`
(lifecycle.py says which actions apply); qi.py holds the QI records' rules. No I/O.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from .lifecycle import ACTIVE, Action, Actor, State, check
from .project_events import (
    ProjectCreated,
    ProjectEdited,
    ProjectEvent,
    ProjectTransitioned,
    VerificationDecided,
    VerificationRequested,
)
from .qi import (
    MAX_CHANGE_IDEAS,
    MAX_CYCLES,
    MAX_DATA_POINTS,
    STEP_OF,
    ChangeIdea,
    DataPoint,
    PdsaCycle,
    StepRecord,
    data_point_problem,
    step_text_problem,
    writable_steps,
)
from .verification import Decision, VerificationStatus

MAX_MEASURES = 5
IHI_SCORES = tuple(x / 2 for x in range(1, 11))  # 0.5, 1.0, ... 5.0


class InvalidProject(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class EditRefused(Exception):
    """A change the project's state or the caller's standing does not allow now: a 409 in HTTP terms."""

    def __init__(self, section: "Section", state: State, reason: str) -> None:
        super().__init__(reason)
        self.section = section
        self.state = state


class StepRefused(EditRefused):
    """A PDSA step out of order (skipped, or one fixed by a later step): a 409 saying what may be recorded."""

    def __init__(self, state: State, cycle: PdsaCycle, reason: str) -> None:
        super().__init__(Section.PDSA, state, reason)
        self.cycle_id = cycle.id
        self.stage = cycle.stage
        self.writable = writable_steps(cycle.stage)


class MeasureType(StrEnum):
    OUTCOME = "outcome"
    PROCESS = "process"
    BALANCING = "balancing"


class Classification(StrEnum):
    """The Health Research Authority's "is my study research?" answer."""

    RESEARCH = "research"
    AUDIT = "audit"
    SERVICE_EVALUATION = "service_evaluation"


class Audience(StrEnum):
    """Who a delivery session reached, for reach counts (people, never names)."""

    PATIENTS = "patients"
    CARERS = "carers"
    CHILDREN = "children"
    YOUNG_PEOPLE = "young_people"
    ADULTS = "adults"
    OLDER_ADULTS = "older_adults"
    PROFESSIONALS = "professionals"
    COMMUNITY_MEMBERS = "community_members"


class ShowcaseFormat(StrEnum):
    POSTER = "poster"
    TALK = "talk"


@dataclass(frozen=True)
class Need:
    summary: str
    evidence: tuple[str, ...] = ()  # sources
    stakeholders_consulted: tuple[str, ...] = ()
    community_involvement: str = ""  # how patients or the community were involved


@dataclass(frozen=True)
class Aim:
    what: str
    how_much: str
    by_when: date
    target_population: str


@dataclass(frozen=True)
class Measure:
    name: str
    type: MeasureType
    definition: str
    data_source: str
    baseline: str
    target: str
    # Stable across proposal edits that keep the measure's name (see edit_proposal).
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    data_points: tuple[DataPoint, ...] = ()  # in date order


@dataclass(frozen=True)
class Governance:
    classification: Classification | None = None
    classification_reason: str = ""
    ethics_reference: str = ""  # research needs a research ethics committee's approval
    risk_assessment: str = ""
    works_with_children_or_vulnerable_adults: bool = False
    # Students the supervisor attests have a DBS check seen (projects do not hold the checks themselves).
    dbs_attested: frozenset[uuid.UUID] = frozenset()
    cleared_by: str | None = None
    cleared_at: datetime | None = None

    @property
    def cleared(self) -> bool:
        return self.cleared_at is not None

    def problems(self, students_delivering: frozenset[uuid.UUID]) -> list[str]:
        found = []
        if self.classification is None:
            found.append("research / audit / service evaluation decision missing")
        elif not self.classification_reason.strip():
            found.append("reason for the research / audit / service evaluation decision missing")
        if self.classification is Classification.RESEARCH and not self.ethics_reference.strip():
            found.append("research ethics approval reference missing")
        if not self.risk_assessment.strip():
            found.append("risk assessment missing")
        if self.works_with_children_or_vulnerable_adults:
            unchecked = len(students_delivering - self.dbs_attested)
            if unchecked:
                found.append(f"DBS check not attested for {unchecked} student(s) delivering")
        return found


@dataclass(frozen=True)
class DeliverySession:
    id: uuid.UUID
    held_on: date
    place: str
    format: str
    reach: Mapping[Audience, int]  # people reached, by audience category: counts only


@dataclass(frozen=True)
class Evaluation:
    results: str = ""
    what_worked: str = ""
    limitations: str = ""
    sustainability: str = ""  # sustainability and handover

    def missing(self) -> list[str]:
        parts = {
            "results against the aim": self.results,
            "what worked": self.what_worked,
            "limitations": self.limitations,
            "sustainability": self.sustainability,
        }
        return [name for name, text in parts.items() if not text.strip()]


@dataclass(frozen=True)
class ShowcaseEntry:
    format: ShowcaseFormat
    title: str
    abstract: str


@dataclass(frozen=True)
class AuditCodes:
    """What the school's audit of projects codes each by."""

    needs_analysis: bool = False
    patient_involvement: bool = False
    sustainable_impact: bool = False
    topic: str = ""
    format: str = ""


class Section(StrEnum):
    """The parts of a project that are edited separately, each in the states where that makes sense."""

    PROPOSAL = "proposal"  # title, topic, partners, need, aim, measures
    GOVERNANCE = "governance"
    DBS_ATTESTATION = "dbs_attestation"
    DELIVERY = "delivery"
    EVALUATION = "evaluation"
    SHOWCASE = "showcase"
    PROGRESS = "progress"  # IHI score and audit codes
    MEASURES = "measures"  # the measures' data points (the measures themselves are part of the proposal)
    PDSA = "pdsa"  # change ideas and PDSA cycles


_PROPOSING = frozenset({State.DRAFT, State.CHANGES_REQUESTED})
# Who may edit each section, and in which states. Coordinators may edit any section of an active project.
EDITABLE: Mapping[Section, Mapping[Actor, frozenset[State]]] = {
    Section.PROPOSAL: {Actor.STUDENT: _PROPOSING},
    Section.GOVERNANCE: {Actor.STUDENT: _PROPOSING | {State.APPROVED}, Actor.SUPERVISOR: _PROPOSING | {State.APPROVED}},
    Section.DBS_ATTESTATION: {Actor.SUPERVISOR: _PROPOSING | {State.PROPOSED, State.APPROVED}},
    Section.DELIVERY: {Actor.STUDENT: frozenset({State.IN_DELIVERY, State.EVALUATING})},
    Section.EVALUATION: {Actor.STUDENT: frozenset({State.EVALUATING})},
    Section.SHOWCASE: {Actor.STUDENT: frozenset({State.EVALUATING, State.SUBMITTED})},
    Section.PROGRESS: {Actor.STUDENT: ACTIVE - _PROPOSING - {State.PROPOSED}},
    Section.MEASURES: {Actor.STUDENT: frozenset({State.IN_DELIVERY, State.EVALUATING})},
    Section.PDSA: {Actor.STUDENT: frozenset({State.APPROVED, State.IN_DELIVERY, State.EVALUATING})},
}


def editable_sections(state: State, actor: Actor) -> list[Section]:
    if actor is Actor.COORDINATOR:
        return list(Section) if state in ACTIVE else []
    return [section for section, who in EDITABLE.items() if state in who.get(actor, frozenset())]


@dataclass
class Project:
    id: uuid.UUID
    cohort_id: uuid.UUID
    group_id: uuid.UUID
    practice_id: uuid.UUID
    title: str
    topic: str
    partner_ids: tuple[uuid.UUID, ...]
    state: State
    created_at: datetime
    updated_at: datetime
    students_delivering: frozenset[uuid.UUID] = frozenset()  # the group's students, loaded with the project
    paused_from: State | None = None
    need: Need | None = None
    aim: Aim | None = None
    measures: tuple[Measure, ...] = ()
    change_ideas: tuple[ChangeIdea, ...] = ()
    pdsa_cycles: tuple[PdsaCycle, ...] = ()
    governance: Governance = Governance()
    delivery_sessions: tuple[DeliverySession, ...] = ()
    evaluation: Evaluation = Evaluation()
    showcase: ShowcaseEntry | None = None
    ihi_score: float | None = None
    audit_codes: AuditCodes = AuditCodes()
    # Whether some assessor has given every mark of the cohort's rubric (see note_assessment).
    assessment_complete: bool = False
    # The partner's confirmation of what was delivered: None until the project is submitted.
    verification: VerificationStatus | None = None
    version: int = 1
    events: list[ProjectEvent] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def start(
        cls,
        *,
        cohort_id: uuid.UUID,
        group_id: uuid.UUID,
        practice_id: uuid.UUID,
        title: str,
        topic: str,
        partner_ids: list[uuid.UUID],
        students: frozenset[uuid.UUID],
        now: datetime,
    ) -> "Project":
        project = cls(
            id=uuid.uuid4(),
            cohort_id=cohort_id,
            group_id=group_id,
            practice_id=practice_id,
            title=_text("title", title),
            topic=_text("topic", topic),
            partner_ids=_partners(partner_ids),
            state=State.DRAFT,
            created_at=now,
            updated_at=now,
            students_delivering=students,
        )
        project.events.append(ProjectCreated(project.id))
        return project

    def proposal_parts(self) -> dict[str, bool]:
        return {
            "local health need": self.need is not None,
            "aim statement": self.aim is not None,
            "partner": bool(self.partner_ids),
            "at least one measure": bool(self.measures),
        }

    def take(self, action: Action, actor: Actor, *, by: str, reason: str | None, now: datetime) -> None:
        transition = check(self, action, actor, reason)
        before = self.state
        if action is Action.CLEAR_GOVERNANCE:
            self.governance = replace(self.governance, cleared_by=by, cleared_at=now)
        elif action is Action.PAUSE:
            self.paused_from, self.state = self.state, State.PAUSED
        elif action is Action.REOPEN:
            assert self.paused_from is not None  # only a paused project can be reopened
            self.state, self.paused_from = self.paused_from, None
        else:
            assert transition.target is not None
            self.state = transition.target
        self.updated_at = now
        self.version += 1
        self.events.append(
            ProjectTransitioned(self.id, action.value, before.value, self.state.value, reason, by=by, at=now)
        )
        if action is Action.SUBMIT:
            self._ask_for_verification()

    def _ask_for_verification(self) -> None:
        if not self.partner_ids:
            return  # no partner to ask (a coordinator removed them): nothing to verify
        self.verification = VerificationStatus.PENDING
        self.events.append(VerificationRequested(self.id))

    def record_verification(self, decision: Decision, link_id: uuid.UUID, now: datetime) -> None:
        """The partner's answer, through a link the caller has checked."""
        self.verification = VerificationStatus(decision.value)
        self.updated_at = now
        self.version += 1
        self.events.append(VerificationDecided(self.id, decision.value, link_id))

    def note_assessment(self, *, complete: bool, now: datetime) -> None:
        """Whether some assessor has now given every mark of the cohort's rubric (marks are kept elsewhere,
        and never in events); the `assess` action waits for it."""
        if complete != self.assessment_complete:
            self.assessment_complete = complete
            self.updated_at = now
            self.version += 1

    def _editing(self, section: Section, actor: Actor, now: datetime) -> None:
        self._check_editable(section, actor)
        self._edited(section, now)

    def _check_editable(self, section: Section, actor: Actor) -> None:
        if section not in editable_sections(self.state, actor):
            who = "coordinator" if actor is Actor.COORDINATOR else actor.value
            raise EditRefused(
                section, self.state, f"a {who} cannot edit the {section.value} of a {self.state.value} project"
            )

    def _edited(self, section: Section, now: datetime) -> None:
        self.updated_at = now
        self.version += 1
        self.events.append(ProjectEdited(self.id, section.value))

    def edit_proposal(
        self,
        actor: Actor,
        *,
        title: str,
        topic: str,
        partner_ids: list[uuid.UUID],
        need: Need | None,
        aim: Aim | None,
        measures: list[Measure],
        now: datetime,
    ) -> None:
        if len(measures) > MAX_MEASURES:
            raise InvalidProject("measures", f"at most {MAX_MEASURES} measures")
        if len({m.name.casefold() for m in measures}) != len(measures):
            raise InvalidProject("measures", "each measure needs its own name")
        if need is not None:
            _text("need.summary", need.summary)
        if aim is not None:
            _text("aim.what", aim.what)
        title, topic, partners = _text("title", title), _text("topic", topic), _partners(partner_ids)
        self._editing(Section.PROPOSAL, actor, now)
        self.title, self.topic, self.partner_ids = title, topic, partners
        self.need, self.aim, self.measures = need, aim, self._keeping_data_points(measures)

    def _keeping_data_points(self, measures: list[Measure]) -> tuple[Measure, ...]:
        """A measure that keeps its name keeps its id and data points; a measure dropped or renamed loses them."""
        known = {m.name.casefold(): m for m in self.measures}
        return tuple(
            replace(m, id=old.id, data_points=old.data_points) if (old := known.get(m.name.casefold())) else m
            for m in measures
        )

    def edit_governance(self, actor: Actor, governance: Governance, now: datetime) -> None:
        self._editing(Section.GOVERNANCE, actor, now)
        # A change to what was cleared needs clearing again; the supervisor's attestations stay.
        self.governance = replace(
            governance, dbs_attested=self.governance.dbs_attested, cleared_by=None, cleared_at=None
        )

    def attest_dbs(self, actor: Actor, students: frozenset[uuid.UUID], now: datetime) -> None:
        unknown = students - self.students_delivering
        if unknown:
            raise InvalidProject("student_ids", "only the project's own students can be attested")
        self._editing(Section.DBS_ATTESTATION, actor, now)
        self.governance = replace(self.governance, dbs_attested=students)

    def record_delivery(self, actor: Actor, session: DeliverySession, now: datetime) -> None:
        if any(count < 0 for count in session.reach.values()):
            raise InvalidProject("reach", "people reached are counts of zero or more")
        _text("place", session.place)
        self._editing(Section.DELIVERY, actor, now)
        self.delivery_sessions = (*self.delivery_sessions, session)
        if self.verification in (VerificationStatus.VERIFIED, VerificationStatus.DISPUTED):
            self._ask_for_verification()  # what the partner confirmed has changed: ask again

    def edit_evaluation(self, actor: Actor, evaluation: Evaluation, now: datetime) -> None:
        self._editing(Section.EVALUATION, actor, now)
        self.evaluation = evaluation

    def enter_showcase(self, actor: Actor, entry: ShowcaseEntry, now: datetime) -> None:
        _text("title", entry.title)
        _text("abstract", entry.abstract)
        self._editing(Section.SHOWCASE, actor, now)
        self.showcase = entry

    def record_progress(self, actor: Actor, ihi_score: float | None, audit_codes: AuditCodes, now: datetime) -> None:
        if ihi_score is not None and ihi_score not in IHI_SCORES:
            raise InvalidProject("ihi_score", "the IHI progress score is 0.5 to 5.0 in steps of 0.5")
        self._editing(Section.PROGRESS, actor, now)
        self.ihi_score, self.audit_codes = ihi_score, audit_codes

    # The QI records: data points of the measures, change ideas, PDSA cycles (rules in qi.py).

    def add_data_point(self, actor: Actor, measure_id: uuid.UUID, point: DataPoint, now: datetime) -> None:
        measure = self._measure(measure_id)
        if problem := data_point_problem(point, now.date()):
            raise InvalidProject(*problem)
        point = replace(point, annotation=" ".join(point.annotation.split()))
        self._check_editable(Section.MEASURES, actor)
        if len(measure.data_points) >= MAX_DATA_POINTS:
            raise EditRefused(
                Section.MEASURES, self.state, f"a measure holds at most {MAX_DATA_POINTS} data points: remove one first"
            )
        self._edited(Section.MEASURES, now)
        points = sorted((*measure.data_points, point), key=lambda p: p.measured_on)  # stable: same day, as entered
        self._replace_measure(replace(measure, data_points=tuple(points)))

    def remove_data_point(self, actor: Actor, measure_id: uuid.UUID, point_id: uuid.UUID, now: datetime) -> None:
        measure = self._measure(measure_id)
        if all(p.id != point_id for p in measure.data_points):
            raise InvalidProject("point_id", "no such data point of this measure")
        self._editing(Section.MEASURES, actor, now)
        self._replace_measure(replace(measure, data_points=tuple(p for p in measure.data_points if p.id != point_id)))

    def _measure(self, measure_id: uuid.UUID) -> Measure:
        found = next((m for m in self.measures if m.id == measure_id), None)
        if found is None:
            raise InvalidProject("measure_id", "no such measure in this project's proposal")
        return found

    def _replace_measure(self, measure: Measure) -> None:
        self.measures = tuple(measure if m.id == measure.id else m for m in self.measures)

    def add_change_idea(self, actor: Actor, idea: ChangeIdea, now: datetime) -> None:
        idea = replace(idea, text=_text("text", idea.text))
        self._check_editable(Section.PDSA, actor)
        if any(i.text.casefold() == idea.text.casefold() for i in self.change_ideas):
            raise EditRefused(Section.PDSA, self.state, "this change idea is listed already")
        if len(self.change_ideas) >= MAX_CHANGE_IDEAS:
            raise EditRefused(Section.PDSA, self.state, f"a project lists at most {MAX_CHANGE_IDEAS} change ideas")
        self._edited(Section.PDSA, now)
        self.change_ideas = (*self.change_ideas, idea)

    def remove_change_idea(self, actor: Actor, idea_id: uuid.UUID, now: datetime) -> None:
        if all(i.id != idea_id for i in self.change_ideas):
            raise InvalidProject("idea_id", "no such change idea in this project")
        self._check_editable(Section.PDSA, actor)
        if any(c.change_idea_id == idea_id for c in self.pdsa_cycles):
            raise EditRefused(Section.PDSA, self.state, "a PDSA cycle tests this change idea: it stays on the list")
        self._edited(Section.PDSA, now)
        self.change_ideas = tuple(i for i in self.change_ideas if i.id != idea_id)

    def start_cycle(self, actor: Actor, cycle_id: uuid.UUID, change_idea_id: uuid.UUID, now: datetime) -> None:
        """A new PDSA cycle of a listed change idea, waiting for its plan."""
        if all(i.id != change_idea_id for i in self.change_ideas):
            raise InvalidProject("change_idea_id", "no such change idea in this project: list it first")
        self._check_editable(Section.PDSA, actor)
        if len(self.pdsa_cycles) >= MAX_CYCLES:
            raise EditRefused(Section.PDSA, self.state, f"a project holds at most {MAX_CYCLES} PDSA cycles")
        self._edited(Section.PDSA, now)
        self.pdsa_cycles = (*self.pdsa_cycles, PdsaCycle(cycle_id, change_idea_id))

    def record_step(self, actor: Actor, cycle_id: uuid.UUID, record: StepRecord, now: datetime) -> None:
        """Record (or correct) a step of a cycle, in PDSA order only: a step skipped or fixed is refused."""
        cycle = next((c for c in self.pdsa_cycles if c.id == cycle_id), None)
        if cycle is None:
            raise InvalidProject("cycle_id", "no such PDSA cycle in this project")
        if problem := step_text_problem(record):
            raise InvalidProject(*problem)
        self._check_editable(Section.PDSA, actor)
        if reason := cycle.step_problem(STEP_OF[type(record)]):
            raise StepRefused(self.state, cycle, reason)
        self._edited(Section.PDSA, now)
        changed = cycle.with_step(record)
        self.pdsa_cycles = tuple(changed if c.id == cycle_id else c for c in self.pdsa_cycles)


def _text(field_name: str, value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidProject(field_name, f"{field_name} must not be blank")
    return value


def _partners(partner_ids: list[uuid.UUID]) -> tuple[uuid.UUID, ...]:
    """The lead partner first; each once."""
    return tuple(dict.fromkeys(partner_ids))
