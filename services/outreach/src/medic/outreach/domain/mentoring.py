"""Mentoring: programmes in a WATCCH cycle, mentors' profiles, mentees' preferences, matches and their lifecycle as
data, and mentoring sessions. No I/O.

    (propose) -> proposed                      coordinator; guarded
    proposed  -> active                        accept: the mentor; guarded
    proposed  -> declined                      decline: the mentor
    proposed  -> ended                         withdraw: the coordinator (or the service, on erasure)
    active    -> paused                        pause: the coordinator, or the service by itself (a guard fails)
    paused    -> active                        resume: the coordinator; guarded
    active | paused -> completed               complete: the coordinator
    active | paused -> ended                   end: the coordinator (or the service, on erasure)
    active    -> active                        log_session: the mentor or the coordinator; guarded (on its day)

"Guarded": the action is refused unless, on the day, the mentor is cleared for the mentoring kind of contact and the
participant's consents to taking part and to mentoring are valid (service_layer/mentoring_guard.py asks the
safeguarding and consent areas). `TRANSITIONS` is the whole machine; the HTTP layer asks `options` which actions a
caller may take, and `check` refuses the rest with the reason (a 409).
"""

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

MAX_NAME = 200
MAX_INTERESTS = 30
MAX_ABOUT = 2000
INTEREST = re.compile(r"[a-z][a-z0-9_]{1,39}")


class InvalidMentoring(ValueError):
    """Bad input (422) or input contradicting another field, the state or today (409, `conflict`); `field` names
    it."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


class MentoringNotFound(Exception):
    """No such object, or not one the caller may see (404); `field` names a body field that named it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- programmes -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Programme:
    id: uuid.UUID
    cycle_id: uuid.UUID
    name: str
    starts_on: date
    ends_on: date
    interests: tuple[str, ...]  # the codes mentors and mentees choose from, e.g. surgery, applying_to_medicine

    def check(self, cycle_starts_on: date, cycle_ends_on: date) -> "Programme":
        if not self.name.strip() or len(self.name) > MAX_NAME:
            raise InvalidMentoring("name", f"1 to {MAX_NAME} characters")
        if len(set(self.interests)) != len(self.interests):
            raise InvalidMentoring("interests", "each interest once")
        for code in self.interests:
            if INTEREST.fullmatch(code) is None:
                raise InvalidMentoring("interests", "an interest is a code: a-z, 0-9 and _, 2 to 40 characters")
        if self.ends_on < self.starts_on:
            raise InvalidMentoring("ends_on", "the programme ends on or after it starts", conflict=True)
        if not cycle_starts_on <= self.starts_on <= cycle_ends_on:
            raise InvalidMentoring(
                "starts_on",
                f"within the cycle's programme: {cycle_starts_on.isoformat()} to {cycle_ends_on.isoformat()}",
                conflict=True,
            )
        if not cycle_starts_on <= self.ends_on <= cycle_ends_on:
            raise InvalidMentoring(
                "ends_on",
                f"within the cycle's programme: {cycle_starts_on.isoformat()} to {cycle_ends_on.isoformat()}",
                conflict=True,
            )
        return self

    def check_interests(self, chosen: Iterable[str], field: str = "interests") -> tuple[str, ...]:
        chosen = tuple(chosen)
        unknown = sorted(set(chosen) - set(self.interests))
        if unknown:
            raise InvalidMentoring(field, f"not an interest of this programme: {', '.join(unknown)}", conflict=True)
        if len(set(chosen)) != len(chosen):
            raise InvalidMentoring(field, "each interest once")
        return tuple(sorted(chosen))


# --- availability ---------------------------------------------------------------------------------------------


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


class PartOfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


@dataclass(frozen=True, order=True)
class Slot:
    weekday: Weekday
    part_of_day: PartOfDay

    def __str__(self) -> str:
        return f"{self.weekday.value} {self.part_of_day.value}"


