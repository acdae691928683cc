"""Hypothesis strategies for the set-up imports' CSV files: well-formed files of each kind, as a spreadsheet would
write them (any column order, quoting where needed). The set-up tests use them, and the API fuzz test registers them
for the formats the OpenAPI document names (`practices-csv`, `students-csv`, `groups-csv`)."""

import csv
import io
from collections.abc import Sequence

from hypothesis import strategies as st

from medic.projects.domain.setup import ACADEMIC_YEAR
from medic.projects.service_layer.csv_import import GROUP_COLUMNS, PRACTICE_COLUMNS, STUDENT_COLUMNS
from medic.shared.http_fields import EMAIL_PATTERN

# Names as people type them: any printable text with something besides spaces (no control characters).
names = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(
    lambda s: bool(s.split())
)
ods_codes = st.from_regex(r"[A-Za-z][0-9]{5}", fullmatch=True)
university_ids = st.from_regex(r"[0-9]{6,12}", fullmatch=True)
emails = st.from_regex(EMAIL_PATTERN, fullmatch=True).filter(lambda e: len(e) <= 254)
user_ids = st.from_regex(r"[!-:<-~]{1,30}", fullmatch=True)  # `;` separates them in a cell
academic_years = st.from_regex(ACADEMIC_YEAR.pattern, fullmatch=True)


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[row[column] for column in columns] for row in rows])
    return out.getvalue()


@st.composite
def practices_csv(draw: st.DrawFn) -> str:
    codes = draw(st.lists(ods_codes, max_size=8, unique_by=str.upper))
    rows = [{"ods_code": code, "name": draw(names), "area": draw(names)} for code in codes]
    return csv_text(draw(st.permutations(PRACTICE_COLUMNS)), rows)


@st.composite
def students_csv(draw: st.DrawFn) -> str:
    ids = draw(st.lists(university_ids, max_size=8, unique=True))
    rows = [{"university_id": i, "name": draw(names), "email": draw(emails)} for i in ids]
    return csv_text(draw(st.permutations(STUDENT_COLUMNS)), rows)


@st.composite
def groups_csv(draw: st.DrawFn) -> str:
    """Groups of one or more rows each, at one practice each, with every student in one group."""
    keys = draw(
        st.lists(st.tuples(academic_years, st.sampled_from(["A1", "B2", "Blue group"])), max_size=4, unique=True)
    )
    students = iter(draw(st.lists(university_ids, min_size=len(keys) * 3, max_size=len(keys) * 3, unique=True)))
    rows = []
    for year, name in keys:
        practice = draw(ods_codes)
        for _ in range(draw(st.integers(1, 3))):
            supervisors = ";".join(draw(st.lists(user_ids, max_size=2)))
            rows.append(
                {
                    "cohort": year,
                    "group": name,
                    "practice_ods_code": practice,
                    "student_university_id": next(students),
                    "supervisor_user_ids": supervisors,
                }
            )
    return csv_text(draw(st.permutations(GROUP_COLUMNS)), rows)


CSV_FORMATS = {"practices-csv": practices_csv(), "students-csv": students_csv(), "groups-csv": groups_csv()}
