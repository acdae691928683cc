"""Reading and writing cohort milestones, and what reminders need to know of the projects of a cohort."""

import uuid
from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.orm_milestones import cohort_milestones
from medic.projects.adapters.orm_projects import projects
from medic.projects.adapters.orm_setup import (
    cohorts,
    group_students,
    group_supervisors,
    groups,
    students,
    supervisors,
)
from medic.projects.adapters.projects_repository import Visibility
from medic.projects.domain.lifecycle import State
from medic.projects.domain.milestones import NO_REMINDERS, Milestone, ProjectProgress
from medic.shared.contracts.projects.milestones import MilestoneKind

_ORDER = {kind: position for position, kind in enumerate(MilestoneKind)}


class MilestoneRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def placement(self, cohort_id: uuid.UUID, visibility: Visibility) -> tuple[date, date] | None:
        """The first and last day of a cohort's placement, or None when there is no such cohort the caller sees.

        Staff of a group of the cohort and its students see it; coordinators see every cohort.
        """
        query = select(cohorts.c.placement_start, cohorts.c.placement_end).where(cohorts.c.id == cohort_id)
        if not visibility.everything:
            ways = []
            if visibility.supervisor_user_id is not None:
                ways.append(
                    select(groups.c.id)
                    .join(group_supervisors, group_supervisors.c.group_id == groups.c.id)
                    .join(supervisors, supervisors.c.id == group_supervisors.c.supervisor_id)
                    .where(groups.c.cohort_id == cohort_id, supervisors.c.user_id == visibility.supervisor_user_id)
                    .exists()
                )
            if visibility.student_university_id is not None:
                ways.append(
                    select(group_students.c.group_id)
                    .join(students, students.c.id == group_students.c.student_id)
                    .where(
                        group_students.c.cohort_id == cohort_id,
                        students.c.university_id == visibility.student_university_id,
                    )
                    .exists()
                )
            if not ways:
                return None
            query = query.where(ways[0] if len(ways) == 1 else ways[0] | ways[1])
        row = (await self._connection.execute(query)).first()
        return (row.placement_start, row.placement_end) if row else None

    async def of_cohort(self, cohort_id: uuid.UUID) -> list[Milestone]:
        """A cohort's milestones in the order of the year: proposal, governance, evaluation, showcase."""
        query = select(cohort_milestones).where(cohort_milestones.c.cohort_id == cohort_id)
        found = [_milestone(row) for row in await self._connection.execute(query)]
        return sorted(found, key=lambda m: _ORDER[m.kind])

    async def save(self, milestone: Milestone) -> Milestone | None:
        """Set the milestone; returns what it was before, or None when it is new."""
        key = and_(cohort_milestones.c.cohort_id == milestone.cohort_id, cohort_milestones.c.kind == milestone.kind)
        before = (await self._connection.execute(select(cohort_milestones).where(key))).first()
        if before is None:
            await self._connection.execute(insert(cohort_milestones).values(_row(milestone)))
            return None
        await self._connection.execute(update(cohort_milestones).where(key).values(_row(milestone)))
        return _milestone(before)

    async def due_by(self, day: date) -> list[Milestone]:
        """Every milestone due on or before `day`."""
        query = select(cohort_milestones).where(cohort_milestones.c.due_on <= day)
        return [_milestone(row) for row in await self._connection.execute(query)]

    async def progress_in(self, cohort_ids: Collection[uuid.UUID]) -> Sequence[ProjectProgress]:
        """The projects of these cohorts that may still be owed reminders (not paused or ended)."""
        if not cohort_ids:
            return []
        query = select(projects.c.id, projects.c.cohort_id, projects.c.group_id, projects.c.state, projects.c.content)
        query = query.where(
            projects.c.cohort_id.in_(cohort_ids), projects.c.state.not_in([s.value for s in NO_REMINDERS])
        )
        return [
            ProjectProgress(
                project_id=row.id,
                cohort_id=row.cohort_id,
                group_id=row.group_id,
                state=State(row.state),
                # The project's QI content is one JSON document (see projects_repository); this is its clearing.
                governance_cleared=bool(row.content["governance"]["cleared_at"]),
            )
            for row in await self._connection.execute(query.order_by(projects.c.id))
        ]


def _row(milestone: Milestone) -> dict[str, object]:
    return {
        "cohort_id": milestone.cohort_id,
        "kind": milestone.kind.value,
        "due_on": milestone.due_on,
        "set_at": milestone.set_at,
    }


def _milestone(row: object) -> Milestone:
    mapping = row._mapping  # type: ignore[attr-defined]
    return Milestone(
        cohort_id=mapping["cohort_id"],
        kind=MilestoneKind(mapping["kind"]),
        due_on=mapping["due_on"],
        set_at=mapping["set_at"],
    )
