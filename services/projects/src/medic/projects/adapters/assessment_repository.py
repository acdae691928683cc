"""Reading and writing rubrics, marks, moderation, nominations and reflections."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.orm_assessment import (
    assessor_marks,
    moderated_marks,
    prize_nominations,
    reflections,
    rubrics,
)
from medic.projects.adapters.orm_projects import projects
from medic.projects.adapters.orm_setup import cohorts, group_supervisors, groups, students, supervisors
from medic.projects.domain.assessment import Criterion, Marking, Moderation, Nomination, Reflection, Rubric


class AssessmentChangedMeanwhile(Exception):
    """Another request wrote the same record at the same moment: a 409, try again."""


@dataclass(frozen=True)
class Shortlisted:
    project_id: uuid.UUID
    title: str
    nominations: int
    reasons: list[str]


@dataclass(frozen=True)
class StudentReflection:
    reflection: Reflection
    university_id: str


class AssessmentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def _insert(self, statement: Any) -> None:
        try:
            await self._connection.execute(statement)
        except IntegrityError as error:
            raise AssessmentChangedMeanwhile("written by someone else at the same moment; try again") from error

    # Cohorts and who belongs to them.

    async def cohort_exists(self, cohort_id: uuid.UUID) -> bool:
        query = select(cohorts.c.id).where(cohorts.c.id == cohort_id)
        return (await self._connection.execute(query)).first() is not None

    async def supervises_in(self, user_id: str, cohort_id: uuid.UUID) -> bool:
        """Whether the user supervises some group of the cohort."""
        query = (
            select(groups.c.id)
            .join(group_supervisors, group_supervisors.c.group_id == groups.c.id)
            .join(supervisors, supervisors.c.id == group_supervisors.c.supervisor_id)
            .where(groups.c.cohort_id == cohort_id, supervisors.c.user_id == user_id)
        )
        return (await self._connection.execute(query.limit(1))).first() is not None

    async def student_id(self, university_id: str) -> uuid.UUID | None:
        query = select(students.c.id).where(students.c.university_id == university_id)
        found: uuid.UUID | None = (await self._connection.execute(query)).scalar_one_or_none()
        return found

    # Rubrics.

    async def rubric(self, cohort_id: uuid.UUID) -> Rubric | None:
        row = (await self._connection.execute(select(rubrics).where(rubrics.c.cohort_id == cohort_id))).first()
        if row is None:
            return None
        criteria = tuple(Criterion(**c) for c in row.criteria)
        return Rubric(cohort_id=row.cohort_id, criteria=criteria, updated_at=row.updated_at)

    async def save_rubric(self, rubric: Rubric) -> None:
        values = {"criteria": [vars(c) for c in rubric.criteria], "updated_at": rubric.updated_at}
        result = await self._connection.execute(
            update(rubrics).where(rubrics.c.cohort_id == rubric.cohort_id).values(values)
        )
        if result.rowcount == 0:
            await self._insert(insert(rubrics).values(cohort_id=rubric.cohort_id, **values))

    async def cohort_has_marks(self, cohort_id: uuid.UUID) -> bool:
        query = select(assessor_marks.c.project_id).where(assessor_marks.c.cohort_id == cohort_id).limit(1)
        return (await self._connection.execute(query)).first() is not None

    # Marks and moderation.

    async def markings(self, project_id: uuid.UUID) -> list[Marking]:
        query = (
            select(assessor_marks)
            .where(assessor_marks.c.project_id == project_id)
            .order_by(assessor_marks.c.recorded_at, assessor_marks.c.assessor)
        )
        return [
            Marking(row.project_id, row.assessor, dict(row.marks), row.comment, row.recorded_at)
            for row in await self._connection.execute(query)
        ]

    async def save_marking(self, marking: Marking, cohort_id: uuid.UUID) -> None:
        key = (assessor_marks.c.project_id == marking.project_id) & (assessor_marks.c.assessor == marking.assessor)
        values = {"marks": dict(marking.marks), "comment": marking.comment, "recorded_at": marking.recorded_at}
        result = await self._connection.execute(update(assessor_marks).where(key).values(values))
        if result.rowcount == 0:
            await self._insert(
                insert(assessor_marks).values(
                    project_id=marking.project_id, assessor=marking.assessor, cohort_id=cohort_id, **values
                )
            )

    async def moderation(self, project_id: uuid.UUID) -> Moderation | None:
        query = select(moderated_marks).where(moderated_marks.c.project_id == project_id)
        row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        return Moderation(
            project_id=row.project_id,
            cohort_id=row.cohort_id,
            marks=dict(row.marks),
            note=row.note,
            moderated_by=row.moderated_by,
            moderated_at=row.moderated_at,
            released_at=row.released_at,
        )

    async def save_moderation(self, moderation: Moderation) -> None:
        await self._connection.execute(
            delete(moderated_marks).where(moderated_marks.c.project_id == moderation.project_id)
        )
        await self._insert(insert(moderated_marks).values({**vars(moderation), "marks": dict(moderation.marks)}))

    async def release(self, cohort_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
        """Release every moderated, unreleased mark of the cohort; the projects released."""
        waiting = (moderated_marks.c.cohort_id == cohort_id) & moderated_marks.c.released_at.is_(None)
        query = select(moderated_marks.c.project_id).where(waiting).order_by(moderated_marks.c.project_id)
        released = list((await self._connection.execute(query)).scalars())
        if released:
            await self._connection.execute(
                update(moderated_marks)
                .where(waiting, moderated_marks.c.project_id.in_(released))
                .values(released_at=now)
            )
        return released

    async def awaiting_moderation(self, cohort_id: uuid.UUID) -> list[uuid.UUID]:
        """Projects of the cohort with marks but no moderated marks yet."""
        moderated = select(moderated_marks.c.project_id).where(moderated_marks.c.cohort_id == cohort_id)
        query = (
            select(assessor_marks.c.project_id)
            .where(assessor_marks.c.cohort_id == cohort_id, assessor_marks.c.project_id.not_in(moderated))
            .distinct()
            .order_by(assessor_marks.c.project_id)
        )
        return list((await self._connection.execute(query)).scalars())

    # Prize nominations.

    async def nominated(self, project_id: uuid.UUID, nominator: str) -> bool:
        query = select(prize_nominations.c.project_id).where(
            prize_nominations.c.project_id == project_id, prize_nominations.c.nominator == nominator
        )
        return (await self._connection.execute(query)).first() is not None

    async def add_nomination(self, nomination: Nomination) -> int:
        """Store it; how many nominations the project has now."""
        await self._insert(insert(prize_nominations).values(**vars(nomination)))
        query = select(func.count()).where(prize_nominations.c.project_id == nomination.project_id)
        return int((await self._connection.execute(query)).scalar_one())

    async def shortlist(self, cohort_id: uuid.UUID) -> list[Shortlisted]:
        """The cohort's nominated projects, the most nominated first."""
        query = (
            select(prize_nominations.c.project_id, projects.c.title, prize_nominations.c.reason)
            .join(projects, projects.c.id == prize_nominations.c.project_id)
            .where(prize_nominations.c.cohort_id == cohort_id)
            .order_by(prize_nominations.c.nominated_at)
        )
        found: dict[uuid.UUID, Shortlisted] = {}
        for row in await self._connection.execute(query):
            entry = found.setdefault(row.project_id, Shortlisted(row.project_id, row.title, 0, []))
            entry.reasons.append(row.reason)
        listed = [Shortlisted(e.project_id, e.title, len(e.reasons), e.reasons) for e in found.values()]
        return sorted(listed, key=lambda e: (-e.nominations, e.title.casefold(), str(e.project_id)))

    # Reflections.

    async def save_reflection(self, reflection: Reflection) -> None:
        key = (reflections.c.project_id == reflection.project_id) & (reflections.c.student_id == reflection.student_id)
        values = {"text": reflection.text, "updated_at": reflection.updated_at}
        result = await self._connection.execute(update(reflections).where(key).values(values))
        if result.rowcount == 0:
            await self._insert(insert(reflections).values(**vars(reflection)))

    async def reflections(self, project_id: uuid.UUID, student_id: uuid.UUID | None = None) -> list[StudentReflection]:
        """The project's reflections (one student's, if given), by university id."""
        query = (
            select(reflections, students.c.university_id)
            .join(students, students.c.id == reflections.c.student_id)
            .where(reflections.c.project_id == project_id)
            .order_by(students.c.university_id)
        )
        if student_id is not None:
            query = query.where(reflections.c.student_id == student_id)
        return [
            StudentReflection(Reflection(row.project_id, row.student_id, row.text, row.updated_at), row.university_id)
            for row in await self._connection.execute(query)
        ]
