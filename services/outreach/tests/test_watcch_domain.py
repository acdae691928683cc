"""WATCCH domain: eligibility rules as data, explained decisions, the application lifecycle, the waitlist order."""

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medic.outreach.domain.indicators import AreaMeasure, IndicatorSource, IndividualMeasure
from medic.outreach.domain.watcch import (
    HOLDS_PLACE,
    TERMINAL,
    TRANSITIONS,
    Action,
    Actor,
    Application,
    Cycle,
    CycleStatus,
    InvalidWatcch,
    QueueKey,
    State,
    TransitionRefused,
    YearGroup,
    age_on,
    check,
    default_rules,
    options,
    place_change,
    waitlist_order,
)
from medic.outreach.domain.watcch_eligibility import (
    ApplicantFacts,
    AreaCriterion,
    AreaFact,
    AtLeast,
    Comparison,
    IndividualCriterion,
    IndividualFact,
    InvalidRules,
    Outcome,
    RuleSet,
    decide,
    finding_from_data,
    finding_to_data,
    rule_from_data,
    rule_to_data,
    validate,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
RULES = RuleSet(1, default_rules())


def facts(**individual: str) -> ApplicantFacts:
    return ApplicantFacts(
        year_group="year_12",
        school_state_funded=True,
        area=(AreaFact(AreaMeasure.IMD_QUINTILE, "2019", 1), AreaFact(AreaMeasure.IMD_QUINTILE, "2025", 4)),
        individual={
            IndividualMeasure(m): IndividualFact(IndividualMeasure(m), v, IndicatorSource.SELF_DECLARED)
            for m, v in individual.items()
        },
    )


def test_two_indicators_make_an_applicant_eligible_and_the_values_are_named() -> None:
    decision = decide(RULES, facts(free_school_meals="yes", parental_education="02"))
    assert decision.eligible and decision.rules_version == 1
    at_least = decision.findings[2]
    met = [c.rule for c in at_least.criteria if c.outcome is Outcome.MET]
    assert met == ["free_school_meals in {yes}", "parental_education in {02}"]
    fsm = at_least.criteria[2].values[0]
    assert (fsm.value, fsm.source) == ("yes", "self_declared")


def test_the_newest_edition_is_used_unless_the_rule_names_one() -> None:
    newest = decide(RULES, facts(free_school_meals="yes")).findings[2].criteria[1]
    assert (newest.outcome, newest.values[0].edition, newest.values[0].value) == (Outcome.NOT_MET, "2025", "4")
    pinned = RuleSet(2, (AtLeast(1, (AreaCriterion(AreaMeasure.IMD_QUINTILE, Comparison.AT_MOST, 2, "2019"),)),))
    finding = decide(pinned, facts()).findings[0].criteria[0]
    assert (finding.outcome, finding.values[0].edition, finding.values[0].value) == (Outcome.MET, "2019", "1")
    assert finding.rule == "imd_quintile (2019) <= 2"


def test_a_missing_value_is_explained_as_missing_not_as_false() -> None:
    decision = decide(RULES, facts(free_school_meals="yes"))
    assert not decision.eligible
    polar = decision.findings[2].criteria[0]
    assert polar.outcome is Outcome.MISSING and polar.values[0].value is None
    # One met, POLAR4 and four answers missing: the rule could have been met, so it is missing, not failed.
    assert decision.findings[2].outcome is Outcome.MISSING
    assert "1 of 7 met, 5 missing" in decision.findings[2].note


def test_a_failed_rule_is_not_met_and_every_rule_is_judged() -> None:
    answers = dict(free_school_meals="no", parental_education="01", care_experience="not_care_experienced",
                   young_carer="no", estranged="no")  # fmt: skip
    decision = decide(RULES, replace(facts(**answers), year_group="year_13", school_state_funded=False,
                                     area=(AreaFact(AreaMeasure.POLAR4_QUINTILE, "2018", 5),)))  # fmt: skip
    assert [f.outcome for f in decision.findings] == [Outcome.NOT_MET] * 3
    assert decision.findings[0].values[0].value == "year_13"
    school_unknown = decide(RULES, replace(facts(), school_state_funded=None)).findings[1]
    assert school_unknown.outcome is Outcome.MISSING


def test_rules_and_findings_survive_a_round_trip_through_data() -> None:
    assert tuple(rule_from_data(rule_to_data(r)) for r in RULES.rules) == RULES.rules
    decision = decide(RULES, facts(free_school_meals="yes"))
    assert tuple(finding_from_data(finding_to_data(f)) for f in decision.findings) == decision.findings


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (AtLeast(3, (IndividualCriterion(IndividualMeasure.YOUNG_CARER, frozenset({"yes"})),)), "rules.0.n"),
        (AtLeast(1, (AreaCriterion(AreaMeasure.IMD_QUINTILE, Comparison.AT_MOST, 6),)), "rules.0.criteria.0.threshold"),
        (AtLeast(1, (IndividualCriterion(IndividualMeasure.PARENTAL_EDUCATION, frozenset({"03"})),)),
         "rules.0.criteria.0.values"),
    ],
)  # fmt: skip
def test_rules_that_cannot_be_judged_by_are_refused_naming_the_part(rule: AtLeast, field: str) -> None:
    with pytest.raises(InvalidRules) as refused:
        validate([rule])
    assert refused.value.field == field


