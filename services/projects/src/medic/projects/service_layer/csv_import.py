"""Bulk import of a CAP year's set-up from CSV: practices, students, groups.

Every import is one unit of work. Each line is checked, and the errors found (line number, column, why) are
reported together; when there is any, nothing is imported. Checks that need the whole file right (a group's size,
a student in a group the file leaves alone) run once every line is well-formed and names what exists. A row that
matches what is stored changes nothing and publishes nothing, so importing the same file twice is harmless; a row
that differs updates.

Files are UTF-8 (a byte-order mark, as spreadsheets write, is fine), comma-separated, with a header line naming
the columns in any order. Line numbers count from the header (line 1); blank lines are skipped.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.setup import (
    MAX_AREA,
    MAX_GROUP_NAME,
    Cohort,
    Group,
    InvalidSetup,
    Practice,
    SetupConflict,
    Student,
    check_academic_year,
    clean_email,
    clean_name,
    clean_ods_code,
    clean_university_id,
    clean_user_id,
)
from medic.projects.domain.setup_commands import ImportCsv
from medic.projects.service_layer.contact_addresses import publish_address, student_address
from medic.projects.service_layer.setup_handlers import practice_event, publish_group_change
from medic.shared.contracts.projects import setup as contracts
from medic.shared.events import Envelope

PRACTICE_COLUMNS = ("ods_code", "name", "area")
STUDENT_COLUMNS = ("university_id", "name", "email")
GROUP_COLUMNS = ("cohort", "group", "practice_ods_code", "student_university_id", "supervisor_user_ids")
MAX_ROWS = 5000  # per file; the HTTP edge also bounds the body's size
SUPERVISOR_SEPARATOR = ";"

T = TypeVar("T")


class Problem(StrEnum):
    """What is wrong with a line, worst first: a file with any `INVALID` line is answered 422, else one naming
    objects that do not exist 404, else one that contradicts what is stored 409."""

    INVALID = "invalid"  # the line itself is malformed
    UNKNOWN = "unknown"  # it names a cohort, practice, student or supervisor that does not exist
    CONFLICT = "conflict"  # it contradicts another line or what is stored (a full group, a student placed twice)


@dataclass(frozen=True)
class LineError:
    line: int
    column: str
    message: str
    problem: Problem = Problem.INVALID


class ImportRejected(Exception):
    """The file has errors; nothing was imported."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = sorted(errors, key=lambda e: (e.line, e.column))
        self.problem = min((e.problem for e in errors), key=list(Problem).index)


@dataclass
class ImportSummary:
    """What an import did, counted in practices, students or groups."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class _Errors:
    found: list[LineError] = field(default_factory=list)

    def add(self, line: int, column: str, message: str, problem: Problem = Problem.INVALID) -> None:
        self.found.append(LineError(line, column, message, problem))

    def check(self, line: int, column: str, clean: Callable[..., T], *args: str | int) -> T | None:
        """`clean(*args)`, or None with its error recorded under `column`."""
        try:
            return clean(*args)
        except InvalidSetup as error:
            self.add(line, column, str(error))
            return None

    def raise_any(self) -> None:
        if self.found:
            raise ImportRejected(self.found)


def read_rows(text: str, columns: tuple[str, ...], errors: _Errors) -> list[tuple[int, dict[str, str]]]:
    """(line number, cells by column) of each data row. A row that is not one (too few or many cells) is recorded
    in `errors` and left out; a header that is not the table's raises ImportRejected at once."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            line = reader.line_num - sum(c.count("\n") for c in cells)  # where a row with quoted line breaks starts
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                _check_header(header, columns, line, errors)
                errors.raise_any()
                continue
            if len(rows) == MAX_ROWS:
                errors.add(line, "row", f"at most {MAX_ROWS} rows per file")
                break
            if len(cells) != len(header):
                errors.add(line, "row", f"has {len(cells)} cells where the header has {len(header)}")
                continue
            rows.append((line, dict(zip(header, cells, strict=True))))
    except csv.Error as error:
        errors.add(reader.line_num, "row", f"is not valid CSV: {error}")
    if header is None:
        errors.add(1, "header", f"the file needs a header line: {','.join(columns)}")
        errors.raise_any()
    return rows


def _check_header(header: list[str], columns: tuple[str, ...], line: int, errors: _Errors) -> None:
    for column in columns:
        if column not in header:
            errors.add(line, column, "column missing from the header")
    seen: set[str] = set()
    for column in header:
        if column not in columns:
            errors.add(line, column or "header", f"unknown column: the columns are {','.join(columns)}")
        elif column in seen:
            errors.add(line, column, "column given twice")
        seen.add(column)


