"""The session lifecycle as a property, and the programme's rules without I/O."""

import copy
import uuid
from collections.abc import Callable
from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medic.outreach.domain.primary import (
    STEPS,
    Delivery,
    FaceCounts,
    Form,
    FormItem,
    FormKind,
    InvalidInput,
    Level,
    Phase,
    PupilFeedback,
    Session,
    TeacherFeedback,
    Term,
    Topic,
    key_stage,
)
from medic.outreach.domain.primary_lifecycle import (
    TERMINAL,
    TRANSITIONS,
    Action,
    Actor,
    State,
    TransitionRefused,
    check,
    options,
)
from medic.shared.contracts.outreach import SchoolPhase
from medic.shared.contracts.outreach.primary import KeyStage, YearGroup

DAY = date(2027, 1, 20)
TERM = Term(uuid.uuid4(), "Spring", "2026/27", date(2027, 1, 4), date(2027, 3, 26))
TOPIC = Topic("healthy_eating", "Healthy eating", statutory=True)
TEACHER_FORM = Form(FormKind.TEACHER, 1, (FormItem("right_level", "Right level"), FormItem("engaged", "Engaged")))
PUPIL_FORM = Form(FormKind.PUPIL, 1, (FormItem("know_topic", "I know about it"),))


def new_session() -> Session:
    return Session.plan(
        term=TERM, urn="100000", phase=SchoolPhase.PRIMARY, day=DAY, starts_at=time(9), ends_at=time(10),
        year_group=YearGroup.YEAR_2, topic=TOPIC, level=Level.CORE, students=["s1", "s2"], max_students=6,
    )  # fmt: skip


STEP_DATA: dict[Action, Callable[[Session, Actor, date], object]] = {
    Action.RECORD_DELIVERY: lambda s, a, today: s.record_delivery(a, Delivery.create(pupils=20, classes=1,
                                                                   teacher_present_throughout=True), today=today),
    Action.GIVE_TEACHER_FEEDBACK: lambda s, a, _: s.give_teacher_feedback(
        a, TeacherFeedback.create(TEACHER_FORM, {"right_level": 4, "engaged": 5}, None)),
    Action.GIVE_PUPIL_FEEDBACK: lambda s, a, _: s.give_pupil_feedback(a, PupilFeedback.create(
        PUPIL_FORM, [FaceCounts("know_topic", p, 5, 5, 5) for p in Phase], 20)),
    Action.WRITE_REFLECTION: lambda s, a, _: s.may_reflect(a),
}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_no_sequence_of_actions_reaches_an_undefined_state_or_skips_a_guard(data: st.DataObject) -> None:
    session = new_session()
    session.events.clear()
    for _ in range(data.draw(st.integers(0, 40))):
        actor = data.draw(st.sampled_from(list(Actor)))
        today = data.draw(st.sampled_from([date(2027, 1, 19), DAY, date(2027, 2, 1)]))
        offered = [o.action for o in options(session, actor, today) if o.allowed]
        steer = bool(offered) and data.draw(st.booleans())
        action = data.draw(st.sampled_from(offered if steer else list(Action)))
        reason = data.draw(st.sampled_from([None, "", "snow"]))
        before = copy.deepcopy(session)
        try:
            if action in STEPS:
                STEP_DATA[action](session, actor, today)
            else:
                session.take(action, actor, today=today, reason=reason)
        except TransitionRefused as refused:
            assert session == before and refused.reasons and refused.state is before.state
            assert action not in offered or (TRANSITIONS[action].needs_reason and not (reason or "").strip())
            continue
        # What was taken was offered, and the promises hold whatever the path (stated apart from TRANSITIONS).
        assert action in offered and before.state not in TERMINAL
        if actor is Actor.PARTNER:
            raise AssertionError("partners take no action")
        if actor is Actor.STUDENT:
            assert action in {Action.RECORD_DELIVERY, Action.GIVE_PUPIL_FEEDBACK, Action.WRITE_REFLECTION}
        if session.state is State.DELIVERED and before.state is not State.DELIVERED:
            assert before.state is State.PLAN_REVIEWED and today >= DAY and session.delivery is not None
        if session.state is State.FEEDBACK_COLLECTED and before.state is State.DELIVERED:
            assert session.teacher_feedback is not None
        if session.state is State.CANCELLED:
            assert before.state in {State.PLANNED, State.PLAN_REVIEWED} and session.cancel_reason == "snow"
        if session.state is State.CLOSED:
            assert before.state in {State.FEEDBACK_COLLECTED, State.CLOSED}
        if session.state is not before.state:
            assert session.events[-1] is session.state and session.version == before.version + 1
    assert session.state in State


@given(st.sampled_from(list(State)), st.sampled_from(list(Actor)))
def test_options_offer_exactly_what_check_accepts(state: State, actor: Actor) -> None:
    session = new_session()
    session.state = state
    for option in options(session, actor, DAY):
        try:
            check(session, option.action, actor, today=DAY, reason="a reason")
            accepted = True
        except TransitionRefused:
            accepted = False
        assert accepted == option.allowed


@pytest.mark.parametrize(
    ("year", "stage"),
    [(YearGroup.RECEPTION, KeyStage.EYFS), (YearGroup.YEAR_1, KeyStage.KS1), (YearGroup.YEAR_2, KeyStage.KS1),
     (YearGroup.YEAR_3, KeyStage.KS2), (YearGroup.YEAR_6, KeyStage.KS2)],
)  # fmt: skip
def test_the_key_stage_follows_the_year_group(year: YearGroup, stage: KeyStage) -> None:
    assert key_stage(year) is stage


def test_counts_are_never_negative_and_pupils_at_least_classes() -> None:
    with pytest.raises(InvalidInput) as error:
        Delivery.create(pupils=-1, classes=0, teacher_present_throughout=True)
    assert error.value.loc == ("pupils",)
    with pytest.raises(InvalidInput) as error:
        Delivery.create(pupils=2, classes=3, teacher_present_throughout=True)
    assert error.value.loc == ("pupils",)
    assert Delivery.create(pupils=0, classes=0, teacher_present_throughout=False).pupils == 0


def test_a_secondary_school_cannot_host_a_session_and_a_day_outside_the_term_is_refused() -> None:
    for phase, day, loc in [(SchoolPhase.SECONDARY, DAY, "urn"), (SchoolPhase.SPECIAL, date(2027, 4, 1), "date")]:
        with pytest.raises(InvalidInput) as error:
            Session.plan(term=TERM, urn="1", phase=phase, day=day, starts_at=time(9), ends_at=time(10),
                         year_group=YearGroup.YEAR_1, topic=TOPIC, level=Level.CORE, students=["s"],
                         max_students=2)  # fmt: skip
        assert error.value.loc == (loc,)


def test_a_new_form_version_is_the_next_number_and_the_old_one_is_untouched() -> None:
    second = Form.next(FormKind.TEACHER, TEACHER_FORM, [("right_level", "Right level"), ("safe", "Felt safe")])
    assert second.version == 2 and TEACHER_FORM.keys == ("right_level", "engaged")
    with pytest.raises(InvalidInput):
        Form.next(FormKind.TEACHER, second, [("same", "a"), ("same", "b")])


def test_pupil_answers_cannot_outnumber_the_pupils() -> None:
    with pytest.raises(InvalidInput) as error:
        PupilFeedback.create(PUPIL_FORM, [FaceCounts("know_topic", p, 10, 10, 1) for p in Phase], 20)
    assert error.value.loc == ("counts", 0)
