"""Surveys: versioned pre/post questionnaires of Likert 1-5 items, responses, and the pre/post change per item.
No I/O.

A questionnaire (e.g. the TASO access and success questionnaire) has numbered versions, each an ordered list of
items: a short stable `code` and the statement's `text`, answered 1 (strongly disagree) to 5 (strongly agree).
Items of a version are never edited once the version is used (has a response): a change is a new version. A code
means one statement for the whole questionnaire: a version that reuses a code keeps its text, and a changed
statement takes a new code. So answers to an item pair up across versions by code.

A response is one participant's answers to one version, before (`pre`) or after (`post`); one per participant,
version and kind. Items may be left unanswered. The change per item over a cycle: for each participant with both a
pre and a post answer to the item (their first pre answer and their last post answer, by when recorded), the mean
post answer minus the mean pre answer, over those participants only; with how many answered each.
"""

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from medic.shared.contracts.outreach.surveys import ResponseKind

MAX_NAME = 200
MAX_ITEM_TEXT = 300
MAX_ITEMS = 60
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LIKERT = range(1, 6)
SCALE = {1: "strongly disagree", 2: "disagree", 3: "neither agree nor disagree", 4: "agree", 5: "strongly agree"}

Loc = tuple[str | int, ...]


class InvalidSurvey(ValueError):
    """Bad input; `loc` names the field under the body (a 422)."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc


class ContradictoryInput(InvalidSurvey):
    """Input the schema allows that contradicts other input or what is stored: a code used twice, an answer to an
    item the version does not have, an activity of another cycle (a 409 naming the field)."""


class SurveyConflict(Exception):
    """What the questionnaire's or the response's state does not allow (a 409)."""


class SurveyNotFound(Exception):
    """No such questionnaire, version, cycle, activity or participant (a 404)."""


def clean_text(value: str, loc: Loc, max_length: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise InvalidSurvey(loc, "must not be blank")
    if len(text) > max_length:
        raise InvalidSurvey(loc, f"at most {max_length} characters")
    return text


@dataclass(frozen=True)
class Item:
    code: str
    text: str


def check_items(items: Sequence[Item], known: Mapping[str, str] | None = None) -> tuple[Item, ...]:
    """The items cleaned: 1 to MAX_ITEMS, codes well formed and distinct, texts not blank; a code in `known`
    (code -> text in the questionnaire's other versions) keeps its text."""
    if not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidSurvey(("items",), f"1 to {MAX_ITEMS} items")
    cleaned: list[Item] = []
    seen: set[str] = set()
    for position, item in enumerate(items):
        if not CODE.match(item.code):
            raise InvalidSurvey(("items", position, "code"), "a lower-case letter, then letters, digits or _ (40)")
        if item.code in seen:
            raise ContradictoryInput(("items", position, "code"), f"the code {item.code} is used twice")
        seen.add(item.code)
        text = clean_text(item.text, ("items", position, "text"), MAX_ITEM_TEXT)
        before = (known or {}).get(item.code)
        if before is not None and before != text:
            raise ContradictoryInput(
                ("items", position, "text"),
                f"the code {item.code} means another statement in an earlier version: give a changed item a new code",
            )
        cleaned.append(Item(item.code, text))
    return tuple(cleaned)


@dataclass(frozen=True)
class Questionnaire:
    id: uuid.UUID
    name: str

    @classmethod
    def create(cls, name: str) -> "Questionnaire":
        return cls(uuid.uuid4(), clean_text(name, ("name",), MAX_NAME))


@dataclass(frozen=True)
class Version:
    questionnaire_id: uuid.UUID
    number: int
    items: tuple[Item, ...]
    responses: int = 0  # used once this is more than 0

    @property
    def used(self) -> bool:
        return self.responses > 0

    def corrected(self, items: Sequence[Item], known: Mapping[str, str]) -> "Version":
        """The same version with other items: only while nobody has answered it."""
        if self.used:
            raise SurveyConflict(
                f"version {self.number} has {self.responses} response(s): the items of a used version are never "
                "edited; publish a new version instead"
            )
        return Version(self.questionnaire_id, self.number, check_items(items, known))


def check_answers(version: Version, answers: Mapping[str, int]) -> dict[str, int]:
    """At least one answer; every code one of the version's items; every value 1 to 5."""
    if not answers:
        raise InvalidSurvey(("answers",), "answer at least one item")
    codes = {item.code for item in version.items}
    for code, value in answers.items():
        if code not in codes:
            raise ContradictoryInput(("answers", code), f"version {version.number} has no item {code}")
        if isinstance(value, bool) or value not in LIKERT:
            raise InvalidSurvey(("answers", code), "an answer is 1 (strongly disagree) to 5 (strongly agree)")
    return dict(answers)


def already_answered(kind: ResponseKind, version: int) -> str:
    return (
        f"the participant already has a {kind.value} response to version {version}: one per participant, version "
        "and kind"
    )


@dataclass(frozen=True)
class Response:
    id: uuid.UUID
    questionnaire_id: uuid.UUID
    version: int
    participant_id: uuid.UUID
    cycle_id: uuid.UUID
    activity_id: uuid.UUID | None
    kind: ResponseKind
    answers: Mapping[str, int]
    recorded_at: datetime


@dataclass(frozen=True)
class Answer:
    """One answer to one item, as the change per item reads it."""

    participant_id: uuid.UUID
    kind: ResponseKind
    recorded_at: datetime
    code: str
    value: int


@dataclass(frozen=True)
class ItemChange:
    code: str
    text: str
    pre_respondents: int  # participants with a pre answer to the item
    post_respondents: int  # participants with a post answer to the item
    n: int  # participants with both: the means and the change are over these
    pre_mean: Decimal | None
    post_mean: Decimal | None
    change: Decimal | None  # post_mean - pre_mean


def item_changes(items: Sequence[Item], answers: Iterable[Answer]) -> list[ItemChange]:
    """Per item (in `items`' order), the pre/post change over participants who answered both. A participant's pre
    answer is their first (by when recorded), their post answer their last."""
    pre: dict[str, dict[uuid.UUID, Answer]] = {item.code: {} for item in items}
    post: dict[str, dict[uuid.UUID, Answer]] = {item.code: {} for item in items}
    for answer in answers:
        if answer.code not in pre:
            continue
        if answer.kind is ResponseKind.PRE:
            kept = pre[answer.code].get(answer.participant_id)
            if kept is None or answer.recorded_at < kept.recorded_at:
                pre[answer.code][answer.participant_id] = answer
        else:
            kept = post[answer.code].get(answer.participant_id)
            if kept is None or answer.recorded_at > kept.recorded_at:
                post[answer.code][answer.participant_id] = answer
    rows = []
    for item in items:
        both = pre[item.code].keys() & post[item.code].keys()
        n = len(both)
        pre_mean = Decimal(sum(pre[item.code][p].value for p in both)) / n if n else None
        post_mean = Decimal(sum(post[item.code][p].value for p in both)) / n if n else None
        change = None if pre_mean is None or post_mean is None else post_mean - pre_mean
        rows.append(
            ItemChange(
                code=item.code,
                text=item.text,
                pre_respondents=len(pre[item.code]),
                post_respondents=len(post[item.code]),
                n=n,
                pre_mean=pre_mean,
                post_mean=post_mean,
                change=change,
            )
        )
    return rows
