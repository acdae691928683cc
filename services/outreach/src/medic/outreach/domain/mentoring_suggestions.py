"""Which mentors suit a participant: ranked by shared interests, overlapping availability and spare capacity, each
score explained part by part. No I/O.

Mentors who may not take the participant now (not cleared for mentoring on the day, full, or already matched with
them) are never ranked: they are listed apart with each unmet condition, so a coordinator sees why.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from .conditions import Unmet
from .mentoring import MenteePreferences, MentorProfile

INTEREST_POINTS = 3  # per interest both share
SLOT_POINTS = 2  # per slot both are free in, up to MAX_SLOTS
MAX_SLOTS = 3  # beyond three shared slots, more overlap does not make a better match
LOAD_POINTS = 4  # for a mentor with no mentee, falling to 0 for one at their maximum


@dataclass(frozen=True)
class Candidate:
    """A mentor as the service found them: their profile, current load (proposed + active matches), and the
    conditions they fail on the day (safeguarding; a match with this participant already open)."""

    profile: MentorProfile
    load: int
    unmet: tuple[Unmet, ...] = ()


@dataclass(frozen=True)
class Part:
    part: str  # interests, availability, load
    points: int
    because: str  # e.g. "shares surgery, general_practice"


@dataclass(frozen=True)
class Ranked:
    mentor_id: str
    score: int
    parts: tuple[Part, ...]
    shared_interests: tuple[str, ...]
    shared_slots: tuple[str, ...]
    load: int
    max_mentees: int


@dataclass(frozen=True)
class Unavailable:
    mentor_id: str
    unmet: tuple[Unmet, ...]
    load: int
    max_mentees: int


@dataclass(frozen=True)
class Suggestions:
    participant_id: uuid.UUID
    ranked: tuple[Ranked, ...]  # best first
    unavailable: tuple[Unavailable, ...]  # by mentor id


def full(candidate: Candidate) -> Unmet | None:
    max_mentees = candidate.profile.max_mentees
    if candidate.load < max_mentees:
        return None
    return Unmet(
        "mentor_full",
        f"the mentor has {candidate.load} proposed or active matches, their maximum is {max_mentees}",
        candidate.profile.person_id,
    )


def score(mentee: MenteePreferences, profile: MentorProfile, load: int) -> Ranked:
    interests = tuple(sorted(set(mentee.interests) & set(profile.interests)))
    shared = tuple(s for s in profile.availability if s in set(mentee.availability))
    spare = max(profile.max_mentees - load, 0)
    load_points = (LOAD_POINTS * spare) // profile.max_mentees
    parts = (
        Part("interests", INTEREST_POINTS * len(interests),
             "shares " + ", ".join(interests) if interests else "no interest in common"),
        Part("availability", SLOT_POINTS * min(len(shared), MAX_SLOTS),
             "both free " + ", ".join(str(s) for s in shared) if shared else "no time in common"),
        Part("load", load_points, f"{load} of {profile.max_mentees} mentees proposed or active"),
    )  # fmt: skip
    return Ranked(
        mentor_id=profile.person_id,
        score=sum(p.points for p in parts),
        parts=parts,
        shared_interests=interests,
        shared_slots=tuple(str(s) for s in shared),
        load=load,
        max_mentees=profile.max_mentees,
    )


def suggest(mentee: MenteePreferences, candidates: Sequence[Candidate]) -> Suggestions:
    """Mentors who may take the participant, best first (score, then the lighter load, then the id, so the order is
    the same whoever asks); the rest apart, with why."""
    ranked, unavailable = [], []
    for candidate in candidates:
        unmet = candidate.unmet + tuple(u for u in (full(candidate),) if u is not None)
        if unmet:
            unavailable.append(
                Unavailable(candidate.profile.person_id, unmet, candidate.load, candidate.profile.max_mentees)
            )
        else:
            ranked.append(score(mentee, candidate.profile, candidate.load))
    ranked.sort(key=lambda r: (-r.score, r.load, r.mentor_id))
    unavailable.sort(key=lambda u: u.mentor_id)
    return Suggestions(mentee.participant_id, tuple(ranked), tuple(unavailable))
