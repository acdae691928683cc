"""Hypothesis strategies for GIAS-layout school CSV files: well-formed extracts, columns in any order, with
columns the import ignores. The import tests use them, and the API fuzz test registers them for the format the
OpenAPI document names (`gias-schools-csv`)."""

import csv
import io

from hypothesis import strategies as st

from medic.outreach.entrypoints.http.school_imports import CSV_FORMAT
from medic.outreach.service_layer.school_import import COLUMNS

names = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(
    lambda s: bool(s.split())
)
postcodes = st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", fullmatch=True)
# What GIAS writes in the two columns that decide the phase and funding, in combinations the import accepts.
PHASES = [
    ("Primary", "Local authority maintained schools"),
    ("Middle deemed secondary", "Academies"),
    ("Secondary", "Free Schools"),
    ("All-through", "Independent schools"),
    ("16 plus", "Colleges"),
    ("Not applicable", "Special schools"),
]
IGNORED = ("TypeOfEstablishment (name)", "EstablishmentStatus (name)", "StatutoryLowAge", "HeadLastName")


@st.composite
def gias_csv(draw: st.DrawFn) -> str:
    urns = draw(st.lists(st.from_regex(r"[0-9]{6}", fullmatch=True), max_size=8, unique=True))
    rows = []
    for urn in urns:
        phase, group = draw(st.sampled_from(PHASES))
        row = {
            "URN": urn,
            "LA (code)": draw(st.from_regex(r"[0-9]{3}", fullmatch=True)),
            "LA (name)": draw(names),
            "EstablishmentNumber": draw(st.from_regex(r"[0-9]{4}", fullmatch=True)),
            "EstablishmentName": draw(names),
            "PhaseOfEducation (name)": phase,
            "EstablishmentTypeGroup (name)": group,
            "Postcode": draw(postcodes),
        }
        rows.append(row | {column: draw(names) for column in IGNORED})
    columns = draw(st.permutations([*COLUMNS, *draw(st.lists(st.sampled_from(IGNORED), unique=True))]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[row[column] for column in columns] for row in rows])
    return out.getvalue()


CSV_FORMATS = {CSV_FORMAT: gias_csv()}
