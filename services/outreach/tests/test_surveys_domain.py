"""Survey rules without a database: items, answers, corrections, and the pre/post change per item."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from medic.outreach.domain.surveys import (
    Answer,
    InvalidSurvey,
    Item,
    SurveyConflict,
    Version,
    check_answers,
    check_items,
    item_changes,
)
from medic.shared.contracts.outreach.surveys import ResponseKind

PRE, POST = ResponseKind.PRE, ResponseKind.POST
T0 = datetime(2027, 1, 10, tzinfo=UTC)
A, B = Item("a", "Statement A"), Item("b", "Statement B")


@pytest.mark.parametrize(
    ("items", "known", "loc"),
    [
        ([], None, ("items",)),
        ([Item("A", "x")], None, ("items", 0, "code")),
        ([A, Item("a", "again")], None, ("items", 1, "code")),
        ([A, Item("c", "   ")], None, ("items", 1, "text")),
        ([A], {"a": "Another statement"}, ("items", 0, "text")),
    ],
)
def test_bad_items_name_the_field(items: list[Item], known: dict[str, str] | None, loc: tuple[object, ...]) -> None:
    with pytest.raises(InvalidSurvey) as refused:
        check_items(items, known)
    assert refused.value.loc == loc


def test_items_are_cleaned_and_a_known_code_may_keep_its_text() -> None:
    assert check_items([Item("a", "  Statement   A ")], {"a": "Statement A"}) == (A,)


def test_a_used_version_is_not_corrected() -> None:
    unused = Version(uuid.uuid4(), 1, (A,))
    assert unused.corrected([A, B], {}).items == (A, B)
    with pytest.raises(SurveyConflict, match="never edited"):
        Version(unused.questionnaire_id, 1, (A,), responses=1).corrected([A, B], {})


@pytest.mark.parametrize(
    ("answers", "loc"),
    [({}, ("answers",)), ({"z": 1}, ("answers", "z")), ({"a": 0}, ("answers", "a")), ({"a": True}, ("answers", "a"))],
)
def test_bad_answers_name_the_item(answers: dict[str, int], loc: tuple[object, ...]) -> None:
    with pytest.raises(InvalidSurvey) as refused:
        check_answers(Version(uuid.uuid4(), 1, (A, B)), answers)
    assert refused.value.loc == loc


def test_the_change_is_over_participants_with_both_first_pre_and_last_post() -> None:
    p1, p2, p3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    answers = [
        Answer(p1, PRE, T0, "a", 1),
        Answer(p1, PRE, T0 + timedelta(days=1), "a", 5),  # a later pre answer: the first counts
        Answer(p1, POST, T0 + timedelta(days=9), "a", 2),
        Answer(p1, POST, T0 + timedelta(days=10), "a", 4),  # the last post answer counts
        Answer(p2, PRE, T0, "a", 2),
        Answer(p2, POST, T0 + timedelta(days=10), "a", 3),
        Answer(p3, PRE, T0, "a", 5),  # pre only
        Answer(p3, POST, T0, "zz", 5),  # an item not asked for
    ]
    a, b = item_changes([A, B], answers)
    assert (a.pre_respondents, a.post_respondents, a.n) == (3, 2, 2)
    assert (a.pre_mean, a.post_mean, a.change) == (Decimal("1.5"), Decimal("3.5"), Decimal("2"))
    assert (b.n, b.pre_mean, b.post_mean, b.change) == (0, None, None, None)


def test_means_are_not_rounded() -> None:
    ps = [uuid.uuid4() for _ in range(3)]
    answers = [Answer(p, PRE, T0, "a", v) for p, v in zip(ps, (1, 1, 2), strict=True)]
    answers += [Answer(p, POST, T0, "a", 2) for p in ps]
    (row,) = item_changes([A], answers)
    assert row.pre_mean is not None and row.change is not None
    assert abs(row.pre_mean - Decimal(4) / 3) < Decimal("1e-20") and abs(row.change - Decimal(2) / 3) < Decimal("1e-20")
