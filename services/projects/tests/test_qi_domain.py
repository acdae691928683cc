"""The QI records in the domain: PDSA steps as a property (never skipped, never rewritten after a later one), the
rules of data points, change ideas and cycles, and who may edit them when."""

import copy
import math
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medic.projects.domain.lifecycle import ACTIVE, Actor, State
from medic.projects.domain.project import (
    EditRefused,
    InvalidProject,
    Measure,
    MeasureType,
    Project,
    Section,
    StepRefused,
    editable_sections,
)
from medic.projects.domain.qi import (
    FLOW,
    MAX_DATA_POINTS,
    Act,
    ChangeIdea,
    CycleStage,
    DataPoint,
    Decision,
    Do,
    Plan,
    Step,
    StepRecord,
    Study,
    writable_steps,
)

NOW = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
STEPS = list(Step)  # plan, do, study, act: the order, stated here independently of FLOW
RECORDS: dict[Step, StepRecord] = {
    Step.PLAN: Plan("test a demonstration", "half will cook a recipe", "a card and a call"),
    Step.DO: Do("18 families came", "no hob"),
    Step.STUDY: Study("7 of 15 cooked", "a little under half"),
    Step.ACT: Act(Decision.ADAPT, "microwave recipes next"),
}


def project_in(state: State, *measure_names: str) -> Project:
    project = Project.start(
        cohort_id=uuid.uuid4(),
        group_id=uuid.uuid4(),
        practice_id=uuid.uuid4(),
        title="Healthy lunches",
        topic="nutrition",
        partner_ids=[uuid.uuid4()],
        students=frozenset({uuid.uuid4()}),
        now=NOW,
    )
    project.measures = tuple(measure(name) for name in measure_names)
    project.state = state
    project.events.clear()
    return project


def measure(name: str) -> Measure:
    return Measure(name, MeasureType.OUTCOME, "fresh meals a week", "survey", "2", "3")


def with_cycle(project: Project, actor: Actor = Actor.STUDENT) -> uuid.UUID:
    idea = ChangeIdea(uuid.uuid4(), f"idea {len(project.change_ideas)}")
    project.add_change_idea(actor, idea, NOW)
    cycle_id = uuid.uuid4()
    project.start_cycle(actor, cycle_id, idea.id, NOW)
    return cycle_id


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(STEPS), max_size=20))
def test_no_sequence_of_steps_skips_one_or_rewrites_a_step_a_later_one_has_fixed(attempts: list[Step]) -> None:
    project = project_in(State.IN_DELIVERY)
    cycle_id = with_cycle(project)
    for step in attempts:
        (before,) = project.pdsa_cycles
        recorded = [s for s in STEPS if getattr(before, s.value) is not None]
        assert recorded == STEPS[: len(recorded)]  # always a prefix: no step skipped
        snapshot = copy.deepcopy(project)
        record = RECORDS[step]
        if step in recorded:  # a correction: different text, same step
            record = replace_text(record)
        try:
            project.record_step(Actor.STUDENT, cycle_id, record, NOW)
        except StepRefused as refused:
            assert project == snapshot  # a refusal changes nothing
            assert refused.stage is before.stage and refused.writable == writable_steps(before.stage)
            position = STEPS.index(step)
            assert position > len(recorded) or position < len(recorded) - 1
            continue
        (after,) = project.pdsa_cycles
        position = STEPS.index(step)
        assert position in (len(recorded), len(recorded) - 1)  # the next step, or the latest one corrected
        assert getattr(after, step.value) == record
        now_recorded = [s for s in STEPS if getattr(after, s.value) is not None]
        assert len(now_recorded) == len(recorded) + (position == len(recorded))
        for earlier in STEPS[:position]:
            assert getattr(after, earlier.value) == getattr(before, earlier.value)  # fixed steps stay
        assert after.stage in CycleStage and after.stage is stage_after(len(now_recorded))


def replace_text(record: StepRecord) -> StepRecord:
    if isinstance(record, Plan):
        return Plan(record.objective, "a different prediction", record.data_plan)
    if isinstance(record, Do):
        return Do("something else happened")
    if isinstance(record, Study):
        return Study("other results", "above the prediction")
    return Act(Decision.SCALE, "spread it to the other practice")


