"""The primary-school health-education programme: terms, topics, sessions, their feedback. No I/O.

Pupils are under 13: a session holds counts (pupils, classes, answers per face of the pictorial questions), never a
pupil. Teachers' comments and students' reflections are free text: they stay in outreach and are never published.
"""

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from medic.shared.contracts.outreach import SchoolPhase
from medic.shared.contracts.outreach.primary import KeyStage, YearGroup

from .primary_lifecycle import Action, Actor, State, check

# Actions taken through a route of their own, with their data; the others need at most a reason.
STEPS = frozenset(
    {Action.RECORD_DELIVERY, Action.GIVE_TEACHER_FEEDBACK, Action.GIVE_PUPIL_FEEDBACK, Action.WRITE_REFLECTION}
)

MAX_TERM_NAME = 100
MAX_TOPIC_NAME = 100
MAX_ITEM_TEXT = 200
MAX_COMMENTS = 4000
MAX_REFLECTION = 8000
MAX_PUPILS = 1000
ACADEMIC_YEAR = re.compile(r"([0-9]{4})/([0-9]{2})")
TOPIC_ID = re.compile(r"[a-z][a-z0-9_]{1,39}")
ITEM_KEY = TOPIC_ID
# Schools whose pupils include primary ages: the phases a session may be taught in.
TEACHES_PRIMARY = frozenset({SchoolPhase.PRIMARY, SchoolPhase.ALL_THROUGH, SchoolPhase.SPECIAL})

KEY_STAGE = {
    YearGroup.RECEPTION: KeyStage.EYFS,
    YearGroup.YEAR_1: KeyStage.KS1,
    YearGroup.YEAR_2: KeyStage.KS1,
    YearGroup.YEAR_3: KeyStage.KS2,
    YearGroup.YEAR_4: KeyStage.KS2,
    YearGroup.YEAR_5: KeyStage.KS2,
    YearGroup.YEAR_6: KeyStage.KS2,
}

# The statutory primary health-education areas (DfE relationships, sex and health education guidance). The
# migration seeds the catalogue with these ids and names.
STATUTORY_TOPICS: tuple[tuple[str, str], ...] = (
    ("mental_wellbeing", "Mental wellbeing"),
    ("internet_safety", "Internet safety and harms"),
    ("physical_health", "Physical health and fitness"),
    ("healthy_eating", "Healthy eating"),
    ("drugs_alcohol_tobacco", "Drugs, alcohol and tobacco"),
    ("health_prevention", "Health and prevention"),
    ("first_aid", "Basic first aid"),
    ("changing_body", "Changing adolescent body"),
)


