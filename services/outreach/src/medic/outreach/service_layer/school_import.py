"""Import of schools from a CSV extract of the DfE register, Get Information About Schools (GIAS).

The file keeps GIAS's layout: its header names the columns, in any order, and only these are read (matched
ignoring case and surrounding spaces; every other column is ignored):
`URN`, `LA (code)`, `LA (name)`, `EstablishmentNumber`, `EstablishmentName`, `PhaseOfEducation (name)`,
`EstablishmentTypeGroup (name)`, `Postcode`.

Phase (`PhaseOfEducation (name)`): Primary and Middle deemed primary -> primary; Secondary and Middle deemed
secondary -> secondary; All-through -> all_through; 16 plus -> sixteen_plus; Not applicable -> special when the
type group is Special schools. Any other (Nursery, Not applicable outside special schools) is refused on its line:
those establishments are not schools this service works with.
State-funded: false when `EstablishmentTypeGroup (name)` is Independent schools, true for every other group.

Every line is checked and every error (line number, column, why) reported together; with any error nothing is
imported. A school is matched by its URN: a row equal to what is stored changes nothing and publishes nothing, a
row that differs updates it. Line numbers count from the header (line 1); blank lines are skipped.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.school_commands import ImportSchools
from medic.outreach.domain.schools import (
    MAX_LA_NAME,
    InvalidSchool,
    School,
    clean_establishment_number,
    clean_la_code,
    clean_postcode,
    clean_text,
    clean_urn,
)
from medic.outreach.service_layer.schools import publish_school
from medic.shared.contracts.outreach import SchoolPhase, SchoolRegisteredV1, SchoolUpdatedV1

URN_COLUMN = "URN"
LA_CODE_COLUMN = "LA (code)"
LA_NAME_COLUMN = "LA (name)"
NUMBER_COLUMN = "EstablishmentNumber"
NAME_COLUMN = "EstablishmentName"
PHASE_COLUMN = "PhaseOfEducation (name)"
TYPE_GROUP_COLUMN = "EstablishmentTypeGroup (name)"
POSTCODE_COLUMN = "Postcode"
COLUMNS = (
    URN_COLUMN,
    LA_CODE_COLUMN,
    LA_NAME_COLUMN,
    NUMBER_COLUMN,
    NAME_COLUMN,
    PHASE_COLUMN,
    TYPE_GROUP_COLUMN,
    POSTCODE_COLUMN,
)
MAX_ROWS = 5000  # per file; the HTTP edge also bounds the body's size

PHASES = {
    "primary": SchoolPhase.PRIMARY,
    "middle deemed primary": SchoolPhase.PRIMARY,
    "secondary": SchoolPhase.SECONDARY,
    "middle deemed secondary": SchoolPhase.SECONDARY,
    "all-through": SchoolPhase.ALL_THROUGH,
    "16 plus": SchoolPhase.SIXTEEN_PLUS,
}
SPECIAL_SCHOOLS = "special schools"
INDEPENDENT_SCHOOLS = "independent schools"

T = TypeVar("T")


@dataclass(frozen=True)
class LineError:
    line: int
    column: str
    message: str


class ImportRejected(Exception):
    """The file has errors; nothing was imported."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = sorted(errors, key=lambda e: (e.line, e.column))


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class _Errors:
    found: list[LineError] = field(default_factory=list)

    def add(self, line: int, column: str, message: str) -> None:
        self.found.append(LineError(line, column, message))

    def check(self, line: int, column: str, clean: Callable[[], T]) -> T | None:
        """`clean()`, or None with its error recorded under `column`."""
        try:
            return clean()
        except InvalidSchool as error:
            self.add(line, column, str(error))
            return None

    def raise_any(self) -> None:
        if self.found:
            raise ImportRejected(self.found)


def phase_of(phase_name: str, type_group: str) -> SchoolPhase:
    """The phase from GIAS's `PhaseOfEducation (name)` and `EstablishmentTypeGroup (name)` (see the module)."""
    phase = " ".join(phase_name.split()).lower()
    if phase in PHASES:
        return PHASES[phase]
    if phase == "not applicable" and " ".join(type_group.split()).lower() == SPECIAL_SCHOOLS:
        return SchoolPhase.SPECIAL
    raise InvalidSchool(PHASE_COLUMN, "not a phase of a school outreach works with: " + ", ".join(_PHASE_NAMES))


_PHASE_NAMES = ("Primary", "Middle deemed primary", "Secondary", "Middle deemed secondary", "All-through", "16 plus")


