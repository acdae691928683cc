"""Assessment of Community Action Projects: a rubric per cohort, assessors' marks, moderation, release,
prize nominations, and each student's own reflection. No I/O here.

- A cohort's rubric is data: criteria, each with a key, a descriptor, a maximum mark and a weight. It is fixed
  once any mark has been recorded against it (changing it would change what the marks mean).
- Marks are recorded while a project is showcased, by a coordinator or any supervisor of the cohort (peer
  marking, as at a showcase). Each assessor keeps their own marks; once one has given every criterion's mark,
  the project may be assessed.
- A coordinator records the agreed (moderated) mark per criterion, with a note. Students see only these, and
  only once released; released marks are not moderated again.
- Reflections belong to one student each and change until the project is assessed.
"""

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .lifecycle import ACTIVE, State

MAX_CRITERIA = 20
MAX_MARK = 100
MAX_WEIGHT = 100
MAX_REFLECTION_WORDS = 1000
CRITERION_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")

# Marks are given at the showcase, before the project is assessed (the `assess` action freezes them).
MARKING_STATES = frozenset({State.SHOWCASED})
# Moderation and nominations look at work that has been shown.
SHOWN_STATES = frozenset({State.SHOWCASED, State.ASSESSED, State.CLOSED})
# A student's reflection changes until the project is assessed.
REFLECTING_STATES = ACTIVE - {State.ASSESSED}


class InvalidAssessment(ValueError):
    """Bad input, a 422; `loc` is where in the body, e.g. ("marks", "impact")."""

    def __init__(self, loc: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = tuple(loc)


class AssessmentRefused(Exception):
    """Not now: the project's state, a released mark, a locked rubric or a duplicate. A 409."""


@dataclass(frozen=True)
class Criterion:
    key: str
    title: str
    descriptor: str  # what earns the marks, shown to assessors
    max_mark: int
    weight: float = 1.0


@dataclass(frozen=True)
class Rubric:
    cohort_id: uuid.UUID
    criteria: tuple[Criterion, ...]
    updated_at: datetime

    @classmethod
    def define(cls, cohort_id: uuid.UUID, criteria: Sequence[Criterion], now: datetime) -> "Rubric":
        if not 1 <= len(criteria) <= MAX_CRITERIA:
            raise InvalidAssessment(("criteria",), f"a rubric has 1 to {MAX_CRITERIA} criteria")
        seen: set[str] = set()
        for index, criterion in enumerate(criteria):
            if not CRITERION_KEY.fullmatch(criterion.key):
                raise InvalidAssessment(
                    ("criteria", index, "key"), "a key is a lower-case letter, then letters, digits or _ (max 40)"
                )
            if criterion.key in seen:
                raise InvalidAssessment(("criteria", index, "key"), f"criterion {criterion.key} is given twice")
            seen.add(criterion.key)
            if not criterion.title.strip():
                raise InvalidAssessment(("criteria", index, "title"), f"criterion {criterion.key} needs a title")
            if not 1 <= criterion.max_mark <= MAX_MARK:
                raise InvalidAssessment(
                    ("criteria", index, "max_mark"), f"criterion {criterion.key}: max_mark is 1 to {MAX_MARK}"
                )
            if not 0 < criterion.weight <= MAX_WEIGHT:
                raise InvalidAssessment(
                    ("criteria", index, "weight"), f"criterion {criterion.key}: weight is over 0, at most {MAX_WEIGHT}"
                )
        return cls(cohort_id, tuple(criteria), now)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.criteria]

    def check(self, marks: Mapping[str, int], *, every_criterion: bool) -> dict[str, int]:
        """The marks in rubric order, or InvalidAssessment naming the first criterion at fault."""
        by_key = {c.key: c for c in self.criteria}
        for key, mark in marks.items():
            criterion = by_key.get(key)
            if criterion is None:
                raise InvalidAssessment(("marks", key), f"{key} is not a criterion of this cohort's rubric")
            if not 0 <= mark <= criterion.max_mark:
                raise InvalidAssessment(("marks", key), f"{key} is marked 0 to {criterion.max_mark}")
        missing = [key for key in by_key if key not in marks]
        if every_criterion and missing:
            raise InvalidAssessment(("marks", missing[0]), f"{missing[0]} needs a mark")
        return {key: marks[key] for key in by_key if key in marks}

    def complete(self, marks: Mapping[str, int]) -> bool:
        return all(key in marks for key in self.keys)

    def percentage(self, marks: Mapping[str, int]) -> float:
        """The weighted total of a full set of marks, as a percentage (one decimal)."""
        total_weight = sum(c.weight for c in self.criteria)
        score = sum(c.weight * marks[c.key] / c.max_mark for c in self.criteria)
        return round(100 * score / total_weight, 1)