def _now() -> datetime:
    return datetime.now(UTC)


async def import_practices(command: ImportCsv, uow: ProjectsUnitOfWork) -> ImportSummary:
    """Columns `ods_code,name,area`; a practice is matched by its ODS code."""
    errors = _Errors()
    wanted: dict[str, tuple[int, str, str]] = {}  # ODS code: (line, name, area)
    for line, row in read_rows(command.text, PRACTICE_COLUMNS, errors):
        code = errors.check(line, "ods_code", clean_ods_code, row["ods_code"])
        name = errors.check(line, "name", clean_name, row["name"], "name")
        area = errors.check(line, "area", clean_name, row["area"], "area", MAX_AREA)
        if code is not None and code in wanted:
            errors.add(line, "ods_code", f"the same practice as line {wanted[code][0]}")
        elif code is not None and name is not None and area is not None:
            wanted[code] = (line, name, area)
    errors.raise_any()
    summary = ImportSummary()
    async with uow:
        existing = await uow.setup.practices_by_ods_code(list(wanted))
        for code, (_, name, area) in wanted.items():
            before = existing.get(code)
            if before is None:
                practice = Practice.create(name=name, ods_code=code, area=area, now=_now())
                await uow.setup.add_practice(practice)
                event = practice_event(contracts.PracticeRegisteredV1, practice)
                summary.created += 1
            else:
                practice = before.changed(name=name, area=area)
                if practice == before:
                    summary.unchanged += 1
                    continue
                await uow.setup.update_practice(practice)
                event = practice_event(contracts.PracticeChangedV1, practice)
                summary.updated += 1
            await uow.publish(
                Envelope.wrap(event, subject=f"practices/{practice.id}", correlation_id=command.correlation_id)
            )
        await uow.commit()
    return summary


async def import_students(command: ImportCsv, uow: ProjectsUnitOfWork) -> ImportSummary:
    """Columns `university_id,name,email`; a student is matched by their university id."""
    errors = _Errors()
    wanted: dict[str, tuple[int, str, str]] = {}  # university id: (line, name, email)
    for line, row in read_rows(command.text, STUDENT_COLUMNS, errors):
        university_id = errors.check(line, "university_id", clean_university_id, row["university_id"])
        name = errors.check(line, "name", clean_name, row["name"], "name")
        email = errors.check(line, "email", clean_email, row["email"])
        if university_id is not None and university_id in wanted:
            errors.add(line, "university_id", f"the same student as line {wanted[university_id][0]}")
        elif university_id is not None and name is not None and email is not None:
            wanted[university_id] = (line, name, email)
    errors.raise_any()
    summary = ImportSummary()
    async with uow:
        existing = await uow.setup.students_by_university_id(list(wanted))
        for university_id, (_, name, email) in wanted.items():
            before = existing.get(university_id)
            if before is None:
                student = Student.create(university_id=university_id, name=name, email=email, now=_now())
                await uow.setup.add_student(student)
                payload: contracts.StudentRegisteredV1 | contracts.StudentChangedV1 = contracts.StudentRegisteredV1(
                    student_id=student.id
                )
                summary.created += 1
            else:
                student = before.changed(name=name, email=email)
                if student == before:
                    summary.unchanged += 1
                    continue
                await uow.setup.update_student(student)
                payload = contracts.StudentChangedV1(student_id=student.id)
                summary.updated += 1
            await uow.publish(
                Envelope.wrap(payload, subject=f"students/{student.id}", correlation_id=command.correlation_id)
            )
            if before is None or (student.name, student.email) != (before.name, before.email):
                await publish_address(uow, student_address(student), command.correlation_id)
        await uow.commit()
    return summary


@dataclass
class _GroupRows:
    """What the file says of one group: its lines, practice, students and supervisors."""

    first_line: int
    practice_code: str
    students: dict[str, int] = field(default_factory=dict)  # university id: line
    supervisors: dict[str, int] = field(default_factory=dict)  # user id: line


