"""Assessment rules as properties: a rubric accepts exactly the marks within its criteria's ranges, a full set
of marks totals 0 to 100%, and reflections are limited in words and in the states they may change."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medic.projects.domain.assessment import (
    REFLECTING_STATES,
    AssessmentRefused,
    Criterion,
    InvalidAssessment,
    Rubric,
    reflect,
)
from medic.projects.domain.lifecycle import State

NOW = datetime(2026, 11, 25, tzinfo=UTC)

criteria_lists = st.lists(
    st.builds(
        Criterion,
        key=st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
        title=st.just("A criterion"),
        descriptor=st.just(""),
        max_mark=st.integers(1, 100),
        weight=st.floats(0.1, 100),
    ),
    min_size=1,
    max_size=20,
    unique_by=lambda c: c.key,
)


@given(criteria_lists, st.data())
def test_marks_are_accepted_exactly_when_each_is_a_known_criterion_within_its_range(
    criteria: list[Criterion], data: st.DataObject
) -> None:
    rubric = Rubric.define(uuid.uuid4(), criteria, NOW)
    marks = data.draw(
        st.dictionaries(st.sampled_from([*rubric.keys, "unknown"]), st.integers(-5, 105), max_size=len(criteria) + 1)
    )
    by_key = {c.key: c for c in criteria}
    valid = all(key in by_key and 0 <= mark <= by_key[key].max_mark for key, mark in marks.items())
    try:
        checked = rubric.check(marks, every_criterion=False)
    except InvalidAssessment as error:
        assert not valid
        assert error.loc[0] == "marks" and error.loc[1] in marks  # names the criterion at fault
    else:
        assert valid and checked == marks
        assert rubric.complete(checked) == (set(checked) == set(by_key))


@given(criteria_lists, st.data())
def test_a_full_set_of_marks_totals_between_0_and_100_percent(criteria: list[Criterion], data: st.DataObject) -> None:
    rubric = Rubric.define(uuid.uuid4(), criteria, NOW)
    marks = {c.key: data.draw(st.integers(0, c.max_mark)) for c in criteria}
    assert 0 <= rubric.percentage(marks) <= 100
    assert rubric.percentage({c.key: c.max_mark for c in criteria}) == 100
    assert rubric.percentage({c.key: 0 for c in criteria}) == 0


@pytest.mark.parametrize(
    ("criteria", "loc"),
    [
        ([], ("criteria",)),
        ([Criterion("a", "A", "", 10), Criterion("a", "B", "", 10)], ("criteria", 1, "key")),
        ([Criterion("A b", "A", "", 10)], ("criteria", 0, "key")),
        ([Criterion("a", " ", "", 10)], ("criteria", 0, "title")),
        ([Criterion("a", "A", "", 0)], ("criteria", 0, "max_mark")),
        ([Criterion("a", "A", "", 10, weight=0)], ("criteria", 0, "weight")),
    ],
)
def test_a_bad_rubric_names_the_criterion_at_fault(criteria: list[Criterion], loc: tuple[object, ...]) -> None:
    with pytest.raises(InvalidAssessment) as refused:
        Rubric.define(uuid.uuid4(), criteria, NOW)
    assert refused.value.loc == loc


@given(st.sampled_from(State), st.integers(1, 1200))
def test_a_reflection_is_1_to_1000_words_and_changes_only_until_assessed(state: State, words: int) -> None:
    text = " ".join(["word"] * words)
    try:
        reflection = reflect(state, project_id=uuid.uuid4(), student_id=uuid.uuid4(), text=text, now=NOW)
    except AssessmentRefused:
        assert state not in REFLECTING_STATES
    except InvalidAssessment as error:
        assert state in REFLECTING_STATES and words > 1000 and error.loc == ("text",)
    else:
        assert state in REFLECTING_STATES and words <= 1000 and reflection.text == text
    assert State.ASSESSED not in REFLECTING_STATES and State.SHOWCASED in REFLECTING_STATES