def state_funded(type_group: str) -> bool:
    return " ".join(type_group.split()).lower() != INDEPENDENT_SCHOOLS


def read_rows(text: str, errors: _Errors) -> list[tuple[int, dict[str, str]]]:
    """(line number, cells of the columns read) of each data row. A header without them raises at once."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    positions: dict[str, int] | None = None
    width = 0
    try:
        for cells in reader:
            line = reader.line_num - sum(c.count("\n") for c in cells)  # where a row with quoted line breaks starts
            if not any(cell.strip() for cell in cells):
                continue
            if positions is None:
                positions, width = _header(cells, line, errors), len(cells)
                errors.raise_any()
                continue
            if len(rows) == MAX_ROWS:
                errors.add(line, "row", f"at most {MAX_ROWS} rows per file")
                break
            if len(cells) != width:
                errors.add(line, "row", f"has {len(cells)} cells where the header has {width}")
                continue
            rows.append((line, {column: cells[at] for column, at in positions.items()}))
    except csv.Error as error:
        errors.add(reader.line_num, "row", f"is not valid CSV: {error}")
    if positions is None:
        errors.add(1, "header", "the file needs a header line naming at least: " + ",".join(COLUMNS))
        errors.raise_any()
    return rows


def _header(cells: list[str], line: int, errors: _Errors) -> dict[str, int]:
    named = [cell.strip().lower() for cell in cells]
    positions: dict[str, int] = {}
    for column in COLUMNS:
        found = [at for at, name in enumerate(named) if name == column.lower()]
        if not found:
            errors.add(line, column, "column missing from the header")
        elif len(found) > 1:
            errors.add(line, column, "column given twice")
        else:
            positions[column] = found[0]
    return positions


def _school(line: int, row: dict[str, str], errors: _Errors) -> School | None:
    """The row's school, or None with every error of the row recorded under its column."""
    urn = errors.check(line, URN_COLUMN, lambda: clean_urn(row[URN_COLUMN], URN_COLUMN))
    code = errors.check(line, LA_CODE_COLUMN, lambda: clean_la_code(row[LA_CODE_COLUMN], LA_CODE_COLUMN))
    number = errors.check(line, NUMBER_COLUMN, lambda: clean_establishment_number(row[NUMBER_COLUMN], NUMBER_COLUMN))
    name = errors.check(line, NAME_COLUMN, lambda: clean_text(row[NAME_COLUMN], NAME_COLUMN))
    la_name = errors.check(line, LA_NAME_COLUMN, lambda: clean_text(row[LA_NAME_COLUMN], LA_NAME_COLUMN, MAX_LA_NAME))
    phase = errors.check(line, PHASE_COLUMN, lambda: phase_of(row[PHASE_COLUMN], row[TYPE_GROUP_COLUMN]))
    postcode = errors.check(line, POSTCODE_COLUMN, lambda: clean_postcode(row[POSTCODE_COLUMN], POSTCODE_COLUMN))
    if urn is None or code is None or number is None or name is None or la_name is None:
        return None
    if phase is None or postcode is None:
        return None
    return School.create(
        urn=urn,
        laestab=code + number,
        name=name,
        phase=phase,
        local_authority_name=la_name,
        postcode=postcode,
        state_funded=state_funded(row[TYPE_GROUP_COLUMN]),
    )


async def import_schools(command: ImportSchools, uow: OutreachUnitOfWork) -> ImportSummary:
    errors = _Errors()
    wanted: dict[str, tuple[int, School]] = {}  # URN: (line, school)
    for line, row in read_rows(command.text, errors):
        school = _school(line, row, errors)
        if school is None:
            continue
        if school.urn in wanted:
            errors.add(line, URN_COLUMN, f"the same school as line {wanted[school.urn][0]}")
        else:
            wanted[school.urn] = (line, school)
    errors.raise_any()
    summary = ImportSummary()
    now = datetime.now(UTC)
    async with uow:
        existing = await uow.schools.by_urn(list(wanted))
        for urn, (_, school) in wanted.items():
            before = existing.get(urn)
            if before is None:
                await uow.schools.add(school, now=now)
                await publish_school(uow, SchoolRegisteredV1, school, command.correlation_id)
                summary.created += 1
            elif before == school:
                summary.unchanged += 1
            else:
                await uow.schools.update(school)
                await publish_school(uow, SchoolUpdatedV1, school, command.correlation_id)
                summary.updated += 1
        await uow.commit()
    return summary
