"""A cohort's milestones, when a project has met one, and which reminder is due for one it has not. No I/O.

A milestone is met once the project has passed the matching point of the lifecycle (`MET_WHEN`, data). For a
milestone not met, a reminder is due 7 days before (`approaching`), on the day (`due`) and from the day after
(`overdue`). Only the latest of those that applies today is due, so a scheduler that was away for a few days
sends one reminder, not a backlog; each is sent once (the scheduler records what it sent).
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from medic.shared.contracts.projects.milestones import MilestoneKind

from .lifecycle import State

APPROACHING_DAYS = 7
# How far a milestone may lie from its cohort's placement: catches a mistyped year, keeps date sums in range.
FURTHEST_FROM_PLACEMENT = timedelta(days=366)


class Threshold(StrEnum):
    APPROACHING = "approaching"  # 7 days before
    DUE = "due"  # on the day
    OVERDUE = "overdue"  # the day after, or any later day


# The main path of the lifecycle, in order. `changes_requested` sits with `draft`: the proposal is back with the
# group. Paused and ended projects are off the path: they get no reminders at all.
PATH: tuple[tuple[State, ...], ...] = (
    (State.DRAFT, State.CHANGES_REQUESTED),
    (State.PROPOSED,),
    (State.APPROVED,),
    (State.IN_DELIVERY,),
    (State.EVALUATING,),
    (State.SUBMITTED,),
    (State.SHOWCASED,),
    (State.ASSESSED,),
    (State.CLOSED,),
)
_STEP: Mapping[State, int] = {state: step for step, states in enumerate(PATH) for state in states}
NO_REMINDERS = frozenset({State.WITHDRAWN, State.REJECTED, State.CLOSED, State.PAUSED})


@dataclass(frozen=True)
class MetWhen:
    """A milestone is met once the project has reached `state` (or gone past it) and, if asked, cleared governance."""

    state: State
    governance_cleared: bool = False


MET_WHEN: Mapping[MilestoneKind, MetWhen] = {
    MilestoneKind.PROPOSAL_DUE: MetWhen(State.PROPOSED),
    # Governance is cleared while approved; a coordinator's later edit to it un-clears it, and reminders resume.
    MilestoneKind.GOVERNANCE_DUE: MetWhen(State.APPROVED, governance_cleared=True),
    MilestoneKind.EVALUATION_DUE: MetWhen(State.SUBMITTED),
    MilestoneKind.SHOWCASE: MetWhen(State.SHOWCASED),
}


class InvalidMilestone(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class Milestone:
    cohort_id: uuid.UUID
    kind: MilestoneKind
    due_on: date
    set_at: datetime

    @classmethod
    def set(
        cls,
        *,
        cohort_id: uuid.UUID,
        kind: MilestoneKind,
        due_on: date,
        placement: tuple[date, date],
        now: datetime,
    ) -> "Milestone":
        """A milestone of a cohort whose placement runs `placement` (first and last day)."""
        start, end = placement
        if not start - FURTHEST_FROM_PLACEMENT <= due_on <= end + FURTHEST_FROM_PLACEMENT:
            raise InvalidMilestone("due_on", "a milestone falls within a year of its cohort's placement")
        return cls(cohort_id=cohort_id, kind=kind, due_on=due_on, set_at=now)


@dataclass(frozen=True)
class ProjectProgress:
    """What reminders need to know of a project."""

    project_id: uuid.UUID
    cohort_id: uuid.UUID
    group_id: uuid.UUID
    state: State
    governance_cleared: bool


def is_met(kind: MilestoneKind, state: State, *, governance_cleared: bool) -> bool:
    rule = MET_WHEN[kind]
    step = _STEP.get(state)
    if step is None:  # off the main path (paused, rejected, withdrawn): it has not met anything
        return False
    return step >= _STEP[rule.state] and (governance_cleared or not rule.governance_cleared)


def threshold_on(due_on: date, today: date) -> Threshold | None:
    """The reminder for a milestone due on `due_on` that applies on `today`, if any."""
    if today > due_on:
        return Threshold.OVERDUE
    if today == due_on:
        return Threshold.DUE
    if (due_on - today).days <= APPROACHING_DAYS:
        return Threshold.APPROACHING
    return None


def reminder_due(project: ProjectProgress, milestone: Milestone, today: date) -> Threshold | None:
    """The reminder this project is owed today about this milestone, or None."""
    if project.state in NO_REMINDERS or project.cohort_id != milestone.cohort_id:
        return None
    if is_met(milestone.kind, project.state, governance_cleared=project.governance_cleared):
        return None
    return threshold_on(milestone.due_on, today)


@dataclass(frozen=True)
class SetMilestone:
    cohort_id: uuid.UUID
    kind: MilestoneKind
    due_on: date
    correlation_id: uuid.UUID
