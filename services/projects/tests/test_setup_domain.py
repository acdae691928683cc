"""The set-up's rules on their own: ODS codes, academic years, ids, names, emails, cohorts and group sizes."""

import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medic.projects.domain.setup import (
    Cohort,
    Group,
    InvalidSetup,
    SetupConflict,
    SetupNotFound,
    check_academic_year,
    clean_email,
    clean_name,
    clean_ods_code,
    clean_university_id,
    clean_user_id,
)

NOW = datetime(2026, 9, 1, tzinfo=UTC)


def cohort(min_size: int = 2, max_size: int = 4) -> Cohort:
    return Cohort.create(
        academic_year="2026-27",
        placement_start=date(2026, 9, 7),
        placement_end=date(2026, 11, 13),
        min_group_size=min_size,
        max_group_size=max_size,
        now=NOW,
    )


@pytest.mark.parametrize(("code", "stored"), [("Y03053", "Y03053"), ("e85001", "E85001"), (" F84003 ", "F84003")])
def test_an_ods_code_is_a_letter_and_five_digits_stored_upper_case(code: str, stored: str) -> None:
    assert clean_ods_code(code) == stored


@pytest.mark.parametrize(
    "code", ["", "Y0305", "Y030533", "03053Y", "YY3053", "Y03 53", "RAL01", "Ÿ03053", "Y\uff103053"]
)
def test_anything_else_is_not_an_ods_code(code: str) -> None:
    with pytest.raises(InvalidSetup) as refused:
        clean_ods_code(code)
    assert refused.value.field == "ods_code"


@given(st.integers(2000, 2099))
def test_an_academic_year_is_a_year_and_the_next(first: int) -> None:
    year = f"{first}-{(first + 1) % 100:02d}"
    assert check_academic_year(year) == year


@given(st.integers(2000, 2099), st.integers(0, 99))
def test_an_academic_year_whose_second_year_does_not_follow_is_refused(first: int, second: int) -> None:
    if second == (first + 1) % 100:
        second = (second + 1) % 100
    with pytest.raises(InvalidSetup) as refused:
        check_academic_year(f"{first}-{second:02d}")
    assert refused.value.field == "academic_year"


@pytest.mark.parametrize(
    "year", ["2026-2027", "2026/27", "26-27", "1999-00", "2026-27 x", "\uff12\uff10\uff12\uff16-27"]
)
def test_other_spellings_of_a_year_are_refused(year: str) -> None:
    with pytest.raises(InvalidSetup):
        check_academic_year(year)


@pytest.mark.parametrize("university_id", ["123456", "123456789012", "000123"])
def test_a_university_id_is_six_to_twelve_digits(university_id: str) -> None:
    assert clean_university_id(university_id) == university_id


@pytest.mark.parametrize("university_id", ["12345", "1234567890123", "12345a", "", "١٢٣٤٥٦"])
def test_anything_else_is_not_a_university_id(university_id: str) -> None:
    with pytest.raises(InvalidSetup):
        clean_university_id(university_id)


def test_names_collapse_spaces_and_blank_or_control_characters_are_refused() -> None:
    assert clean_name("  Dr   Asha\u00a0Patel ", "name") == "Dr Asha Patel"
    for bad in ("", "   ", "\u3000", "tab\x07bell", "x" * 201):
        with pytest.raises(InvalidSetup):
            clean_name(bad, "name")


def test_emails_are_checked_and_lower_cased() -> None:
    assert clean_email(" Sam.Okafor@Student.Example.AC.UK ") == "sam.okafor@student.example.ac.uk"
    for bad in ("sam", "sam@localhost", "a..b@example.org", "a b@example.org"):
        with pytest.raises(InvalidSetup):
            clean_email(bad)


def test_user_ids_are_visible_ascii() -> None:
    assert clean_user_id("auth0|65f2a") == "auth0|65f2a"
    for bad in ("", "a b", "ü", "x" * 201):
        with pytest.raises(InvalidSetup):
            clean_user_id(bad)


