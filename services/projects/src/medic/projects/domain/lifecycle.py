"""The lifecycle of a Community Action Project, as data: states, actions, who may take each, and guards.

    draft -> proposed -> changes_requested -> proposed ... -> approved -> (governance cleared) -> in_delivery
    -> evaluating -> submitted -> showcased -> assessed -> closed
    proposed -> rejected; any active state -> withdrawn or paused (coordinator); paused -> reopen (back where it was)

`TRANSITIONS` is the whole machine. A guard looks at the project and names what is missing; the HTTP layer asks
`options` which actions a caller may take now instead of repeating these rules. No I/O here.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .project import Project


class State(StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    IN_DELIVERY = "in_delivery"
    EVALUATING = "evaluating"
    SUBMITTED = "submitted"
    SHOWCASED = "showcased"
    ASSESSED = "assessed"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    PAUSED = "paused"


TERMINAL = frozenset({State.CLOSED, State.REJECTED, State.WITHDRAWN})
# Where a project is being worked on: a coordinator may withdraw or pause it from any of these.
ACTIVE = frozenset(State) - TERMINAL - {State.PAUSED}


class Action(StrEnum):
    SUBMIT_PROPOSAL = "submit_proposal"
    REQUEST_CHANGES = "request_changes"
    APPROVE = "approve"
    REJECT = "reject"
    CLEAR_GOVERNANCE = "clear_governance"
    START_DELIVERY = "start_delivery"
    START_EVALUATION = "start_evaluation"
    SUBMIT = "submit"
    SHOWCASE = "showcase"
    ASSESS = "assess"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    PAUSE = "pause"
    REOPEN = "reopen"


class Actor(StrEnum):
    """How the caller stands to this project (not only their role: a supervisor of another group sees nothing)."""

    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"  # supervises the project's group
    STUDENT = "student"  # a member of the project's group
    PARTNER = "partner"  # a user of one of the project's partner organisations


Guard = Callable[["Project"], str | None]  # what is missing, or None


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[State]
    target: State | None  # None: the state stays (a step inside it), or, for reopen, the state it was paused in
    actors: frozenset[Actor]
    guards: tuple[Guard, ...] = ()
    needs_reason: bool = False  # the caller must say why (a comment, a reason)


def _missing_proposal(project: "Project") -> str | None:
    missing = [name for name, present in project.proposal_parts().items() if not present]
    return f"proposal incomplete: {', '.join(missing)} missing" if missing else None


def _governance_incomplete(project: "Project") -> str | None:
    problems = project.governance.problems(project.students_delivering)
    return f"governance not ready to clear: {'; '.join(problems)}" if problems else None


def _governance_not_cleared(project: "Project") -> str | None:
    return None if project.governance.cleared else "governance not cleared: a supervisor must clear it first"


def _no_delivery(project: "Project") -> str | None:
    return None if project.delivery_sessions else "no delivery session recorded yet"


def _evaluation_incomplete(project: "Project") -> str | None:
    missing = project.evaluation.missing()
    return f"evaluation incomplete: {', '.join(missing)} missing" if missing else None


def _no_showcase_entry(project: "Project") -> str | None:
    return None if project.showcase is not None else "no showcase entry (format, title, abstract) yet"


def _not_assessed(project: "Project") -> str | None:
    return None if project.assessment_complete else "assessment incomplete: no assessor has given every mark"


_STAFF = frozenset({Actor.COORDINATOR, Actor.SUPERVISOR})
_GROUP = frozenset({Actor.COORDINATOR, Actor.STUDENT})
_ANYONE_ON_IT = frozenset({Actor.COORDINATOR, Actor.SUPERVISOR, Actor.STUDENT})
_COORDINATOR = frozenset({Actor.COORDINATOR})


def _t(action: Action, sources: set[State], target: State | None, actors: frozenset[Actor], *guards: Guard,
       needs_reason: bool = False) -> Transition:  # fmt: skip
    return Transition(action, frozenset(sources), target, actors, guards, needs_reason)


TRANSITIONS: Mapping[Action, Transition] = {
    t.action: t
    for t in (
        _t(Action.SUBMIT_PROPOSAL, {State.DRAFT, State.CHANGES_REQUESTED}, State.PROPOSED, _GROUP, _missing_proposal),
        _t(Action.REQUEST_CHANGES, {State.PROPOSED}, State.CHANGES_REQUESTED, _STAFF, needs_reason=True),
        _t(Action.APPROVE, {State.PROPOSED}, State.APPROVED, _STAFF, _missing_proposal),
        _t(Action.REJECT, {State.PROPOSED}, State.REJECTED, _STAFF, needs_reason=True),
        _t(Action.CLEAR_GOVERNANCE, {State.APPROVED}, None, _STAFF, _governance_incomplete),
        _t(Action.START_DELIVERY, {State.APPROVED}, State.IN_DELIVERY, _ANYONE_ON_IT, _governance_not_cleared),
        _t(Action.START_EVALUATION, {State.IN_DELIVERY}, State.EVALUATING, _ANYONE_ON_IT, _no_delivery),
        _t(Action.SUBMIT, {State.EVALUATING}, State.SUBMITTED, _GROUP, _no_delivery, _evaluation_incomplete),
        _t(Action.SHOWCASE, {State.SUBMITTED}, State.SHOWCASED, _STAFF, _no_showcase_entry),
        _t(Action.ASSESS, {State.SHOWCASED}, State.ASSESSED, _STAFF, _not_assessed),
        _t(Action.CLOSE, {State.ASSESSED}, State.CLOSED, _COORDINATOR),
        _t(Action.WITHDRAW, set(ACTIVE), State.WITHDRAWN, _COORDINATOR, needs_reason=True),
        _t(Action.PAUSE, set(ACTIVE), State.PAUSED, _COORDINATOR, needs_reason=True),
        _t(Action.REOPEN, {State.PAUSED}, None, _COORDINATOR),
    )
}


@dataclass(frozen=True)
class Option:
    """An action as one caller sees it now: `blocked_by` is empty when they may take it."""

    action: Action
    blocked_by: tuple[str, ...]
    needs_reason: bool

    @property
    def allowed(self) -> bool:
        return not self.blocked_by


def options(project: "Project", actor: Actor) -> list[Option]:
    """The actions that apply to the project's state and the caller's standing, each with what blocks it."""
    found = []
    for transition in TRANSITIONS.values():
        if project.state not in transition.sources or actor not in transition.actors:
            continue
        if transition.action is Action.CLEAR_GOVERNANCE and project.governance.cleared:
            continue  # done already
        blocked = tuple(reason for guard in transition.guards if (reason := guard(project)) is not None)
        found.append(Option(transition.action, blocked, transition.needs_reason))
    return found


class TransitionRefused(Exception):
    """An action the project's state, the caller or a guard does not allow now: a 409 in HTTP terms."""

    def __init__(self, action: Action, state: State, reasons: list[str], allowed: list[Action]) -> None:
        super().__init__("; ".join(reasons))
        self.action = action
        self.state = state
        self.reasons = reasons
        self.allowed = allowed


def check(project: "Project", action: Action, actor: Actor, reason: str | None) -> Transition:
    """The transition `action` takes, or TransitionRefused saying why not."""
    transition = TRANSITIONS[action]
    reasons: list[str] = []
    if project.state not in transition.sources:
        reasons.append(f"cannot {action.value.replace('_', ' ')} a project that is {project.state.value}")
    elif actor not in transition.actors:
        reasons.append(f"a {actor.value} cannot {action.value.replace('_', ' ')} a project")
    elif transition.action is Action.CLEAR_GOVERNANCE and project.governance.cleared:
        reasons.append("governance is cleared already")
    else:
        reasons.extend(r for guard in transition.guards if (r := guard(project)) is not None)
        if transition.needs_reason and not (reason and reason.strip()):
            reasons.append(f"{action.value.replace('_', ' ')} needs a reason")
    if reasons:
        allowed = [option.action for option in options(project, actor) if option.allowed]
        raise TransitionRefused(action, project.state, reasons, allowed)
    return transition