def _weekday_rank(slot: Slot) -> tuple[int, int]:
    return list(Weekday).index(slot.weekday), list(PartOfDay).index(slot.part_of_day)


def slots(available: Iterable[Slot]) -> tuple[Slot, ...]:
    """Each slot once, Monday morning first."""
    return tuple(sorted(set(available), key=_weekday_rank))


# --- mentors and mentees --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentorProfile:
    programme_id: uuid.UUID
    person_id: str  # the medical student's university id (their token's `sub`)
    interests: tuple[str, ...]
    availability: tuple[Slot, ...]
    max_mentees: int
    about: str | None = None  # their own words, shown to coordinators; deleted on erasure

    def check(self, programme: Programme) -> "MentorProfile":
        if not 1 <= self.max_mentees <= 10:
            raise InvalidMentoring("max_mentees", "1 to 10")
        if self.about is not None and len(self.about) > MAX_ABOUT:
            raise InvalidMentoring("about", f"at most {MAX_ABOUT} characters")
        return replace(self, interests=programme.check_interests(self.interests), availability=slots(self.availability))


@dataclass(frozen=True)
class MenteePreferences:
    programme_id: uuid.UUID
    participant_id: uuid.UUID
    interests: tuple[str, ...]
    availability: tuple[Slot, ...]

    def check(self, programme: Programme) -> "MenteePreferences":
        return replace(self, interests=programme.check_interests(self.interests), availability=slots(self.availability))


# --- matches: the lifecycle as data ---------------------------------------------------------------------------


class State(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    PAUSED = "paused"
    DECLINED = "declined"
    COMPLETED = "completed"
    ENDED = "ended"


OPEN = frozenset({State.PROPOSED, State.ACTIVE, State.PAUSED})  # one open match per participant and programme
LOADED = frozenset({State.PROPOSED, State.ACTIVE})  # what counts against a mentor's maximum
TERMINAL = frozenset({State.DECLINED, State.COMPLETED, State.ENDED})


class Action(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    END = "end"
    LOG_SESSION = "log_session"  # a step inside `active`: a mentoring session took place


class Actor(StrEnum):
    """How the caller stands to this match (not only their role: another student sees nothing of it)."""

    COORDINATOR = "coordinator"
    MENTOR = "mentor"  # the student whose token's sub is the match's mentor
    SYSTEM = "system"  # the service itself: automatic pauses, erasure


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[State]
    target: State
    actors: frozenset[Actor]
    guarded: bool = False  # the mentor cleared and the participant's consents valid, on the day


_C, _M, _S = Actor.COORDINATOR, Actor.MENTOR, Actor.SYSTEM

TRANSITIONS: Mapping[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.ACCEPT, frozenset({State.PROPOSED}), State.ACTIVE, frozenset({_M}), guarded=True),
        Transition(Action.DECLINE, frozenset({State.PROPOSED}), State.DECLINED, frozenset({_M})),
        Transition(Action.WITHDRAW, frozenset({State.PROPOSED}), State.ENDED, frozenset({_C, _S})),
        Transition(Action.PAUSE, frozenset({State.ACTIVE}), State.PAUSED, frozenset({_C, _S})),
        Transition(Action.RESUME, frozenset({State.PAUSED}), State.ACTIVE, frozenset({_C}), guarded=True),
        Transition(Action.COMPLETE, frozenset({State.ACTIVE, State.PAUSED}), State.COMPLETED, frozenset({_C})),
        Transition(Action.END, frozenset({State.ACTIVE, State.PAUSED}), State.ENDED, frozenset({_C, _S})),
        Transition(Action.LOG_SESSION, frozenset({State.ACTIVE}), State.ACTIVE, frozenset({_C, _M}), guarded=True),
    )
}
STEPS = frozenset({Action.LOG_SESSION})  # actions that leave the state as it is (not taken through /actions)
# Proposing creates a match (no source state): the coordinator's, guarded.
PROPOSERS = frozenset({_C})