def cycle(**changes: object) -> Cycle:
    base = Cycle(
        id=uuid.uuid4(),
        name="WATCCH 2026/27",
        academic_year="2026/27",
        capacity=2,
        applications_open_on=date(2026, 9, 1),
        applications_close_on=date(2026, 12, 1),
        programme_starts_on=date(2027, 1, 10),
        programme_ends_on=date(2027, 7, 1),
        offer_lifetime_days=10,
        year_groups=frozenset({YearGroup.YEAR_12}),
        questions=(),
        status=CycleStatus.OPEN,
        rules=RULES,
    )
    return replace(base, **changes).check()  # type: ignore[arg-type]


def test_a_cycle_checks_its_dates_and_an_applicant_their_age_and_year() -> None:
    with pytest.raises(InvalidWatcch) as refused:
        cycle(academic_year="2026/28")
    assert refused.value.field == "academic_year"
    with pytest.raises(InvalidWatcch) as refused:
        cycle(applications_close_on=date(2026, 8, 1))
    assert refused.value.field == "applications_close_on"
    c = cycle()
    c.check_applicant(YearGroup.YEAR_12, date(2010, 1, 10))  # 17 on the first day
    for born, year, field in [(date(2012, 1, 11), YearGroup.YEAR_12, "date_of_birth"),
                              (date(2008, 1, 9), YearGroup.YEAR_12, "date_of_birth"),
                              (date(2010, 1, 1), YearGroup.YEAR_13, "year_group")]:  # fmt: skip
        with pytest.raises(InvalidWatcch) as refused:
            c.check_applicant(year, born)
        assert refused.value.field == field
    assert age_on(date(2008, 1, 10), date(2027, 1, 10)) == 19
    assert c.takes_public_applications(date(2026, 12, 2)) is not None
    assert c.takes_public_applications(date(2026, 12, 1)) is None


def application(state: State = State.SUBMITTED) -> Application:
    return Application(
        id=uuid.uuid4(),
        reference="WAT-2026-ABC234",
        cycle_id=uuid.uuid4(),
        participant_id=uuid.uuid4(),
        school_urn="100000",
        year_group=YearGroup.YEAR_12,
        state=state,
        submitted_at=NOW,
        entered_by_coordinator=False,
    )


