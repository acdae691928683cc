"""Reading and writing a CAP year's set-up: cohorts, practices, supervisors, students, groups.

Reads take a `Viewer` and return only what that viewer may see (see `domain.setup.Viewer`); an object they may
not see reads as missing, so the HTTP layer answers 404 for it.
"""

import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.orm_setup import (
    cohorts,
    group_students,
    group_supervisors,
    groups,
    practices,
    students,
    supervisor_practices,
    supervisors,
)
from medic.projects.domain.setup import Cohort, Group, Practice, SetupConflict, Student, Supervisor, Viewer


class SetupRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def _execute(self, statement: Any, conflict: SetupConflict) -> None:
        """Run a write; a unique or foreign key violation (a concurrent writer won a race) is `conflict`."""
        try:
            await self._connection.execute(statement)
        except IntegrityError:  # the transaction is spoilt either way: the unit of work rolls it back
            raise conflict from None

    # Cohorts

    async def add_cohort(self, cohort: Cohort) -> None:
        await self._execute(
            insert(cohorts).values(**_cohort_values(cohort), id=cohort.id, created_at=cohort.created_at),
            SetupConflict("academic_year", "a cohort for that academic year already exists"),
        )

    async def update_cohort(self, cohort: Cohort) -> None:
        await self._connection.execute(update(cohorts).where(cohorts.c.id == cohort.id).values(_cohort_values(cohort)))

    async def cohort(self, cohort_id: uuid.UUID, viewer: Viewer | None = None) -> Cohort | None:
        query = select(cohorts).where(cohorts.c.id == cohort_id, *_cohort_visible(viewer))
        row = (await self._connection.execute(query)).first()
        return _to_cohort(row._mapping) if row else None

    async def cohorts_by_year(self, years: Collection[str]) -> dict[str, Cohort]:
        query = select(cohorts).where(cohorts.c.academic_year.in_(years))
        return {row.academic_year: _to_cohort(row._mapping) for row in await self._connection.execute(query)}

    async def list_cohorts(self, viewer: Viewer, *, limit: int, offset: int) -> Sequence[Cohort]:
        query = (
            select(cohorts)
            .where(*_cohort_visible(viewer))
            .order_by(cohorts.c.academic_year, cohorts.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [_to_cohort(row._mapping) for row in await self._connection.execute(query)]

    async def group_sizes(self, cohort_id: uuid.UUID) -> list[int]:
        """How many students each group of the cohort has (empty groups included)."""
        query = (
            select(func.count(group_students.c.student_id))
            .select_from(groups.outerjoin(group_students, group_students.c.group_id == groups.c.id))
            .where(groups.c.cohort_id == cohort_id)
            .group_by(groups.c.id)
        )
        return [int(count) for count in (await self._connection.execute(query)).scalars()]

    # Practices

    async def add_practice(self, practice: Practice) -> None:
        await self._execute(
            insert(practices).values(**_practice_values(practice), id=practice.id, created_at=practice.created_at),
            SetupConflict("ods_code", "a practice with that ODS code is already registered"),
        )

    async def update_practice(self, practice: Practice) -> None:
        await self._execute(
            update(practices).where(practices.c.id == practice.id).values(_practice_values(practice)),
            SetupConflict("ods_code", "another practice has that ODS code"),
        )

    async def practice(self, practice_id: uuid.UUID, viewer: Viewer | None = None) -> Practice | None:
        query = select(practices).where(practices.c.id == practice_id, *_practice_visible(viewer))
        row = (await self._connection.execute(query)).first()
        return _to_practice(row._mapping) if row else None

    async def practices_by_ods_code(self, codes: Collection[str]) -> dict[str, Practice]:
        query = select(practices).where(practices.c.ods_code.in_(codes))
        return {row.ods_code: _to_practice(row._mapping) for row in await self._connection.execute(query)}

    async def existing_practices(self, practice_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        query = select(practices.c.id).where(practices.c.id.in_(set(practice_ids)))
        return set((await self._connection.execute(query)).scalars())

    async def list_practices(self, viewer: Viewer, *, limit: int, offset: int) -> Sequence[Practice]:
        query = (
            select(practices)
            .where(*_practice_visible(viewer))
            .order_by(practices.c.ods_code)
            .limit(limit)
            .offset(offset)
        )
        return [_to_practice(row._mapping) for row in await self._connection.execute(query)]

    # Supervisors

    async def add_supervisor(self, supervisor: Supervisor) -> None:
        await self._execute(
            insert(supervisors).values(
                **_supervisor_values(supervisor),
                id=supervisor.id,
                user_id=supervisor.user_id,
                created_at=supervisor.created_at,
            ),
            SetupConflict("user_id", "a supervisor with that user id is already registered"),
        )
        await self._link_practices(supervisor)

    async def update_supervisor(self, supervisor: Supervisor) -> None:
        await self._connection.execute(
            update(supervisors).where(supervisors.c.id == supervisor.id).values(_supervisor_values(supervisor))
        )
        await self._connection.execute(
            delete(supervisor_practices).where(supervisor_practices.c.supervisor_id == supervisor.id)
        )
        await self._link_practices(supervisor)

    async def _link_practices(self, supervisor: Supervisor) -> None:
        if supervisor.practice_ids:
            rows = [{"supervisor_id": supervisor.id, "practice_id": p} for p in supervisor.practice_ids]
            await self._connection.execute(insert(supervisor_practices), rows)

    async def supervisor(self, supervisor_id: uuid.UUID, viewer: Viewer | None = None) -> Supervisor | None:
        found = await self._supervisors(supervisors.c.id == supervisor_id, *_supervisor_visible(viewer))
        return found[0] if found else None

    async def supervisors_by_user_id(self, user_ids: Collection[str]) -> dict[str, Supervisor]:
        return {s.user_id: s for s in await self._supervisors(supervisors.c.user_id.in_(user_ids))}

    async def existing_supervisors(self, supervisor_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        query = select(supervisors.c.id).where(supervisors.c.id.in_(set(supervisor_ids)))
        return set((await self._connection.execute(query)).scalars())

    async def list_supervisors(self, viewer: Viewer, *, limit: int, offset: int) -> Sequence[Supervisor]:
        return await self._supervisors(*_supervisor_visible(viewer), limit=limit, offset=offset)

    async def _supervisors(
        self, *where: ColumnElement[bool], limit: int | None = None, offset: int = 0
    ) -> list[Supervisor]:
        query = select(supervisors).where(*where).order_by(supervisors.c.user_id).limit(limit).offset(offset)
        rows = list(await self._connection.execute(query))
        links: dict[uuid.UUID, set[uuid.UUID]] = {row.id: set() for row in rows}
        if links:
            query_links = select(supervisor_practices).where(supervisor_practices.c.supervisor_id.in_(links))
            for link in await self._connection.execute(query_links):
                links[link.supervisor_id].add(link.practice_id)
        return [
            Supervisor(
                id=row.id,
                user_id=row.user_id,
                name=row.name,
                email=row.email,
                practice_ids=frozenset(links[row.id]),
                created_at=row.created_at,
            )
            for row in rows
        ]

    # Students

    async def add_student(self, student: Student) -> None:
        await self._execute(
            insert(students).values(
                id=student.id,
                university_id=student.university_id,
                name=student.name,
                email=student.email,
                created_at=student.created_at,
            ),
            SetupConflict("university_id", "a student with that university id is already registered"),
        )

    async def update_student(self, student: Student) -> None:
        await self._connection.execute(
            update(students).where(students.c.id == student.id).values(name=student.name, email=student.email)
        )

    async def student(self, student_id: uuid.UUID, viewer: Viewer | None = None) -> Student | None:
        query = select(students).where(students.c.id == student_id, *_student_visible(viewer))
        row = (await self._connection.execute(query)).first()
        return _to_student(row._mapping) if row else None

    async def students_by_university_id(self, university_ids: Collection[str]) -> dict[str, Student]:
        query = select(students).where(students.c.university_id.in_(university_ids))
        return {row.university_id: _to_student(row._mapping) for row in await self._connection.execute(query)}

    async def existing_students(self, student_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        query = select(students.c.id).where(students.c.id.in_(set(student_ids)))
        return set((await self._connection.execute(query)).scalars())

    async def list_students(self, viewer: Viewer, *, limit: int, offset: int) -> Sequence[Student]:
        query = (
            select(students)
            .where(*_student_visible(viewer))
            .order_by(students.c.university_id)
            .limit(limit)
            .offset(offset)
        )
        return [_to_student(row._mapping) for row in await self._connection.execute(query)]

    # Groups

    async def add_group(self, group: Group) -> None:
        await self._execute(
            insert(groups).values(
                id=group.id,
                cohort_id=group.cohort_id,
                practice_id=group.practice_id,
                name=group.name,
                created_at=group.created_at,
            ),
            SetupConflict("name", "the cohort already has a group of that name"),
        )

    async def save_members(self, changed: Sequence[Group]) -> None:
        """Write the groups' practice and whole membership. All groups' old members go first, so students may
        move between the groups given."""
        ids = [group.id for group in changed]
        if not ids:
            return
        await self._connection.execute(delete(group_students).where(group_students.c.group_id.in_(ids)))
        await self._connection.execute(delete(group_supervisors).where(group_supervisors.c.group_id.in_(ids)))
        for group in changed:
            await self._connection.execute(
                update(groups).where(groups.c.id == group.id).values(practice_id=group.practice_id)
            )
        student_rows = [
            {"group_id": g.id, "student_id": s, "cohort_id": g.cohort_id} for g in changed for s in g.student_ids
        ]
        supervisor_rows = [{"group_id": g.id, "supervisor_id": s} for g in changed for s in g.supervisor_ids]
        conflict = SetupConflict("student_id", "a student is already in another group of this cohort")
        if student_rows:
            await self._execute(insert(group_students).values(student_rows), conflict)
        if supervisor_rows:
            await self._connection.execute(insert(group_supervisors), supervisor_rows)

    async def group(self, group_id: uuid.UUID, viewer: Viewer | None = None) -> Group | None:
        found = await self._groups(groups.c.id == group_id, *_group_visible(viewer))
        return found[0] if found else None

    async def groups_by_name(self, keys: Collection[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], Group]:
        """Groups by (cohort id, name)."""
        if not keys:
            return {}
        cohort_ids = {cohort_id for cohort_id, _ in keys}
        names = {name for _, name in keys}
        found = await self._groups(groups.c.cohort_id.in_(cohort_ids), groups.c.name.in_(names))
        return {(g.cohort_id, g.name): g for g in found if (g.cohort_id, g.name) in keys}

    async def groups_of_students(
        self, cohort_id: uuid.UUID, student_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, Group]:
        """The group each of these students is in, in this cohort (students in none are left out)."""
        query = select(group_students.c.student_id, group_students.c.group_id).where(
            group_students.c.cohort_id == cohort_id, group_students.c.student_id.in_(set(student_ids))
        )
        placements = {row.student_id: row.group_id for row in await self._connection.execute(query)}
        found = {g.id: g for g in await self._groups(groups.c.id.in_(set(placements.values())))}
        return {student_id: found[group_id] for student_id, group_id in placements.items()}

    async def list_groups(
        self, viewer: Viewer, *, cohort_id: uuid.UUID | None, limit: int, offset: int
    ) -> Sequence[Group]:
        where = [*_group_visible(viewer)]
        if cohort_id is not None:
            where.append(groups.c.cohort_id == cohort_id)
        return await self._groups(*where, limit=limit, offset=offset)

    async def _groups(self, *where: ColumnElement[bool], limit: int | None = None, offset: int = 0) -> list[Group]:
        query = select(groups).where(*where).order_by(groups.c.cohort_id, groups.c.name).limit(limit).offset(offset)
        rows = list(await self._connection.execute(query))
        ids = [row.id for row in rows]
        members: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
        supervising: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
        if ids:
            # In a stable order (by id): the tables keep no order of their own.
            query_students = (
                select(group_students.c.group_id, group_students.c.student_id)
                .where(group_students.c.group_id.in_(ids))
                .order_by(group_students.c.student_id)
            )
            for row in await self._connection.execute(query_students):
                members[row.group_id].append(row.student_id)
            query_supervisors = (
                select(group_supervisors.c.group_id, group_supervisors.c.supervisor_id)
                .where(group_supervisors.c.group_id.in_(ids))
                .order_by(group_supervisors.c.supervisor_id)
            )
            for row in await self._connection.execute(query_supervisors):
                supervising[row.group_id].append(row.supervisor_id)
        return [
            Group(
                id=row.id,
                cohort_id=row.cohort_id,
                practice_id=row.practice_id,
                name=row.name,
                student_ids=tuple(members[row.id]),
                supervisor_ids=tuple(supervising[row.id]),
                created_at=row.created_at,
            )
            for row in rows
        ]


# Visibility: the conditions that limit a read to what the viewer may see (none for coordinators and writers).


def _supervised_groups(viewer: Viewer) -> Select[tuple[uuid.UUID]]:
    return (
        select(group_supervisors.c.group_id)
        .join(supervisors, supervisors.c.id == group_supervisors.c.supervisor_id)
        .where(supervisors.c.user_id == viewer.subject)
    )


def _own_groups(viewer: Viewer) -> Select[tuple[uuid.UUID]]:
    return (
        select(group_students.c.group_id)
        .join(students, students.c.id == group_students.c.student_id)
        .where(students.c.university_id == viewer.subject)
    )


def _visible_group_ids(viewer: Viewer) -> list[ColumnElement[bool]]:
    """`groups.c.id IN (...)` alternatives: the groups the viewer supervises or is a student of."""
    conditions: list[ColumnElement[bool]] = []
    if viewer.as_supervisor:
        conditions.append(groups.c.id.in_(_supervised_groups(viewer)))
    if viewer.as_student:
        conditions.append(groups.c.id.in_(_own_groups(viewer)))
    return conditions


def _any(conditions: list[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    return [or_(*conditions) if conditions else false()]


def _group_visible(viewer: Viewer | None) -> list[ColumnElement[bool]]:
    if viewer is None or viewer.sees_everything:
        return []
    return _any(_visible_group_ids(viewer))


def _cohort_visible(viewer: Viewer | None) -> list[ColumnElement[bool]]:
    if viewer is None or viewer.sees_everything:
        return []
    visible_groups = select(groups.c.cohort_id).where(*_any(_visible_group_ids(viewer)))
    return [cohorts.c.id.in_(visible_groups)]


def _practice_visible(viewer: Viewer | None) -> list[ColumnElement[bool]]:
    if viewer is None or viewer.sees_everything:
        return []
    conditions = [practices.c.id.in_(select(groups.c.practice_id).where(*_any(_visible_group_ids(viewer))))]
    if viewer.as_supervisor:  # and the practices a supervisor is linked to
        linked = (
            select(supervisor_practices.c.practice_id)
            .join(supervisors, supervisors.c.id == supervisor_practices.c.supervisor_id)
            .where(supervisors.c.user_id == viewer.subject)
        )
        conditions.append(practices.c.id.in_(linked))
    return [or_(*conditions)]


def _student_visible(viewer: Viewer | None) -> list[ColumnElement[bool]]:
    if viewer is None or viewer.sees_everything:
        return []
    conditions: list[ColumnElement[bool]] = []
    if viewer.as_supervisor:  # the students of the groups they supervise
        supervised = select(group_students.c.student_id).where(
            group_students.c.group_id.in_(_supervised_groups(viewer))
        )
        conditions.append(students.c.id.in_(supervised))
    if viewer.as_student:  # their own record only
        conditions.append(students.c.university_id == viewer.subject)
    return _any(conditions)


def _supervisor_visible(viewer: Viewer | None) -> list[ColumnElement[bool]]:
    if viewer is None or viewer.sees_everything:
        return []
    conditions: list[ColumnElement[bool]] = []
    if viewer.as_supervisor:  # themselves
        conditions.append(supervisors.c.user_id == viewer.subject)
    group_ids = _visible_group_ids(viewer)
    if group_ids:  # and the supervisors of the groups they see
        of_groups = select(group_supervisors.c.supervisor_id).join(groups, groups.c.id == group_supervisors.c.group_id)
        conditions.append(supervisors.c.id.in_(of_groups.where(or_(*group_ids))))
    return _any(conditions)


def _cohort_values(cohort: Cohort) -> dict[str, Any]:
    return {
        "academic_year": cohort.academic_year,
        "placement_start": cohort.placement_start,
        "placement_end": cohort.placement_end,
        "min_group_size": cohort.min_group_size,
        "max_group_size": cohort.max_group_size,
    }


def _practice_values(practice: Practice) -> dict[str, Any]:
    return {"name": practice.name, "ods_code": practice.ods_code, "area": practice.area}


def _supervisor_values(supervisor: Supervisor) -> dict[str, Any]:
    return {"name": supervisor.name, "email": supervisor.email}


def _to_cohort(row: Any) -> Cohort:
    return Cohort(
        id=row["id"],
        academic_year=row["academic_year"],
        placement_start=row["placement_start"],
        placement_end=row["placement_end"],
        min_group_size=row["min_group_size"],
        max_group_size=row["max_group_size"],
        created_at=row["created_at"],
    )


def _to_practice(row: Any) -> Practice:
    return Practice(
        id=row["id"], name=row["name"], ods_code=row["ods_code"], area=row["area"], created_at=row["created_at"]
    )


def _to_student(row: Any) -> Student:
    return Student(
        id=row["id"],
        university_id=row["university_id"],
        name=row["name"],
        email=row["email"],
        created_at=row["created_at"],
    )