def stage_after(steps_recorded: int) -> CycleStage:
    return [CycleStage.PLANNING, CycleStage.DOING, CycleStage.STUDYING, CycleStage.ACTING, CycleStage.COMPLETE][
        steps_recorded
    ]


def test_flow_defines_every_stage_and_each_stage_offers_the_next_step_and_the_latest() -> None:
    assert set(FLOW) == set(CycleStage)
    assert writable_steps(CycleStage.PLANNING) == [Step.PLAN]
    assert writable_steps(CycleStage.STUDYING) == [Step.DO, Step.STUDY]
    assert writable_steps(CycleStage.COMPLETE) == [Step.ACT]


def test_a_refused_step_says_why() -> None:
    project = project_in(State.APPROVED)
    cycle_id = with_cycle(project)
    with pytest.raises(StepRefused, match="record the plan of this cycle before its study") as skipped:
        project.record_step(Actor.STUDENT, cycle_id, RECORDS[Step.STUDY], NOW)
    assert skipped.value.section is Section.PDSA and skipped.value.state is State.APPROVED
    project.record_step(Actor.STUDENT, cycle_id, RECORDS[Step.PLAN], NOW)
    project.record_step(Actor.STUDENT, cycle_id, RECORDS[Step.DO], NOW)
    with pytest.raises(StepRefused, match="the plan of this cycle is fixed: its do is recorded already"):
        project.record_step(Actor.STUDENT, cycle_id, RECORDS[Step.PLAN], NOW)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (Plan("objective", " ", "data plan"), "prediction"),
        (Do(""), "what_happened"),
        (Study("results", "\t"), "against_prediction"),
        (Act(Decision.ADOPT, " "), "next_step"),
    ],
)
def test_a_step_without_its_substance_is_invalid(record: StepRecord, field: str) -> None:
    project = project_in(State.IN_DELIVERY)
    cycle_id = with_cycle(project)
    with pytest.raises(InvalidProject) as invalid:
        project.record_step(Actor.STUDENT, cycle_id, record, NOW)
    assert invalid.value.field == field


@settings(deadline=None)
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_a_data_point_is_accepted_only_when_finite_and_dated_in_the_last_five_years(
    measured_on: date, value: float
) -> None:
    project = project_in(State.IN_DELIVERY, "fresh meals")
    (target,) = project.measures
    point = DataPoint(uuid.uuid4(), measured_on, value, "  pre   workshop ")
    sensible = TODAY - timedelta(days=5 * 366) <= measured_on <= TODAY + timedelta(days=1)
    try:
        project.add_data_point(Actor.STUDENT, target.id, point, NOW)
    except InvalidProject as invalid:
        assert invalid.field == ("value" if not math.isfinite(value) else "measured_on")
        assert not (math.isfinite(value) and sensible)
        assert project.measures == (target,) and not project.events
        return
    assert math.isfinite(value) and sensible
    (stored,) = project.measures[0].data_points
    assert stored == DataPoint(point.id, measured_on, value, "pre workshop")
    assert [e.section for e in project.events] == ["measures"]  # type: ignore[attr-defined]


def test_data_points_stay_in_date_order_up_to_the_limit_and_can_be_removed() -> None:
    project = project_in(State.EVALUATING, "fresh meals", "attendance")
    meals = project.measures[0].id
    days = [TODAY - timedelta(days=(i * 37) % 90) for i in range(MAX_DATA_POINTS)]
    for day in days:
        project.add_data_point(Actor.STUDENT, meals, DataPoint(uuid.uuid4(), day, 1.0), NOW)
    stored = project.measures[0].data_points
    assert [p.measured_on for p in stored] == sorted(days)
    with pytest.raises(EditRefused, match="at most 200 data points"):
        project.add_data_point(Actor.STUDENT, meals, DataPoint(uuid.uuid4(), TODAY, 1.0), NOW)
    project.remove_data_point(Actor.STUDENT, meals, stored[3].id, NOW)
    assert stored[3] not in project.measures[0].data_points and len(project.measures[0].data_points) == 199
    assert project.measures[1].data_points == ()  # the other measure is untouched
    with pytest.raises(InvalidProject) as unknown_point:
        project.remove_data_point(Actor.STUDENT, meals, stored[3].id, NOW)
    assert unknown_point.value.field == "point_id"


