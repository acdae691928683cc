"""The lifecycle of a primary-school session, as data: states, actions, who may take each, and guards.

    planned -> plan_reviewed -> delivered -> feedback_collected -> closed
    planned, plan_reviewed -> cancelled (coordinator, with a reason kept in outreach)

Some actions are steps inside a state (target None): recording the teacher's or the pupils' feedback, writing a
reflection. `TRANSITIONS` is the whole machine; the HTTP layer asks `options` which actions a caller may take now
instead of repeating these rules. No I/O here.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .primary import Session


class State(StrEnum):
    PLANNED = "planned"
    PLAN_REVIEWED = "plan_reviewed"
    DELIVERED = "delivered"
    FEEDBACK_COLLECTED = "feedback_collected"
    CLOSED = "closed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({State.CLOSED, State.CANCELLED})
# Where a session counts as taught (for reach and the term's summary).
TAUGHT = frozenset({State.DELIVERED, State.FEEDBACK_COLLECTED, State.CLOSED})


class Action(StrEnum):
    REVIEW_PLAN = "review_plan"
    RECORD_DELIVERY = "record_delivery"
    GIVE_TEACHER_FEEDBACK = "give_teacher_feedback"
    GIVE_PUPIL_FEEDBACK = "give_pupil_feedback"
    WRITE_REFLECTION = "write_reflection"
    COLLECT_FEEDBACK = "collect_feedback"
    CLOSE = "close"
    CANCEL = "cancel"


class Actor(StrEnum):
    """How the caller stands to this session (not only their role: a student of another session sees nothing)."""

    COORDINATOR = "coordinator"
    STUDENT = "student"  # one of the session's delivering students
    PARTNER = "partner"  # a user of the partner organisation linked to the session's school: reads only


Guard = Callable[["Session", date | None], str | None]  # what is missing, or None


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[State]
    target: State | None  # None: a step inside the state
    actors: frozenset[Actor]
    guards: tuple[Guard, ...] = ()
    needs_reason: bool = False


def _not_yet_taught(session: "Session", today: date | None) -> str | None:
    if today is not None and session.date > today:
        return f"the session is on {session.date.isoformat()}: record its delivery on or after that day"
    return None


def _no_teacher_feedback(session: "Session", _: date | None) -> str | None:
    return None if session.teacher_feedback is not None else "no teacher feedback recorded yet"


_COORDINATOR = frozenset({Actor.COORDINATOR})
_DELIVERERS = frozenset({Actor.COORDINATOR, Actor.STUDENT})


def _t(action: Action, sources: set[State], target: State | None, actors: frozenset[Actor], *guards: Guard,
       needs_reason: bool = False) -> Transition:  # fmt: skip
    return Transition(action, frozenset(sources), target, actors, guards, needs_reason)


TRANSITIONS: Mapping[Action, Transition] = {
    t.action: t
    for t in (
        _t(Action.REVIEW_PLAN, {State.PLANNED}, State.PLAN_REVIEWED, _COORDINATOR),
        _t(Action.RECORD_DELIVERY, {State.PLAN_REVIEWED}, State.DELIVERED, _DELIVERERS, _not_yet_taught),
        _t(Action.GIVE_TEACHER_FEEDBACK, {State.DELIVERED}, None, _COORDINATOR),
        _t(Action.GIVE_PUPIL_FEEDBACK, {State.DELIVERED}, None, _DELIVERERS),
        _t(Action.WRITE_REFLECTION, {State.DELIVERED, State.FEEDBACK_COLLECTED}, None, frozenset({Actor.STUDENT})),
        _t(Action.COLLECT_FEEDBACK, {State.DELIVERED}, State.FEEDBACK_COLLECTED, _COORDINATOR, _no_teacher_feedback),
        _t(Action.CLOSE, {State.FEEDBACK_COLLECTED}, State.CLOSED, _COORDINATOR),
        _t(Action.CANCEL, {State.PLANNED, State.PLAN_REVIEWED}, State.CANCELLED, _COORDINATOR, needs_reason=True),
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


def options(session: "Session", actor: Actor, today: date | None = None) -> list[Option]:
    """The actions that apply to the session's state and the caller's standing, each with what blocks it."""
    found = []
    for transition in TRANSITIONS.values():
        if session.state not in transition.sources or actor not in transition.actors:
            continue
        blocked = tuple(reason for guard in transition.guards if (reason := guard(session, today)) is not None)
        found.append(Option(transition.action, blocked, transition.needs_reason))
    return found


class TransitionRefused(Exception):
    """An action the session's state, the caller or a guard does not allow now: a 409 in HTTP terms."""

    def __init__(self, action: Action, state: State, reasons: list[str], allowed: list[Action]) -> None:
        super().__init__("; ".join(reasons))
        self.action = action
        self.state = state
        self.reasons = reasons
        self.allowed = allowed


def check(
    session: "Session", action: Action, actor: Actor, *, today: date | None = None, reason: str | None = None
) -> Transition:
    """The transition `action` takes, or TransitionRefused saying why not."""
    transition = TRANSITIONS[action]
    words = action.value.replace("_", " ")
    reasons: list[str] = []
    if session.state not in transition.sources:
        reasons.append(f"cannot {words} for a session that is {session.state.value}")
    elif actor not in transition.actors:
        reasons.append(f"a {actor.value} cannot {words} for a session")
    else:
        reasons.extend(r for guard in transition.guards if (r := guard(session, today)) is not None)
        if transition.needs_reason and not (reason and reason.strip()):
            reasons.append(f"{words} needs a reason")
    if reasons:
        allowed = [option.action for option in options(session, actor, today) if option.allowed]
        raise TransitionRefused(action, session.state, reasons, allowed)
    return transition
