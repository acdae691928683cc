"""The project lifecycle as a property: no sequence of commands reaches an undefined state or skips a guard."""

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from medic.projects.domain.lifecycle import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    Action,
    Actor,
    State,
    TransitionRefused,
    check,
    options,
)
from medic.projects.domain.project import (
    Aim,
    Audience,
    AuditCodes,
    Classification,
    DeliverySession,
    EditRefused,
    Evaluation,
    Governance,
    Measure,
    MeasureType,
    Need,
    Project,
    Section,
    ShowcaseEntry,
    ShowcaseFormat,
    editable_sections,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
STUDENTS = frozenset({uuid.uuid4(), uuid.uuid4()})


def new_project() -> Project:
    return Project.start(
        cohort_id=uuid.uuid4(),
        group_id=uuid.uuid4(),
        practice_id=uuid.uuid4(),
        title="Healthy lunches",
        topic="nutrition",
        partner_ids=[uuid.uuid4()],
        students=STUDENTS,
        now=NOW,
    )


def fill_proposal(project: Project, actor: Actor) -> None:
    project.edit_proposal(
        actor,
        title=project.title,
        topic=project.topic,
        partner_ids=list(project.partner_ids),
        need=Need("Families report little access to fresh food", ("practice audit",), ("food bank",), "survey"),
        aim=Aim("more families cook fresh meals", "20% more", date(2027, 3, 1), "families at the practice"),
        measures=[Measure("meals", MeasureType.OUTCOME, "fresh meals a week", "survey", "2", "3")],
        now=NOW,
    )


def fill_governance(project: Project, actor: Actor) -> None:
    project.edit_governance(
        actor,
        Governance(Classification.SERVICE_EVALUATION, "no new treatment", risk_assessment="low risk; ref RA-1"),
        NOW,
    )


EDITS: dict[str, Callable[[Project, Actor], object]] = {
    "proposal": fill_proposal,
    "governance": fill_governance,
    "vulnerable": lambda p, a: p.edit_governance(
        a, Governance(Classification.AUDIT, "audit", "", "ra", works_with_children_or_vulnerable_adults=True), NOW
    ),
    "attest": lambda p, a: p.attest_dbs(a, STUDENTS, NOW),
    "delivery": lambda p, a: p.record_delivery(
        a, DeliverySession(uuid.uuid4(), date(2027, 1, 10), "community hall", "workshop", {Audience.ADULTS: 12}), NOW
    ),
    "evaluation": lambda p, a: p.edit_evaluation(
        a, Evaluation("met", "cooking demos", "small sample", "handed over"), NOW
    ),
    "showcase": lambda p, a: p.enter_showcase(a, ShowcaseEntry(ShowcaseFormat.POSTER, "Fresh food", "We..."), NOW),
    "progress": lambda p, a: p.record_progress(a, 3.0, AuditCodes(needs_analysis=True), NOW),
    "assessed": lambda p, a: setattr(p, "assessment_complete", True),
}


SECTION_OF = {
    "proposal": Section.PROPOSAL,
    "governance": Section.GOVERNANCE,
    "vulnerable": Section.GOVERNANCE,
    "attest": Section.DBS_ATTESTATION,
    "delivery": Section.DELIVERY,
    "evaluation": Section.EVALUATION,
    "showcase": Section.SHOWCASE,
    "progress": Section.PROGRESS,
}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_sequence_of_commands_reaches_an_undefined_state_or_skips_a_guard(data: st.DataObject) -> None:
    """Random steps, half of them steered to what is offered now, so that deep states are reached too."""
    project = new_project()
    for _ in range(data.draw(st.integers(0, 80))):
        actor = data.draw(st.sampled_from(list(Actor)))
        offered = [option.action for option in options(project, actor) if option.allowed]
        before = copy.deepcopy(project)
        if data.draw(st.booleans()):
            editable = [e for e, section in SECTION_OF.items() if section in editable_sections(project.state, actor)]
            steer_edit = bool(editable) and data.draw(st.booleans())
            edit = data.draw(st.sampled_from(editable if steer_edit else sorted(EDITS)))
            try:
                EDITS[edit](project, actor)
            except EditRefused:
                assert project == before  # a refused edit changes nothing
            continue
        steer_action = bool(offered) and data.draw(st.booleans())
        action = data.draw(st.sampled_from(offered if steer_action else list(Action)))
        reason = data.draw(st.sampled_from([None, "", "because"]))
        try:
            project.take(action, actor, by="user-1", reason=reason, now=NOW)
        except TransitionRefused as refused:
            assert project == before  # a refused action changes nothing
            assert refused.reasons and refused.state is before.state
            assert action not in offered or (TRANSITIONS[action].needs_reason and not (reason or "").strip())
            continue
        _check_taken(before, project, action, actor, offered)
    assert (project.state is State.PAUSED) == (project.paused_from is not None)


def _check_taken(before: Project, after: Project, action: Action, actor: Actor, offered: list[Action]) -> None:
    """What was taken was offered, and the lifecycle's promises hold, whatever the path (stated here
    independently of TRANSITIONS, so that a guard dropped from the table is caught)."""
    assert action in offered and before.state not in TERMINAL and after.version == before.version + 1
    assert after.state in State
    if actor is not Actor.COORDINATOR:
        assert action not in {Action.WITHDRAW, Action.PAUSE, Action.REOPEN, Action.CLOSE}
    if actor is Actor.PARTNER:
        raise AssertionError("partners take no lifecycle action")
    if action is Action.REOPEN:
        assert after.state == before.paused_from
    if after.state is State.PROPOSED or action is Action.APPROVE:
        assert all(before.proposal_parts().values())
    if after.state is State.IN_DELIVERY:
        assert after.governance.cleared
    if action is Action.CLEAR_GOVERNANCE:
        assert not before.governance.problems(before.students_delivering)
    if after.state is State.EVALUATING:
        assert after.delivery_sessions
    if after.state is State.SUBMITTED:
        assert after.delivery_sessions and not after.evaluation.missing()
    if after.state is State.SHOWCASED:
        assert after.showcase is not None
    if after.state is State.ASSESSED:
        assert after.assessment_complete
    if TRANSITIONS[action].needs_reason:
        assert after.events[-1].reason  # type: ignore[attr-defined]


@given(st.sampled_from(list(State)), st.sampled_from(list(Actor)))
def test_options_offer_exactly_what_check_accepts(state: State, actor: Actor) -> None:
    project = new_project()
    fill_proposal(project, Actor.COORDINATOR)
    project.state = state
    if state is State.PAUSED:
        project.paused_from = State.DRAFT
    for option in options(project, actor):
        try:
            check(project, option.action, actor, "a reason")
            accepted = True
        except TransitionRefused:
            accepted = False
        assert accepted == option.allowed


def test_the_happy_path_from_draft_to_closed() -> None:
    project = new_project()
    student, supervisor, coordinator = Actor.STUDENT, Actor.SUPERVISOR, Actor.COORDINATOR

    def take(action: Action, actor: Actor, reason: str | None = None) -> None:
        project.take(action, actor, by="someone", reason=reason, now=NOW)

    fill_proposal(project, student)
    take(Action.SUBMIT_PROPOSAL, student)
    take(Action.REQUEST_CHANGES, supervisor, "tighten the aim")
    fill_proposal(project, student)
    take(Action.SUBMIT_PROPOSAL, student)
    take(Action.APPROVE, supervisor)
    fill_governance(project, student)
    take(Action.CLEAR_GOVERNANCE, supervisor)
    take(Action.START_DELIVERY, student)
    EDITS["delivery"](project, student)
    take(Action.START_EVALUATION, student)
    EDITS["evaluation"](project, student)
    take(Action.SUBMIT, student)
    EDITS["showcase"](project, student)
    take(Action.SHOWCASE, supervisor)
    project.assessment_complete = True
    take(Action.ASSESS, supervisor)
    take(Action.CLOSE, coordinator)
    assert project.state is State.CLOSED
    assert options(project, coordinator) == []


def test_a_refusal_says_the_state_what_is_missing_and_what_may_be_done() -> None:
    project = new_project()
    project.state = State.APPROVED
    try:
        project.take(Action.START_DELIVERY, Actor.STUDENT, by="s", reason=None, now=NOW)
    except TransitionRefused as refused:
        assert refused.state is State.APPROVED
        assert refused.reasons == ["governance not cleared: a supervisor must clear it first"]
        assert refused.allowed == []
    project.governance = Governance(Classification.RESEARCH, "new intervention", risk_assessment="")
    try:
        project.take(Action.CLEAR_GOVERNANCE, Actor.SUPERVISOR, by="s", reason=None, now=NOW)
    except TransitionRefused as refused:
        assert "risk assessment missing" in refused.reasons[0]
        assert "research ethics approval reference missing" in refused.reasons[0]


def test_working_with_vulnerable_people_needs_every_delivering_student_attested() -> None:
    project = new_project()
    project.state = State.APPROVED
    EDITS["vulnerable"](project, Actor.STUDENT)
    (clear,) = [o for o in options(project, Actor.SUPERVISOR) if o.action is Action.CLEAR_GOVERNANCE]
    assert clear.blocked_by == ("governance not ready to clear: DBS check not attested for 2 student(s) delivering",)
    project.attest_dbs(Actor.SUPERVISOR, STUDENTS, NOW)
    project.take(Action.CLEAR_GOVERNANCE, Actor.SUPERVISOR, by="s", reason=None, now=NOW)
    assert project.governance.cleared
    fill_governance(project, Actor.STUDENT)  # changing what was cleared needs clearing again
    assert not project.governance.cleared and project.governance.dbs_attested == STUDENTS


def test_only_coordinators_pause_withdraw_and_reopen_and_only_active_projects() -> None:
    for state in State:
        offered = {o.action for o in options(_in(state), Actor.COORDINATOR)}
        assert (Action.WITHDRAW in offered) == (state in ACTIVE)
        assert (Action.REOPEN in offered) == (state is State.PAUSED)
        for actor in (Actor.SUPERVISOR, Actor.STUDENT, Actor.PARTNER):
            assert not {Action.WITHDRAW, Action.PAUSE, Action.REOPEN} & {o.action for o in options(_in(state), actor)}


def _in(state: State) -> Project:
    project = new_project()
    project.state = state
    project.paused_from = State.DRAFT if state is State.PAUSED else None
    return project