def test_a_data_point_for_an_unknown_measure_names_the_measure() -> None:
    project = project_in(State.IN_DELIVERY, "fresh meals")
    with pytest.raises(InvalidProject) as invalid:
        project.add_data_point(Actor.STUDENT, uuid.uuid4(), DataPoint(uuid.uuid4(), TODAY, 1.0), NOW)
    assert invalid.value.field == "measure_id"


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("actor", list(Actor))
def test_who_may_record_data_points_and_pdsa_and_when(state: State, actor: Actor) -> None:
    project = project_in(state, "fresh meals")
    idea = ChangeIdea(uuid.uuid4(), "demonstrations")
    students_measures = {State.IN_DELIVERY, State.EVALUATING}
    students_pdsa = {State.APPROVED, State.IN_DELIVERY, State.EVALUATING}
    point = DataPoint(uuid.uuid4(), TODAY, 2.0)
    changes: list[tuple[Section, Callable[[], None], set[State]]] = [
        (
            Section.MEASURES,
            lambda: project.add_data_point(actor, project.measures[0].id, point, NOW),
            students_measures,
        ),
        (Section.PDSA, lambda: project.add_change_idea(actor, idea, NOW), students_pdsa),
    ]
    for section, change, students_may in changes:
        may = (actor is Actor.COORDINATOR and state in ACTIVE) or (actor is Actor.STUDENT and state in students_may)
        assert (section in editable_sections(state, actor)) == may
        version = project.version
        try:
            change()
        except EditRefused as refused:
            assert not may and refused.state is state and project.version == version
        else:
            assert may and project.version == version + 1


def test_a_measure_keeps_its_id_and_data_points_while_it_keeps_its_name() -> None:
    project = project_in(State.IN_DELIVERY, "Fresh meals", "attendance")
    meals, attendance = project.measures
    project.add_data_point(Actor.STUDENT, meals.id, DataPoint(uuid.uuid4(), TODAY, 2.0), NOW)
    project.add_data_point(Actor.STUDENT, attendance.id, DataPoint(uuid.uuid4(), TODAY, 9.0), NOW)
    points = project.measures[0].data_points
    project.edit_proposal(
        Actor.COORDINATOR,
        title=project.title,
        topic=project.topic,
        partner_ids=list(project.partner_ids),
        need=None,
        aim=None,
        measures=[measure("fresh MEALS"), measure("people attending")],  # one kept (any case), one renamed
        now=NOW,
    )
    kept, renamed = project.measures
    assert kept.id == meals.id and kept.data_points == points and kept.name == "fresh MEALS"
    assert renamed.id != attendance.id and renamed.data_points == ()


def test_change_ideas_are_listed_once_and_stay_while_a_cycle_tests_them() -> None:
    project = project_in(State.APPROVED)
    idea = ChangeIdea(uuid.uuid4(), "  cooking   demonstrations ")
    project.add_change_idea(Actor.STUDENT, idea, NOW)
    assert project.change_ideas == (ChangeIdea(idea.id, "cooking demonstrations"),)
    with pytest.raises(EditRefused, match="listed already"):
        project.add_change_idea(Actor.STUDENT, ChangeIdea(uuid.uuid4(), "Cooking demonstrations"), NOW)
    with pytest.raises(InvalidProject) as unknown:
        project.start_cycle(Actor.STUDENT, uuid.uuid4(), uuid.uuid4(), NOW)
    assert unknown.value.field == "change_idea_id"
    project.start_cycle(Actor.STUDENT, uuid.uuid4(), idea.id, NOW)
    with pytest.raises(EditRefused, match="a PDSA cycle tests this change idea"):
        project.remove_change_idea(Actor.STUDENT, idea.id, NOW)
    other = ChangeIdea(uuid.uuid4(), "recipe cards")
    project.add_change_idea(Actor.STUDENT, other, NOW)
    project.remove_change_idea(Actor.STUDENT, other.id, NOW)
    assert [i.id for i in project.change_ideas] == [idea.id]
    with pytest.raises(InvalidProject) as gone:
        project.remove_change_idea(Actor.STUDENT, other.id, NOW)
    assert gone.value.field == "idea_id"
