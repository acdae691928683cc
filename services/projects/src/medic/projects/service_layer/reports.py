"""Use cases of finding and reporting: a cohort's report and the export of projects. They only read.

Coordinators report on a whole cohort. A supervisor reports on the projects of the groups they supervise in it;
a cohort where they supervise no group is, to them, no cohort at all (the same answer as an unknown id).
"""

import uuid
from collections.abc import Sequence

from medic.projects.adapters.projects_repository import ProjectFilter
from medic.projects.adapters.reports_repository import ReportsRepository
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.reports import CohortReport, ProjectRecord, Scope, cohort_report
from medic.shared.auth import Role


class CohortNotFound(Exception):
    """No such cohort, or none the caller reports on."""


async def report_on_cohort(
    uow: ProjectsUnitOfWork, cohort_id: uuid.UUID, *, user_id: str, roles: frozenset[Role]
) -> CohortReport:
    supervised_by = None if Role.COORDINATOR in roles else user_id
    async with uow:
        reports = ReportsRepository(uow.connection)
        academic_year = await reports.academic_year(cohort_id, supervised_by=supervised_by)
        if academic_year is None:
            raise CohortNotFound(cohort_id)
        records = await reports.cohort_projects(cohort_id, supervised_by=supervised_by)
        moderated = await _moderated_percentages(uow, cohort_id, records)
    scope = Scope.COHORT if supervised_by is None else Scope.SUPERVISED_GROUPS
    return cohort_report(cohort_id, academic_year, scope, records, moderated)


async def _moderated_percentages(
    uow: ProjectsUnitOfWork, cohort_id: uuid.UUID, records: Sequence[ProjectRecord]
) -> dict[uuid.UUID, float]:
    """The moderated mark of each project that has one, as the cohort's rubric weighs it."""
    rubric = await uow.assessment.rubric(cohort_id)
    if rubric is None:
        return {}
    found = {}
    for record in records:
        moderation = await uow.assessment.moderation(record.id)
        if moderation is not None:
            found[record.id] = rubric.percentage(moderation.marks)
    return found


async def export_projects(uow: ProjectsUnitOfWork, where: ProjectFilter) -> Sequence[ProjectRecord]:
    """Every project matching the filters (for coordinators, who see them all)."""
    async with uow:
        return await ReportsRepository(uow.connection).matching_projects(where)