class TransitionRefused(Exception):
    """An action the match's state or the caller does not allow now: a 409 with the reason and what is allowed."""

    def __init__(self, action: Action, state: State, reason: str, allowed: list[Action]) -> None:
        super().__init__(reason)
        self.action = action
        self.state = state
        self.reason = reason
        self.allowed = allowed


def options(state: State, actor: Actor) -> list[Action]:
    """The actions `actor` may take on a match in `state` (guards aside: they are judged when taken)."""
    return [t.action for t in TRANSITIONS.values() if state in t.sources and actor in t.actors]


def check(state: State, action: Action, actor: Actor) -> Transition:
    transition = TRANSITIONS[action]
    problem = None
    if state not in transition.sources:
        problem = f"cannot {action.value} a match that is {state.value}"
    elif actor not in transition.actors:
        problem = f"the {actor.value} cannot {action.value} a match"
    if problem is not None:
        raise TransitionRefused(action, state, problem, options(state, actor))
    return transition


@dataclass(frozen=True)
class Match:
    id: uuid.UUID
    programme_id: uuid.UUID
    mentor_id: str
    participant_id: uuid.UUID
    state: State
    proposed_at: datetime
    active_since: datetime | None = None  # when it last became active (the automatic pause's key)
    first_active_on: date | None = None  # the first day it was active: sessions are on or after it
    paused_automatically: bool = False
    pause_reasons: tuple[str, ...] = ()  # the unmet conditions' codes of an automatic pause

    def moved(self, action: Action, actor: Actor, *, now: datetime, today: date,
              reasons: tuple[str, ...] = ()) -> "Match":  # fmt: skip
        transition = check(self.state, action, actor)
        target = transition.target
        if action in STEPS:
            return self
        if target is State.ACTIVE:
            return replace(
                self, state=target, active_since=now, first_active_on=self.first_active_on or today,
                paused_automatically=False, pause_reasons=(),
            )  # fmt: skip
        if target is State.PAUSED:
            automatic = actor is Actor.SYSTEM  # a coordinator's pause needs no reason codes
            return replace(
                self, state=target, paused_automatically=automatic, pause_reasons=reasons if automatic else ()
            )
        return replace(self, state=target)


# --- mentoring sessions ---------------------------------------------------------------------------------------


class SessionMode(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    PHONE = "phone"


class SessionTopic(StrEnum):
    GETTING_TO_KNOW = "getting_to_know"
    STUDY_SKILLS = "study_skills"
    CAREERS = "careers"
    APPLYING_TO_MEDICINE = "applying_to_medicine"
    PERSONAL_STATEMENT = "personal_statement"
    ADMISSIONS_TESTS = "admissions_tests"
    INTERVIEW_PRACTICE = "interview_practice"
    WORK_EXPERIENCE = "work_experience"
    WELLBEING = "wellbeing"
    OTHER = "other"


MAX_NOTES = 4000


@dataclass(frozen=True)
class MentoringSession:
    id: uuid.UUID
    match_id: uuid.UUID
    held_on: date
    mode: SessionMode
    minutes: int
    topic: SessionTopic
    logged_by: str  # the user id of whoever logged it (the mentor or a coordinator)
    logged_at: datetime
    notes: str | None = None  # free text: coordinators only, never in the mentor's view, an event or a log

    def check(self, match: Match, today: date) -> "MentoringSession":
        if not 5 <= self.minutes <= 480:
            raise InvalidMentoring("minutes", "5 to 480 minutes")
        if self.notes is not None and len(self.notes) > MAX_NOTES:
            raise InvalidMentoring("notes", f"at most {MAX_NOTES} characters")
        if self.held_on > today:
            raise InvalidMentoring("held_on", "a session is logged on or after its day, not before", conflict=True)
        if match.first_active_on is None or self.held_on < match.first_active_on:
            since = match.first_active_on.isoformat() if match.first_active_on else "it is accepted"
            raise InvalidMentoring("held_on", f"the match is active from {since}", conflict=True)
        return self
