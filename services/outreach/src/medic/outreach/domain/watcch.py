"""WATCCH cycles and applications, and the application lifecycle as data. No I/O.

    submitted -> eligible | ineligible            (decided by the cycle's rules, on submission)
    eligible  -> waitlisted -> offered            (a place is offered from the head of the waitlist)
    eligible | waitlisted -> offered              (a coordinator's offer, out of turn: only into a free place)
    offered   -> accepted | declined | offer_expired
    accepted  -> enrolled -> completed
    submitted | eligible | ineligible | waitlisted -> re-evaluated (decided again by the current rules)
    submitted | eligible | waitlisted | offered | accepted | enrolled -> withdrawn

Places: an application holds one of the cycle's places while it is offered, accepted, enrolled or completed (a
completed participant used their place; completing frees nothing). Declining, an offer expiring and withdrawing
from a place-holding state free the place, and the next on the waitlist is offered it in the same transaction.

The waitlist order (fair, and the same whoever looks): by the time the application became eligible, then by a
random draw fixed at that moment; never by name, school or anything else about the applicant.

`TRANSITIONS` is the whole machine. The HTTP layer asks `options` which actions a caller may take instead of
repeating these rules; `check` refuses the rest with the reason (a 409).
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from .indicators import AreaMeasure, CareExperience, IndividualMeasure, ParentalEducation, YesNoUnknown
from .watcch_eligibility import (
    AreaCriterion,
    AtLeast,
    Comparison,
    Decision,
    IndividualCriterion,
    RuleSet,
    StateFundedSchool,
    YearGroupIn,
)

MIN_AGE, MAX_AGE = 15, 18  # at the start of the cycle's programme
ACADEMIC_YEAR = re.compile(r"([0-9]{4})/([0-9]{2})")
REFERENCE = re.compile(r"WAT-[0-9]{4}-[0-9A-HJ-NP-Z]{6}")
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: read aloud without confusion
MAX_CYCLE_NAME = 200


class YearGroup(StrEnum):
    """School years WATCCH takes applications from (a cycle names the ones it allows)."""

    YEAR_11 = "year_11"
    YEAR_12 = "year_12"
    YEAR_13 = "year_13"


class InvalidWatcch(ValueError):
    """Bad input; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class WatcchConflict(Exception):
    """A request the current state does not allow (409); `field` names what, when it is a field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def cycle_exists(academic_year: str) -> str:
    return f"there is a cycle for {academic_year} already"


class WatcchNotFound(Exception):
    pass


def academic_year_start(academic_year: str) -> int:
    match = ACADEMIC_YEAR.fullmatch(academic_year)
    if match is None or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise InvalidWatcch("academic_year", "an academic year is written 2026/27")
    return int(match.group(1))


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# --- cycles ---------------------------------------------------------------------------------------------------


class CycleStatus(StrEnum):
    DRAFT = "draft"  # being set up: no applications
    OPEN = "open"  # taking applications (the public form only between the open and close dates)
    CLOSED = "closed"  # no new applications; offers, waitlist and enrolment go on


def default_rules() -> tuple[YearGroupIn | StateFundedSchool | AtLeast, ...]:
    """The usual widening-participation scheme: Year 12 at a state-funded school, and at least two of the
    indicators (the newest edition of each area measure)."""
    return (
        YearGroupIn(frozenset({YearGroup.YEAR_12.value})),
        StateFundedSchool(),
        AtLeast(
            2,
            (
                AreaCriterion(AreaMeasure.POLAR4_QUINTILE, Comparison.AT_MOST, 2),
                AreaCriterion(AreaMeasure.IMD_QUINTILE, Comparison.AT_MOST, 2),
                IndividualCriterion(IndividualMeasure.FREE_SCHOOL_MEALS, frozenset({YesNoUnknown.YES.value})),
                IndividualCriterion(IndividualMeasure.PARENTAL_EDUCATION, frozenset({ParentalEducation.NO.value})),
                IndividualCriterion(
                    IndividualMeasure.CARE_EXPERIENCE,
                    frozenset(
                        {
                            CareExperience.STATUTORY_CARE_LEAVER.value,
                            CareExperience.CONFIRMED.value,
                            CareExperience.SELF_DECLARED_UNCONFIRMED.value,
                        }
                    ),
                ),
                IndividualCriterion(IndividualMeasure.YOUNG_CARER, frozenset({YesNoUnknown.YES.value})),
                IndividualCriterion(IndividualMeasure.ESTRANGED, frozenset({YesNoUnknown.YES.value})),
            ),
        ),
    )


@dataclass(frozen=True)
class Cycle:
    id: uuid.UUID
    name: str
    academic_year: str
    capacity: int
    applications_open_on: date
    applications_close_on: date
    programme_starts_on: date
    programme_ends_on: date
    offer_lifetime_days: int
    year_groups: frozenset[YearGroup]
    questions: tuple[str, ...]  # the form's questions, answered in free text (kept with the personal details)
    status: CycleStatus
    rules: RuleSet
    places_taken: int = 0  # offered + accepted + enrolled + completed

    @property
    def free_places(self) -> int:
        return self.capacity - self.places_taken

    @property
    def offer_lifetime(self) -> timedelta:
        return timedelta(days=self.offer_lifetime_days)

    def check(self) -> "Cycle":
        if not self.name.strip() or len(self.name) > MAX_CYCLE_NAME:
            raise InvalidWatcch("name", f"1 to {MAX_CYCLE_NAME} characters")
        start = academic_year_start(self.academic_year)
        if self.capacity < 1:
            raise InvalidWatcch("capacity", "at least one place")
        if self.capacity < self.places_taken:
            raise WatcchConflict(f"{self.places_taken} places are taken already: capacity cannot go below", "capacity")
        if self.applications_close_on < self.applications_open_on:
            raise InvalidWatcch("applications_close_on", "applications close on or after they open")
        if self.programme_ends_on < self.programme_starts_on:
            raise InvalidWatcch("programme_ends_on", "the programme ends on or after it starts")
        if not start <= self.programme_starts_on.year <= start + 1:
            raise InvalidWatcch("programme_starts_on", f"the programme starts within {self.academic_year}")
        if not 1 <= self.offer_lifetime_days <= 90:
            raise InvalidWatcch("offer_lifetime_days", "1 to 90 days")
        if not self.year_groups:
            raise InvalidWatcch("year_groups", "name at least one year group")
        return self

    def takes_public_applications(self, today: date) -> str | None:
        """Why the public form is refused today, or None."""
        if self.status is not CycleStatus.OPEN:
            return f"the cycle is {self.status.value}, not open"
        if not self.applications_open_on <= today <= self.applications_close_on:
            return (
                f"applications are taken from {self.applications_open_on.isoformat()} "
                f"to {self.applications_close_on.isoformat()}"
            )
        return None

    def check_applicant(self, year_group: YearGroup, date_of_birth: date) -> None:
        if year_group not in self.year_groups:
            allowed = ", ".join(sorted(y.value for y in self.year_groups))
            raise InvalidWatcch("year_group", f"this cycle takes {allowed}")
        age = age_on(date_of_birth, self.programme_starts_on)
        if not MIN_AGE <= age <= MAX_AGE:
            raise InvalidWatcch(
                "date_of_birth", f"applicants are {MIN_AGE} to {MAX_AGE} when the programme starts (this one: {age})"
            )


# --- applications ---------------------------------------------------------------------------------------------


class State(StrEnum):
    SUBMITTED = "submitted"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    OFFER_EXPIRED = "offer_expired"
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


HOLDS_PLACE = frozenset({State.OFFERED, State.ACCEPTED, State.ENROLLED, State.COMPLETED})
TERMINAL = frozenset({State.DECLINED, State.OFFER_EXPIRED, State.COMPLETED, State.WITHDRAWN})


class Action(StrEnum):
    DECIDE = "decide"  # system, on submission: to eligible or ineligible
    REEVALUATE = "reevaluate"
    WAITLIST = "waitlist"
    OFFER = "offer"
    ACCEPT = "accept"
    DECLINE = "decline"
    EXPIRE = "expire"  # system: the offer's lifetime is over
    ENROL = "enrol"
    COMPLETE = "complete"
    WITHDRAW = "withdraw"


class Actor(StrEnum):
    COORDINATOR = "coordinator"  # also on the participant's behalf (accept, decline, withdraw)
    SYSTEM = "system"  # the service itself: decisions, the waitlist moving, timers


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[State]
    targets: frozenset[State]  # the decision picks one of several
    actors: frozenset[Actor]
    needs_reason: bool = False


_C, _S = frozenset({Actor.COORDINATOR}), frozenset({Actor.SYSTEM})
_BOTH = _C | _S
_DECIDABLE = {State.SUBMITTED, State.ELIGIBLE, State.INELIGIBLE, State.WAITLISTED}


def _t(action: Action, sources: set[State], targets: set[State], actors: frozenset[Actor], *,
       needs_reason: bool = False) -> Transition:  # fmt: skip
    return Transition(action, frozenset(sources), frozenset(targets), actors, needs_reason)


TRANSITIONS: Mapping[Action, Transition] = {
    t.action: t
    for t in (
        _t(Action.DECIDE, {State.SUBMITTED}, {State.ELIGIBLE, State.INELIGIBLE}, _S),
        # Judged again by the cycle's current rules: eligible ones keep their place in the queue (or join it).
        _t(Action.REEVALUATE, _DECIDABLE, {State.ELIGIBLE, State.INELIGIBLE, State.WAITLISTED}, _C),
        _t(Action.WAITLIST, {State.ELIGIBLE}, {State.WAITLISTED}, _BOTH),
        _t(Action.OFFER, {State.ELIGIBLE, State.WAITLISTED}, {State.OFFERED}, _BOTH),
        _t(Action.ACCEPT, {State.OFFERED}, {State.ACCEPTED}, _C),
        _t(Action.DECLINE, {State.OFFERED}, {State.DECLINED}, _C),
        _t(Action.EXPIRE, {State.OFFERED}, {State.OFFER_EXPIRED}, _S),
        _t(Action.ENROL, {State.ACCEPTED}, {State.ENROLLED}, _C),
        _t(Action.COMPLETE, {State.ENROLLED}, {State.COMPLETED}, _C),
        _t(
            Action.WITHDRAW,
            {State.SUBMITTED, State.ELIGIBLE, State.WAITLISTED, State.OFFERED, State.ACCEPTED, State.ENROLLED},
            {State.WITHDRAWN},
            _C,
            needs_reason=True,
        ),
    )
}


class TransitionRefused(Exception):
    """An action the application's state or the caller does not allow now: a 409 with the reason."""

    def __init__(self, action: Action, state: State, reason: str, allowed: list[Action]) -> None:
        super().__init__(reason)
        self.action = action
        self.state = state
        self.reason = reason
        self.allowed = allowed


