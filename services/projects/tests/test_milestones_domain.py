"""Milestones in the domain: when a project has met one, and which reminder a day owes."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medic.projects.domain.lifecycle import State
from medic.projects.domain.milestones import (
    NO_REMINDERS,
    InvalidMilestone,
    Milestone,
    ProjectProgress,
    Threshold,
    is_met,
    reminder_due,
    threshold_on,
)
from medic.shared.contracts.projects.milestones import MilestoneKind as K

P, G, E, S = K.PROPOSAL_DUE, K.GOVERNANCE_DUE, K.EVALUATION_DUE, K.SHOWCASE

# (state, governance cleared) -> the milestones a project there has met. Every state is listed.
MET: list[tuple[State, bool, set[K]]] = [
    (State.DRAFT, False, set()),
    (State.CHANGES_REQUESTED, False, set()),  # the proposal is back with the group
    (State.PROPOSED, False, {P}),
    (State.APPROVED, False, {P}),
    (State.APPROVED, True, {P, G}),
    (State.IN_DELIVERY, True, {P, G}),
    (State.IN_DELIVERY, False, {P}),  # a coordinator edited governance after clearing: it needs clearing again
    (State.EVALUATING, True, {P, G}),
    (State.SUBMITTED, True, {P, G, E}),
    (State.SHOWCASED, True, {P, G, E, S}),
    (State.ASSESSED, True, {P, G, E, S}),
    (State.CLOSED, True, {P, G, E, S}),
    (State.PAUSED, True, set()),
    (State.REJECTED, False, set()),
    (State.WITHDRAWN, True, set()),
]


def test_the_table_lists_every_state() -> None:
    assert {state for state, _, _ in MET} == set(State)


@pytest.mark.parametrize(("state", "cleared", "met"), MET)
def test_a_milestone_is_met_once_the_project_has_passed_its_point(state: State, cleared: bool, met: set[K]) -> None:
    assert {kind for kind in K if is_met(kind, state, governance_cleared=cleared)} == met


def _project(state: State, cleared: bool = False, cohort: uuid.UUID | None = None) -> ProjectProgress:
    return ProjectProgress(uuid.uuid4(), cohort or COHORT, uuid.uuid4(), state, cleared)


COHORT = uuid.uuid4()
DUE = date(2027, 1, 22)
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def _milestone(kind: K = P, due_on: date = DUE) -> Milestone:
    return Milestone(COHORT, kind, due_on, NOW)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (DUE - timedelta(days=30), None),
        (DUE - timedelta(days=8), None),
        (DUE - timedelta(days=7), Threshold.APPROACHING),
        (DUE - timedelta(days=1), Threshold.APPROACHING),
        (DUE, Threshold.DUE),
        (DUE + timedelta(days=1), Threshold.OVERDUE),
        (DUE + timedelta(days=40), Threshold.OVERDUE),
    ],
)
def test_the_reminder_a_day_owes(today: date, expected: Threshold | None) -> None:
    assert threshold_on(DUE, today) is expected


@given(due_on=st.dates(date(2000, 1, 1), date(2099, 1, 1)), before=st.integers(10, 400), after=st.integers(2, 400))
def test_walking_the_days_past_a_milestone_meets_each_threshold_once_in_order(
    due_on: date, before: int, after: int
) -> None:
    days = [due_on + timedelta(days=offset) for offset in range(-before, after)]
    changes: list[tuple[date, Threshold | None]] = []
    for day in days:
        threshold = threshold_on(due_on, day)
        if not changes or changes[-1][1] is not threshold:
            changes.append((day, threshold))
    assert changes == [
        (days[0], None),
        (due_on - timedelta(days=7), Threshold.APPROACHING),
        (due_on, Threshold.DUE),
        (due_on + timedelta(days=1), Threshold.OVERDUE),
    ]


@pytest.mark.parametrize("state", sorted(NO_REMINDERS))
def test_paused_and_ended_projects_are_owed_nothing(state: State) -> None:
    for kind in K:
        assert reminder_due(_project(state), _milestone(kind), DUE) is None


def test_a_project_is_owed_reminders_only_for_milestones_it_has_not_met_of_its_own_cohort() -> None:
    proposed = _project(State.PROPOSED)
    assert reminder_due(proposed, _milestone(P), DUE) is None
    assert reminder_due(proposed, _milestone(G), DUE) is Threshold.DUE
    assert reminder_due(_project(State.DRAFT, cohort=uuid.uuid4()), _milestone(P), DUE) is None


@pytest.mark.parametrize(
    ("due_on", "ok"),
    [
        (date(2026, 1, 3), True),  # 366 days before the placement starts
        (date(2026, 1, 2), False),
        (date(2028, 3, 12), True),  # 366 days after it ends
        (date(2028, 3, 13), False),
        (date(1, 1, 1), False),
        (date(9999, 12, 31), False),
    ],
)
def test_a_milestone_falls_within_a_year_of_its_cohorts_placement(due_on: date, ok: bool) -> None:
    placement = (date(2027, 1, 4), date(2027, 3, 12))

    def set_it() -> Milestone:
        return Milestone.set(cohort_id=COHORT, kind=P, due_on=due_on, placement=placement, now=NOW)

    if ok:
        assert set_it().due_on == due_on
    else:
        with pytest.raises(InvalidMilestone) as refused:
            set_it()
        assert refused.value.field == "due_on"
