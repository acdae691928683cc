"""The rules of a school's identifiers and postcode, and GIAS's phases and funding, without I/O."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medic.outreach.domain.schools import InvalidSchool, School, clean_postcode
from medic.outreach.service_layer.school_import import phase_of, state_funded
from medic.shared.contracts.outreach import SchoolPhase

VALID = {
    "urn": "100000",
    "laestab": "2013614",
    "name": "The Aldgate School",
    "phase": SchoolPhase.PRIMARY,
    "local_authority_name": "City of London",
    "postcode": "EC3A 5DE",
    "state_funded": True,
}
postcodes = st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}", fullmatch=True)


@given(postcodes, st.data())
def test_a_postcode_is_stored_upper_case_with_one_space_however_it_is_typed(postcode: str, data: st.DataObject) -> None:
    typed = "".join(c.lower() if data.draw(st.booleans()) else c for c in postcode)
    between = data.draw(st.sampled_from(["", " ", "  "]))
    spaced = " " + typed[:-3] + between + typed[-3:] + " "
    cleaned = clean_postcode(spaced)
    assert cleaned == f"{postcode[:-3]} {postcode[-3:]}"
    assert clean_postcode(cleaned) == cleaned


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("urn", "12345"),
        ("urn", "1234567"),
        ("urn", "10000a"),
        ("laestab", "201361"),
        ("laestab", "20136140"),
        ("laestab", "201-3614"),
        ("postcode", "EC3A"),
        ("postcode", "12345"),
        ("postcode", "EC3A 5DEE"),
        ("postcode", "E C3A 5DE"),
        ("name", "   "),
        ("name", "x" * 201),
        ("local_authority_name", ""),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(field: str, value: str) -> None:
    with pytest.raises(InvalidSchool) as refused:
        School.create(**{**VALID, field: value})  # type: ignore[arg-type]
    assert refused.value.field == field


def test_the_laestab_is_the_local_authority_code_then_the_establishment_number() -> None:
    school = School.create(**VALID)  # type: ignore[arg-type]
    assert (school.local_authority_code, school.establishment_number, school.laestab) == ("201", "3614", "2013614")


@pytest.mark.parametrize(
    ("phase", "group", "expected"),
    [
        ("Primary", "Academies", SchoolPhase.PRIMARY),
        ("Middle deemed primary", "Local authority maintained schools", SchoolPhase.PRIMARY),
        ("Middle deemed secondary", "Academies", SchoolPhase.SECONDARY),
        ("Secondary", "Free Schools", SchoolPhase.SECONDARY),
        ("All-through", "Independent schools", SchoolPhase.ALL_THROUGH),
        ("16 plus", "Colleges", SchoolPhase.SIXTEEN_PLUS),
        ("Not applicable", "Special schools", SchoolPhase.SPECIAL),
        (" primary ", "academies", SchoolPhase.PRIMARY),
    ],
)
def test_gias_phases_map_to_ours(phase: str, group: str, expected: SchoolPhase) -> None:
    assert phase_of(phase, group) is expected


@pytest.mark.parametrize(
    ("phase", "group"),
    [("Nursery", "Local authority maintained schools"), ("Not applicable", "Independent schools"), ("", "Academies")],
)
def test_phases_of_establishments_outreach_does_not_serve_are_refused(phase: str, group: str) -> None:
    with pytest.raises(InvalidSchool):
        phase_of(phase, group)


def test_only_independent_schools_are_not_state_funded() -> None:
    assert state_funded("Independent schools") is False
    assert state_funded(" independent  SCHOOLS") is False
    assert all(state_funded(g) for g in ("Academies", "Special schools", "Free Schools", "Colleges", "Other types"))