def options(state: State, actor: Actor) -> list[Action]:
    return [t.action for t in TRANSITIONS.values() if state in t.sources and actor in t.actors]


def check(state: State, action: Action, actor: Actor, reason: str | None = None) -> Transition:
    transition = TRANSITIONS[action]
    words = action.value.replace("_", " ")
    problem = None
    if state not in transition.sources:
        problem = f"cannot {words} an application that is {state.value}"
    elif actor not in transition.actors:
        problem = f"a {actor.value} cannot {words} an application"
    elif transition.needs_reason and not (reason and reason.strip()):
        problem = f"{words} needs a reason"
    if problem is not None:
        raise TransitionRefused(action, state, problem, options(state, actor))
    return transition


@dataclass(frozen=True)
class QueueKey:
    """An eligible application's place in the waitlist: when it became eligible, then a draw made at that moment."""

    eligible_at: datetime
    draw: int  # random, fixed when the application became eligible; breaks ties, never re-drawn


@dataclass(frozen=True)
class Application:
    id: uuid.UUID
    reference: str
    cycle_id: uuid.UUID
    participant_id: uuid.UUID
    school_urn: str
    year_group: YearGroup
    state: State
    submitted_at: datetime
    entered_by_coordinator: bool
    rules_version: int | None = None
    decision: Decision | None = None
    queue: QueueKey | None = None
    offered_at: datetime | None = None
    offer_expires_at: datetime | None = None
    reason: str = ""  # why it was withdrawn: kept here, never published

    def moved(self, action: Action, target: State, actor: Actor, *, reason: str | None = None) -> "Application":
        transition = check(self.state, action, actor, reason)
        if target not in transition.targets:
            raise ValueError(f"{action.value} does not lead to {target.value}")
        return replace(self, state=target, reason=(reason or "").strip() if action is Action.WITHDRAW else self.reason)

    def decided(self, decision: Decision, action: Action, actor: Actor, now: datetime, draw: int) -> "Application":
        """Judged (first time, or again by the current rules). Becoming eligible fixes the queue key; staying
        eligible keeps it; ineligible loses it."""
        check(self.state, action, actor)
        if decision.eligible:
            target = State.WAITLISTED if self.state is State.WAITLISTED else State.ELIGIBLE
            queue = self.queue or QueueKey(now, draw)
        else:
            target, queue = State.INELIGIBLE, None
        return replace(self, state=target, decision=decision, rules_version=decision.rules_version, queue=queue)

    def offered(self, actor: Actor, now: datetime, lifetime: timedelta) -> "Application":
        moved = self.moved(Action.OFFER, State.OFFERED, actor)
        return replace(moved, offered_at=now, offer_expires_at=now + lifetime)

    def offer_expired(self, now: datetime) -> bool:
        return self.state is State.OFFERED and self.offer_expires_at is not None and now >= self.offer_expires_at


def waitlist_order(applications: list[Application]) -> list[Application]:
    """The waitlisted applications in the order places are offered (see the module's docstring)."""
    queued = [a for a in applications if a.state is State.WAITLISTED and a.queue is not None]
    return sorted(queued, key=lambda a: (a.queue.eligible_at, a.queue.draw, a.id) if a.queue else (datetime.max,))


def place_change(before: State, after: State) -> int:
    """How a move changes the cycle's places taken: +1 into a place, -1 out of one, else 0."""
    return int(after in HOLDS_PLACE) - int(before in HOLDS_PLACE)