def test_becoming_eligible_fixes_the_queue_key_and_staying_eligible_keeps_it() -> None:
    eligible = decide(RULES, facts(free_school_meals="yes", young_carer="yes"))
    first = application().decided(eligible, Action.DECIDE, Actor.SYSTEM, NOW, draw=7)
    assert first.state is State.ELIGIBLE and first.queue == QueueKey(NOW, 7)
    waiting = first.moved(Action.WAITLIST, State.WAITLISTED, Actor.SYSTEM)
    again = waiting.decided(eligible, Action.REEVALUATE, Actor.COORDINATOR, NOW + timedelta(days=1), draw=1)
    assert again.state is State.WAITLISTED and again.queue == QueueKey(NOW, 7)
    lost = again.decided(decide(RULES, facts()), Action.REEVALUATE, Actor.COORDINATOR, NOW, draw=3)
    assert lost.state is State.INELIGIBLE and lost.queue is None


def test_the_waitlist_is_ordered_by_eligibility_time_then_the_draw_never_by_anything_else() -> None:
    a, b, c = (replace(application(State.WAITLISTED), queue=q) for q in
               (QueueKey(NOW, 50), QueueKey(NOW, 3), QueueKey(NOW - timedelta(seconds=1), 99)))  # fmt: skip
    assert waitlist_order([a, b, c, application(State.ELIGIBLE)]) == [c, b, a]


def test_an_illegal_move_is_refused_with_the_reason_and_what_is_allowed() -> None:
    with pytest.raises(TransitionRefused) as refused:
        check(State.WAITLISTED, Action.ACCEPT, Actor.COORDINATOR)
    assert refused.value.reason == "cannot accept an application that is waitlisted"
    assert refused.value.allowed == [Action.REEVALUATE, Action.OFFER, Action.WITHDRAW]
    with pytest.raises(TransitionRefused, match="withdraw needs a reason"):
        check(State.OFFERED, Action.WITHDRAW, Actor.COORDINATOR, " ")
    with pytest.raises(TransitionRefused, match="a coordinator cannot expire"):
        check(State.OFFERED, Action.EXPIRE, Actor.COORDINATOR)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(Action), st.sampled_from(Actor), st.booleans()), max_size=25))
def test_no_sequence_of_actions_reaches_an_undefined_state_or_leaves_a_terminal_one(
    steps: list[tuple[Action, Actor, bool]],
) -> None:
    current = application()
    places = 0
    eligible = decide(RULES, facts(free_school_meals="yes", estranged="yes"))
    ineligible = decide(RULES, facts())
    for action, actor, flag in steps:
        before = current.state
        allowed = action in options(before, actor)
        try:
            if action in (Action.DECIDE, Action.REEVALUATE):
                current = current.decided(eligible if flag else ineligible, action, actor, NOW, draw=1)
            elif action is Action.OFFER:
                current = current.offered(actor, NOW, timedelta(days=10))
            else:
                target = next(iter(TRANSITIONS[action].targets))
                current = current.moved(action, target, actor, reason="moved away" if flag else None)
        except TransitionRefused as refused:
            assert not allowed or (action is Action.WITHDRAW and not flag)
            assert refused.state is before and current.state is before
            continue
        assert allowed, f"{action} by {actor} from {before} was not among the options"
        assert before not in TERMINAL
        assert current.state in TRANSITIONS[action].targets or current.state is before
        if current.state in {State.ELIGIBLE, State.WAITLISTED}:
            assert current.queue is not None  # a place in the queue from the moment it became eligible
        if current.state in {State.SUBMITTED, State.INELIGIBLE}:
            assert current.queue is None
        places += place_change(before, current.state)
        assert places == int(current.state in HOLDS_PLACE)
        if current.state is State.OFFERED:
            assert current.offer_expires_at == NOW + timedelta(days=10)
            assert current.offer_expired(NOW + timedelta(days=10)) and not current.offer_expired(NOW)


def test_every_state_is_reachable_and_every_non_terminal_state_has_a_way_out() -> None:
    reached = {State.SUBMITTED}
    for _ in range(len(State)):
        reached |= {t for tr in TRANSITIONS.values() if tr.sources & reached for t in tr.targets}
    assert reached == set(State)
    for state in set(State) - TERMINAL - {State.INELIGIBLE}:
        assert any(state in t.sources for t in TRANSITIONS.values())