class InvalidInput(ValueError):
    """Bad input; `loc` names the field (and, inside a list, the position)."""

    def __init__(self, loc: str | Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc: tuple[str | int, ...] = (loc,) if isinstance(loc, str) else tuple(loc)


class UnknownReference(InvalidInput):
    """The input names an object that does not exist (a term, a topic, a school, a form version)."""


class NotFound(Exception):
    """An unknown object, or one the caller may not see: the same answer for both."""


class Conflict(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def topic_exists(topic_id: str) -> str:
    return f"a topic with the id {topic_id} exists"


FORM_VERSION_RACE = "another version of this form was added at the same moment: read the forms and try again"


class Level(StrEnum):
    """How far a session goes, for the class teacher to agree beforehand (pitching is what goes wrong most):
    introductory (first contact with the topic), core (what the year group's curriculum expects), extension
    (beyond it, for a class that has covered the core)."""

    INTRODUCTORY = "introductory"
    CORE = "core"
    EXTENSION = "extension"


class FormKind(StrEnum):
    TEACHER = "teacher"  # the class teacher's view: items scored 1-5, plus comments
    PUPIL = "pupil"  # pictorial questions asked before and after, answered by a face; counted, never per pupil


class Phase(StrEnum):
    BEFORE = "before"
    AFTER = "after"


class Face(StrEnum):
    HAPPY = "happy"
    NOT_SURE = "not_sure"
    SAD = "sad"


def key_stage(year_group: YearGroup) -> KeyStage:
    return KEY_STAGE[year_group]


def clean_text(value: str, loc: str, max_length: int, *, multiline: bool = False) -> str:
    """Runs of spaces become one (in free text, lines are kept); blank, over-long or control characters refused."""
    if multiline:
        text = "\n".join(" ".join(line.split()) for line in value.strip().splitlines())
        allowed = {"\n"}
    else:
        text, allowed = " ".join(value.split()), set()
    if not text:
        raise InvalidInput(loc, "must not be blank")
    if len(text) > max_length:
        raise InvalidInput(loc, f"at most {max_length} characters")
    if any((ord(c) < 0x20 or ord(c) == 0x7F) and c not in allowed for c in text):
        raise InvalidInput(loc, "must not contain control characters")
    return text


def clean_academic_year(value: str) -> str:
    match = ACADEMIC_YEAR.fullmatch(value.strip())
    if match is None or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise InvalidInput("academic_year", "an academic year is written like 2026/27: two consecutive years")
    return match.group(0)


@dataclass(frozen=True)
class Term:
    id: uuid.UUID
    name: str
    academic_year: str
    starts_on: dt.date
    ends_on: dt.date

    @classmethod
    def create(cls, *, name: str, academic_year: str, starts_on: dt.date, ends_on: dt.date) -> "Term":
        year = clean_academic_year(academic_year)
        if ends_on < starts_on:
            raise InvalidInput("ends_on", "a term ends on or after the day it starts")
        first = int(year[:4])
        if not dt.date(first, 8, 1) <= starts_on <= dt.date(first + 1, 7, 31) or ends_on > dt.date(first + 1, 8, 31):
            raise InvalidInput("starts_on", f"the term is not in the academic year {year} (August to July)")
        return cls(uuid.uuid4(), clean_text(name, "name", MAX_TERM_NAME), year, starts_on, ends_on)

    def holds(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    statutory: bool
    retired: bool = False

    @classmethod
    def create(cls, *, id: str, name: str) -> "Topic":
        if not TOPIC_ID.fullmatch(id):
            raise InvalidInput("id", "a topic id is 2-40 lower-case letters, digits or underscores, from a letter")
        return cls(id, clean_text(name, "name", MAX_TOPIC_NAME), statutory=False)


@dataclass(frozen=True)
class FormItem:
    key: str
    text: str


@dataclass(frozen=True)
class Form:
    """A version of a feedback form. A version, once created, never changes: a new set of items is a new version,
    so answers stored with their version always mean what they meant when given."""

    kind: FormKind
    version: int
    items: tuple[FormItem, ...]

    @classmethod
    def next(cls, kind: FormKind, latest: "Form | None", items: Sequence[tuple[str, str]]) -> "Form":
        if not 1 <= len(items) <= 12:
            raise InvalidInput("items", "a form has 1 to 12 items")
        cleaned = []
        for index, (key, text) in enumerate(items):
            if not ITEM_KEY.fullmatch(key):
                raise InvalidInput(("items", index, "key"), "an item key is 2-40 lower-case letters, digits or _")
            cleaned.append(FormItem(key, clean_text(text, f"items.{index}.text", MAX_ITEM_TEXT)))
        if len({item.key for item in cleaned}) != len(cleaned):
            raise InvalidInput("items", "item keys must be different")
        return cls(kind, 1 if latest is None else latest.version + 1, tuple(cleaned))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)


@dataclass(frozen=True)
class Delivery:
    pupils: int
    classes: int
    teacher_present_throughout: bool

    @classmethod
    def create(cls, *, pupils: int, classes: int, teacher_present_throughout: bool) -> "Delivery":
        if pupils < 0:
            raise InvalidInput("pupils", "a pupil count is a non-negative whole number")
        if classes < 0:
            raise InvalidInput("classes", "a class count is a non-negative whole number")
        if pupils > MAX_PUPILS:
            raise InvalidInput("pupils", f"at most {MAX_PUPILS} pupils in a session")
        if pupils < classes:
            raise InvalidInput("pupils", "fewer pupils than classes")
        return cls(pupils, classes, teacher_present_throughout)


@dataclass(frozen=True)
class TeacherFeedback:
    """The class teacher's view of the session, on a version of the teacher form (scores 1-5 per item)."""

    form_version: int
    scores: Mapping[str, int]
    comments: str | None

    @classmethod
    def create(cls, form: Form, scores: Mapping[str, int], comments: str | None) -> "TeacherFeedback":
        if form.kind is not FormKind.TEACHER:
            raise InvalidInput("form_version", "not a teacher form")
        missing = [key for key in form.keys if key not in scores]
        unknown = sorted(set(scores) - set(form.keys))
        if unknown:
            raise InvalidInput(("scores", unknown[0]), f"not an item of teacher form version {form.version}")
        if missing:
            raise InvalidInput(("scores", missing[0]), "every item of the form is scored")
        for key, score in scores.items():
            if not 1 <= score <= 5:
                raise InvalidInput(("scores", key), "a score is 1 to 5")
        text = None if comments is None or not comments.strip() else clean_text(comments, "comments", MAX_COMMENTS,
                                                                                 multiline=True)  # fmt: skip
        return cls(form.version, {key: scores[key] for key in form.keys}, text)


@dataclass(frozen=True)
class FaceCounts:
    question: str
    phase: Phase
    happy: int
    not_sure: int
    sad: int

    @property
    def total(self) -> int:
        return self.happy + self.not_sure + self.sad


@dataclass(frozen=True)
class PupilFeedback:
    """How many pupils chose each face for each question, before and after the session. Never per pupil."""

    form_version: int
    counts: tuple[FaceCounts, ...]

    @classmethod
    def create(cls, form: Form, counts: Sequence[FaceCounts], pupils: int) -> "PupilFeedback":
        if form.kind is not FormKind.PUPIL:
            raise InvalidInput("form_version", "not a pupil form")
        seen: set[tuple[str, Phase]] = set()
        for index, row in enumerate(counts):
            if row.question not in form.keys:
                raise InvalidInput(("counts", index, "question"), f"not a question of pupil form {form.version}")
            if (row.question, row.phase) in seen:
                raise InvalidInput(("counts", index, "phase"), "this question and phase are counted twice")
            seen.add((row.question, row.phase))
            for face in Face:
                if getattr(row, face.value) < 0:
                    raise InvalidInput(("counts", index, face.value), "a count is a non-negative whole number")
            if row.total > pupils:
                raise InvalidInput(
                    ("counts", index), f"{row.total} answers, more than the {pupils} pupils the session was taught to"
                )
        wanted = {(key, phase) for key in form.keys for phase in Phase}
        if missing := sorted(wanted - seen):
            raise InvalidInput("counts", f"no counts for {missing[0][0]} ({missing[0][1].value})")
        order = {key: n for n, key in enumerate(form.keys)}
        ordered = sorted(counts, key=lambda r: (order[r.question], list(Phase).index(r.phase)))
        return cls(form.version, tuple(ordered))


@dataclass
class Session:
    """A session planned for a class of one year group at a school, on a topic, by medical students."""

    id: uuid.UUID
    term_id: uuid.UUID
    urn: str
    date: dt.date
    starts_at: dt.time
    ends_at: dt.time
    year_group: YearGroup
    topic_id: str
    level: Level
    students: tuple[str, ...]
    state: State = State.PLANNED
    version: int = 0
    delivery: Delivery | None = None
    cancel_reason: str | None = None
    teacher_feedback: TeacherFeedback | None = None
    pupil_feedback: PupilFeedback | None = None
    events: list[State] = field(default_factory=list)  # states entered since loaded, for the handler to publish

    @property
    def key_stage(self) -> KeyStage:
        return key_stage(self.year_group)

    @classmethod
    def plan(
        cls,
        *,
        term: Term,
        urn: str,
        phase: SchoolPhase,
        day: dt.date,
        starts_at: dt.time,
        ends_at: dt.time,
        year_group: YearGroup,
        topic: Topic,
        level: Level,
        students: Sequence[str],
        max_students: int,
    ) -> "Session":
        if phase not in TEACHES_PRIMARY:
            raise InvalidInput("urn", f"a {phase.value} school does not teach primary pupils")
        if not term.holds(day):
            raise InvalidInput("date", f"not within the term ({term.starts_on} to {term.ends_on})")
        if ends_at <= starts_at:
            raise InvalidInput("ends_at", "a session ends after it starts")
        if topic.retired:
            raise InvalidInput("topic_id", "this topic is retired: choose a current one")
        cleaned = tuple(dict.fromkeys(s.strip() for s in students))
        if not cleaned or any(not s or len(s) > 200 for s in cleaned):
            raise InvalidInput("student_ids", "one or more students' user ids")
        if len(cleaned) > max_students:
            raise InvalidInput("student_ids", f"at most {max_students} students deliver a session")
        session = cls(uuid.uuid4(), term.id, urn, day, starts_at, ends_at, year_group, topic.id, level, cleaned)
        session.events.append(State.PLANNED)
        return session

    def actor_for(self, *, coordinator: bool, user_id: str, partner_school: bool) -> Actor | None:
        """How the caller stands to this session, or None if they may not see it."""
        if coordinator:
            return Actor.COORDINATOR
        if user_id in self.students:
            return Actor.STUDENT
        if partner_school:
            return Actor.PARTNER
        return None

    def take(self, action: Action, actor: Actor, *, today: dt.date, reason: str | None = None) -> None:
        """A lifecycle action that needs nothing but (for a cancellation) a reason."""
        if action in STEPS:
            raise InvalidInput("action", f"{action.value} is taken through its own route, with its data")
        transition = check(self, action, actor, today=today, reason=reason)
        if action is Action.CANCEL:
            self.cancel_reason = clean_text(reason or "", "reason", MAX_COMMENTS, multiline=True)
        self._move(transition.target)

    def record_delivery(self, actor: Actor, delivery: Delivery, *, today: dt.date) -> None:
        transition = check(self, Action.RECORD_DELIVERY, actor, today=today)
        self.delivery = delivery
        self._move(transition.target)

    def give_teacher_feedback(self, actor: Actor, feedback: TeacherFeedback) -> None:
        check(self, Action.GIVE_TEACHER_FEEDBACK, actor)
        self.teacher_feedback = feedback
        self.version += 1

    def give_pupil_feedback(self, actor: Actor, feedback: PupilFeedback) -> None:
        check(self, Action.GIVE_PUPIL_FEEDBACK, actor)
        self.pupil_feedback = feedback
        self.version += 1

    def may_reflect(self, actor: Actor) -> None:
        """A delivering student writes (and rewrites) their own reflection once the session is taught."""
        check(self, Action.WRITE_REFLECTION, actor)

    def _move(self, target: State | None) -> None:
        assert target is not None
        self.state = target
        self.version += 1
        self.events.append(target)

    def snapshot(self) -> "Session":
        return replace(self, events=list(self.events))