@dataclass(frozen=True)
class Marking:
    """One assessor's marks for one project (all or some of the criteria, as they go)."""

    project_id: uuid.UUID
    assessor: str  # the assessor's user id
    marks: Mapping[str, int]
    comment: str
    recorded_at: datetime


@dataclass(frozen=True)
class Moderation:
    """The agreed mark per criterion: what students see, once released."""

    project_id: uuid.UUID
    cohort_id: uuid.UUID
    marks: Mapping[str, int]
    note: str
    moderated_by: str
    moderated_at: datetime
    released_at: datetime | None = None


def record_marks(
    rubric: Rubric | None,
    state: State,
    *,
    project_id: uuid.UUID,
    assessor: str,
    marks: Mapping[str, int],
    comment: str,
    now: datetime,
) -> Marking:
    if rubric is None:
        raise AssessmentRefused("the cohort has no rubric yet: a coordinator defines it first")
    if state not in MARKING_STATES:
        raise AssessmentRefused(f"marks are recorded while a project is showcased; this one is {state.value}")
    return Marking(project_id, assessor, rubric.check(marks, every_criterion=False), comment.strip(), now)


def moderate(
    rubric: Rubric | None,
    state: State,
    assessment_complete: bool,
    previous: Moderation | None,
    *,
    project_id: uuid.UUID,
    cohort_id: uuid.UUID,
    marks: Mapping[str, int],
    note: str,
    by: str,
    now: datetime,
) -> Moderation:
    if rubric is None:
        raise AssessmentRefused("the cohort has no rubric yet: a coordinator defines it first")
    if state not in SHOWN_STATES or not assessment_complete:
        raise AssessmentRefused("a project is moderated once an assessor has given every mark")
    if previous is not None and previous.released_at is not None:
        raise AssessmentRefused("this project's marks have been released to its students")
    agreed = rubric.check(marks, every_criterion=True)
    return Moderation(project_id, cohort_id, agreed, note.strip(), by, now)


@dataclass(frozen=True)
class Nomination:
    project_id: uuid.UUID
    cohort_id: uuid.UUID
    nominator: str  # the user id of the supervisor (or coordinator) nominating
    reason: str
    nominated_at: datetime


def nominate(
    state: State, *, project_id: uuid.UUID, cohort_id: uuid.UUID, nominator: str, reason: str, now: datetime
) -> Nomination:
    if state not in SHOWN_STATES:
        raise AssessmentRefused(f"projects are nominated once showcased; this one is {state.value}")
    reason = reason.strip()
    if not reason:
        raise InvalidAssessment(("reason",), "say why the project deserves the prize")
    return Nomination(project_id, cohort_id, nominator, reason, now)


@dataclass(frozen=True)
class Reflection:
    project_id: uuid.UUID
    student_id: uuid.UUID
    text: str
    updated_at: datetime


def reflect(state: State, *, project_id: uuid.UUID, student_id: uuid.UUID, text: str, now: datetime) -> Reflection:
    if state not in REFLECTING_STATES:
        raise AssessmentRefused(f"reflections can be written until the project is assessed; it is {state.value}")
    text = text.strip()
    if not text:
        raise InvalidAssessment(("text",), "the reflection is empty")
    if len(text.split()) > MAX_REFLECTION_WORDS:
        raise InvalidAssessment(("text",), f"a reflection has at most {MAX_REFLECTION_WORDS} words")
    return Reflection(project_id, student_id, text, now)