def test_a_cohort_placement_ends_after_it_starts_and_its_sizes_are_ordered() -> None:
    with pytest.raises(SetupConflict) as dates:
        cohort().changed(placement_end=date(2026, 9, 7))
    assert dates.value.field == "placement_end"
    with pytest.raises(SetupConflict) as sizes:
        cohort().changed(min_group_size=5)
    assert sizes.value.field == "max_group_size"
    with pytest.raises(InvalidSetup):
        cohort().changed(max_group_size=21)
    assert cohort().changed(min_group_size=4).min_group_size == 4


def test_a_new_size_range_must_fit_the_cohort_s_groups() -> None:
    before = cohort(2, 4)
    with pytest.raises(SetupConflict) as too_small:
        before.changed(max_group_size=2).check_group_sizes([0, 3], before=before)
    assert too_small.value.field == "max_group_size"
    with pytest.raises(SetupConflict) as formed_below:
        before.changed(min_group_size=3).check_group_sizes([2], before=before)
    assert formed_below.value.field == "min_group_size"
    before.changed(min_group_size=3).check_group_sizes([0, 1, 3], before=before)  # still forming, or fits


def test_a_group_fills_up_to_the_maximum_and_a_formed_group_keeps_the_minimum() -> None:
    year = cohort(2, 3)
    group = Group.create(cohort=year, practice_id=uuid.uuid4(), name=" A1 ", now=NOW)
    assert group.name == "A1"
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    group = group.with_student(first, year)
    assert not group.is_formed(year)
    assert group.with_student(first, year) == group  # already in: nothing changes
    assert group.without_student(first, year).student_ids == ()  # still forming: may shrink
    group = group.with_student(second, year).with_student(third, year)
    assert group.is_formed(year)
    with pytest.raises(SetupConflict):
        group.with_student(uuid.uuid4(), year)
    group = group.without_student(third, year)
    with pytest.raises(SetupConflict):
        group.without_student(second, year)
    with pytest.raises(SetupNotFound):
        group.without_student(third, year)


def test_a_group_keeps_its_last_supervisor() -> None:
    group = Group.create(cohort=cohort(), practice_id=uuid.uuid4(), name="A1", now=NOW)
    tutor, other = uuid.uuid4(), uuid.uuid4()
    group = group.with_supervisor(tutor)
    with pytest.raises(SetupConflict):
        group.without_supervisor(tutor)
    assert group.with_supervisor(other).without_supervisor(tutor).supervisor_ids == (other,)
    with pytest.raises(SetupNotFound):
        group.without_supervisor(other)


Step = tuple[bool, int]  # (add?, which of a few students)


@given(
    st.integers(1, 4).flatmap(lambda low: st.tuples(st.just(low), st.integers(low, 6))),
    st.lists(st.tuples(st.booleans(), st.integers(0, 7)), max_size=40),
)
def test_no_sequence_of_changes_breaks_the_size_rule(sizes: tuple[int, int], steps: list[Step]) -> None:
    """Whatever is added and removed, and whatever is refused on the way: a group never holds more than the
    maximum, and once formed never fewer than the minimum; a refused change changes nothing."""
    year = cohort(*sizes)
    students = [uuid.uuid4() for _ in range(8)]
    group = Group.create(cohort=year, practice_id=uuid.uuid4(), name="A1", now=NOW)
    formed = False
    for add, which in steps:
        try:
            changed = group.with_student(students[which], year) if add else group.without_student(students[which], year)
        except (SetupConflict, SetupNotFound):
            continue
        group = changed
        formed = formed or group.is_formed(year)
        assert len(group.student_ids) <= year.max_group_size
        assert len(set(group.student_ids)) == len(group.student_ids)
        if formed:
            assert len(group.student_ids) >= year.min_group_size


@given(st.lists(st.uuids(), max_size=8), st.integers(1, 4), st.integers(0, 4))
def test_an_imported_membership_is_within_the_range_or_refused(students: list[uuid.UUID], low: int, extra: int) -> None:
    year = cohort(low, low + extra)
    group = Group.create(cohort=year, practice_id=uuid.uuid4(), name="A1", now=NOW)
    try:
        imported = group.with_members(
            practice_id=group.practice_id, student_ids=students, supervisor_ids=[], cohort=year
        )
    except SetupConflict:
        assert not low <= len(set(students)) <= low + extra
    else:
        assert low <= len(imported.student_ids) <= low + extra
        assert set(imported.student_ids) == set(students)