def _read_groups(text: str, errors: _Errors) -> dict[tuple[str, str], _GroupRows]:
    """The file's groups by (academic year, group name), each line checked on its own."""
    groups: dict[tuple[str, str], _GroupRows] = {}
    placed: dict[tuple[str, str], int] = {}  # (academic year, university id): line
    for line, row in read_rows(text, GROUP_COLUMNS, errors):
        year = errors.check(line, "cohort", check_academic_year, row["cohort"], "cohort")
        name = errors.check(line, "group", clean_name, row["group"], "group", MAX_GROUP_NAME)
        code = errors.check(line, "practice_ods_code", clean_ods_code, row["practice_ods_code"], "practice_ods_code")
        student = row["student_university_id"].strip()
        if student:
            column = "student_university_id"
            student = errors.check(line, column, clean_university_id, student, column) or ""
        supervisors = [
            errors.check(line, "supervisor_user_ids", clean_user_id, s, "supervisor_user_ids") or ""
            for s in row["supervisor_user_ids"].split(SUPERVISOR_SEPARATOR)
            if s.strip()
        ]
        if year is None or name is None or code is None:
            continue
        group = groups.setdefault((year, name), _GroupRows(first_line=line, practice_code=code))
        if code != group.practice_code:
            errors.add(line, "practice_ods_code", f"group {name!r} is at another practice on line {group.first_line}")
        if student:
            if (year, student) in placed:
                first = placed[year, student]
                errors.add(line, "student_university_id", f"the student is already placed on line {first}")
            placed[year, student] = line
            group.students[student] = line
        for supervisor in filter(None, supervisors):
            group.supervisors.setdefault(supervisor, line)
    return groups


async def import_groups(command: ImportCsv, uow: ProjectsUnitOfWork) -> ImportSummary:
    """One row per student: `cohort,group,practice_ods_code,student_university_id,supervisor_user_ids`.

    A group is matched by cohort and name. Each group in the file gets exactly the students and supervisors the
    file lists for it (supervisors, `;`-separated, may be given on any of its rows); groups not in the file are
    left as they are. Cohorts, practices, students and supervisors must exist already."""
    errors = _Errors()
    wanted = _read_groups(command.text, errors)
    summary = ImportSummary()
    async with uow:
        setup = uow.setup
        cohorts = await setup.cohorts_by_year({year for year, _ in wanted})
        practices = await setup.practices_by_ods_code({g.practice_code for g in wanted.values()})
        students = await setup.students_by_university_id({s for g in wanted.values() for s in g.students})
        supervisors = await setup.supervisors_by_user_id({s for g in wanted.values() for s in g.supervisors})
        unknown = Problem.UNKNOWN
        resolved: dict[tuple[str, str], _GroupRows] = {}
        for (year, name), rows in wanted.items():
            known = len(errors.found)
            if year not in cohorts:
                errors.add(rows.first_line, "cohort", "no cohort for that academic year", unknown)
            if rows.practice_code not in practices:
                errors.add(rows.first_line, "practice_ods_code", "no practice with that ODS code", unknown)
            for university_id, line in rows.students.items():
                if university_id not in students:
                    errors.add(line, "student_university_id", "no student with that university id", unknown)
            for user_id, line in rows.supervisors.items():
                if user_id not in supervisors:
                    errors.add(line, "supervisor_user_ids", f"no supervisor with the user id {user_id!r}", unknown)
            if len(errors.found) == known:
                resolved[year, name] = rows

        # Sizes and placements are checked once every line is well-formed and names what exists: before, a
        # group's membership in the file is not known for sure.
        errors.raise_any()
        existing = await setup.groups_by_name({(cohorts[year].id, name) for year, name in resolved})
        in_file = {group.id for group in existing.values()}
        changes: list[tuple[Group | None, Group, Cohort]] = []
        for (year, name), rows in resolved.items():
            cohort = cohorts[year]
            practice_id = practices[rows.practice_code].id
            student_ids = {students[u].id: line for u, line in rows.students.items()}
            # A student may move between groups of the file, not out of a group the file leaves alone.
            for student_id, group in (await setup.groups_of_students(cohort.id, student_ids)).items():
                if group.id not in in_file:
                    message = f"the student is in group {group.name!r}, which is not in this file"
                    errors.add(student_ids[student_id], "student_university_id", message, Problem.CONFLICT)
            before = existing.get((cohort.id, name))
            group = before or Group.create(cohort=cohort, practice_id=practice_id, name=name, now=_now())
            try:
                after = group.with_members(
                    practice_id=practice_id,
                    student_ids=list(student_ids),
                    supervisor_ids=[supervisors[u].id for u in rows.supervisors],
                    cohort=cohort,
                )
            except SetupConflict as conflict:
                errors.add(rows.first_line, conflict.field, str(conflict), Problem.CONFLICT)
                continue
            if after == before:
                summary.unchanged += 1
            else:
                changes.append((before, after, cohort))
        errors.raise_any()

        for before, after, _ in changes:
            if before is None:
                await setup.add_group(after)
                summary.created += 1
            else:
                summary.updated += 1
        await setup.save_members([after for _, after, _ in changes])
        for before, after, cohort in changes:
            await publish_group_change(uow, before, after, cohort, command.correlation_id)
        await uow.commit()
    return summary
