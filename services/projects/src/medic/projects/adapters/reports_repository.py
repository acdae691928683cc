"""Reading projects for reports and exports: one query for the projects with their cohort, group and practice,
one for their partners.

What lives in a project's JSON content (reach, IHI score, audit codes) is read in Python: SQLite and PostgreSQL
disagree on JSON functions, and a cohort has a few hundred projects at most.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, Select, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.orm_partners import partners
from medic.projects.adapters.orm_projects import project_partners, projects
from medic.projects.adapters.orm_setup import cohorts, group_supervisors, groups, practices, supervisors

# The list's own filters and visibility, so an export holds exactly what GET /projects lists.
from medic.projects.adapters.projects_repository import ProjectFilter, Visibility, filtered_projects, visible_projects
from medic.projects.domain.lifecycle import State
from medic.projects.domain.project import Audience, AuditCodes
from medic.projects.domain.reports import PartnerRef, ProjectRecord


class ReportsRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def academic_year(self, cohort_id: uuid.UUID, *, supervised_by: str | None = None) -> str | None:
        """The cohort's academic year; None when there is no such cohort, or, for a supervisor (`supervised_by`,
        their user id), when they supervise no group of it."""
        query = select(cohorts.c.academic_year).where(cohorts.c.id == cohort_id)
        if supervised_by is not None:
            query = query.where(
                exists(
                    select(groups.c.id)
                    .join(group_supervisors, group_supervisors.c.group_id == groups.c.id)
                    .join(supervisors, supervisors.c.id == group_supervisors.c.supervisor_id)
                    .where(groups.c.cohort_id == cohort_id, supervisors.c.user_id == supervised_by)
                )
            )
        return (await self._connection.execute(query)).scalar_one_or_none()

    async def cohort_projects(self, cohort_id: uuid.UUID, *, supervised_by: str | None = None) -> list[ProjectRecord]:
        """The cohort's projects; for a supervisor, those of the groups they supervise."""
        visibility = Visibility(everything=supervised_by is None, supervisor_user_id=supervised_by)
        in_cohort = visible_projects(select(projects.c.id), visibility).where(projects.c.cohort_id == cohort_id)
        return await self._records(in_cohort)

    async def matching_projects(self, where: ProjectFilter) -> list[ProjectRecord]:
        """Every project GET /projects would list to a coordinator with these filters."""
        return await self._records(filtered_projects(select(projects.c.id), where))

    async def _records(self, selected: Select[Any]) -> list[ProjectRecord]:
        """The projects `selected` (a select of project ids) gives, by academic year and group name."""
        ids = selected.correlate(None)  # a query of its own, though the outer one reads projects too
        c = projects.c
        query = (
            select(
                c.id,
                c.title,
                c.topic,
                c.state,
                c.content,
                c.created_at,
                c.updated_at,
                cohorts.c.academic_year,
                groups.c.name.label("group_name"),
                practices.c.name.label("practice_name"),
                practices.c.ods_code,
            )
            .join(cohorts, cohorts.c.id == c.cohort_id)
            .join(groups, groups.c.id == c.group_id)
            .join(practices, practices.c.id == c.practice_id)
            .where(c.id.in_(ids))
            .order_by(cohorts.c.academic_year, groups.c.name, c.id)
        )
        rows = (await self._connection.execute(query)).all()
        named = await self._partners(ids)
        return [_record(row._mapping, named.get(row.id, ())) for row in rows]

    async def _partners(self, ids: Select[Any]) -> dict[uuid.UUID, tuple[PartnerRef, ...]]:
        query = (
            select(project_partners.c.project_id, partners.c.id, partners.c.name)
            .join(partners, partners.c.id == project_partners.c.partner_id)
            .where(project_partners.c.project_id.in_(ids))
            .order_by(project_partners.c.project_id, project_partners.c.position)
        )
        found: dict[uuid.UUID, list[PartnerRef]] = {}
        for row in await self._connection.execute(query):
            found.setdefault(row.project_id, []).append(PartnerRef(row.id, row.name))
        return {project_id: tuple(refs) for project_id, refs in found.items()}


def _record(row: RowMapping, partner_refs: Sequence[PartnerRef]) -> ProjectRecord:
    content = row["content"]
    reach: dict[Audience, int] = dict.fromkeys(Audience, 0)
    sessions = content["delivery_sessions"]
    for session in sessions:
        for audience, count in session["reach"].items():
            reach[Audience(audience)] += count
    return ProjectRecord(
        id=row["id"],
        academic_year=row["academic_year"],
        group_name=row["group_name"],
        practice_name=row["practice_name"],
        ods_code=row["ods_code"],
        title=row["title"],
        topic=row["topic"],
        state=State(row["state"]),
        partners=tuple(partner_refs),
        reach=reach,
        delivery_sessions=len(sessions),
        ihi_score=content["ihi_score"],
        audit_codes=AuditCodes(**content["audit_codes"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
