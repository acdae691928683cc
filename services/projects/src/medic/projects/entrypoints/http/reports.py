"""HTTP API: a cohort's report (JSON and CSV) and the export of projects as CSV.

Coordinators report on any cohort and export; supervisors report on the projects of the groups they supervise
(a cohort where they supervise none is 404); students, partners and ops get 403. Reports count, they name no
person; exports carry no student or supervisor, no contact and no mark. CSV cells are neutralised so a
spreadsheet never runs them (`medic.shared.csv_safe`).
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from medic.projects.adapters.projects_repository import ProjectFilter
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.lifecycle import State
from medic.projects.domain.project import Audience
from medic.projects.domain.reports import (
    EXPORT_HEADER,
    REPORT_CSV_HEADER,
    CohortReport,
    Scope,
    Tally,
    export_row,
    report_rows,
    score_label,
)
from medic.projects.service_layer import reports
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.csv_safe import MEDIA_TYPE, csv_bytes
from medic.shared.openapi import ErrorOut, FieldErrorsOut

from .dependencies import project_filter, unit_of_work

router = APIRouter(tags=["reports"])

UoW = Annotated[ProjectsUnitOfWork, Depends(unit_of_work)]
Reporter = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR))]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such cohort, or, for a supervisor, none where they supervise a group"}
}


def _csv_answer(description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"text/csv": {"schema": {"type": "string"}}}}}


# Responses


class TallyOut(BaseModel):
    label: str = Field(description="The most used spelling; spellings differing in case or spaces count as one.")
    projects: int


class PartnerTallyOut(BaseModel):
    partner_id: uuid.UUID
    name: str
    projects: int = Field(description="Projects the partner takes part in")
    as_lead: int = Field(description="Projects the partner leads")


class ReachOut(BaseModel):
    total: int = Field(description="People reached, summed over every delivery session")
    by_audience: dict[Audience, int]
    delivery_sessions: int


class AuditOut(BaseModel):
    needs_analysis: int = Field(description="Projects coded as having done a needs analysis")
    patient_involvement: int
    sustainable_impact: int
    by_topic: list[TallyOut] = Field(description="By the audit's topic code; uncoded projects left out")
    by_format: list[TallyOut]


class IhiScoresOut(BaseModel):
    by_score: dict[str, int] = Field(description="Projects at each IHI score, `0.5` to `5.0`")
    unscored: int


class MarksOut(BaseModel):
    by_band: dict[str, int] = Field(
        description="Projects whose moderated mark (a weighted percentage) falls in each band: `0-39`, `40-49`, "
        "`50-59`, `60-69`, `70-100`"
    )
    not_moderated: int


class CohortReportOut(BaseModel):
    """What a cohort's projects add up to. No person is named; marks only as a distribution."""

    cohort_id: uuid.UUID
    academic_year: str
    scope: Scope = Field(description="`cohort`, or `supervised_groups` when a supervisor asks")
    projects: int
    by_state: dict[State, int]
    by_topic: list[TallyOut]
    by_partner: list[PartnerTallyOut]
    reach: ReachOut
    audit_codes: AuditOut
    ihi_scores: IhiScoresOut
    marks: MarksOut

    @classmethod
    def of(cls, report: CohortReport) -> "CohortReportOut":
        return cls(
            cohort_id=report.cohort_id,
            academic_year=report.academic_year,
            scope=report.scope,
            projects=report.projects,
            by_state=dict(report.by_state),
            by_topic=_tallies(report.by_topic),
            by_partner=[
                PartnerTallyOut(partner_id=t.partner.id, name=t.partner.name, projects=t.projects, as_lead=t.as_lead)
                for t in report.by_partner
            ],
            reach=ReachOut(
                total=report.reach_total,
                by_audience=dict(report.reach_by_audience),
                delivery_sessions=report.delivery_sessions,
            ),
            audit_codes=AuditOut(
                **report.audit_flags,
                by_topic=_tallies(report.audit_topics),
                by_format=_tallies(report.audit_formats),
            ),
            ihi_scores=IhiScoresOut(
                by_score={score_label(score): count for score, count in report.ihi_scores.items()},
                unscored=report.ihi_unscored,
            ),
            marks=MarksOut(by_band=dict(report.marks_by_band), not_moderated=report.marks_not_moderated),
        )


def _tallies(tallies: tuple[Tally, ...]) -> list[TallyOut]:
    return [TallyOut(label=t.label, projects=t.projects) for t in tallies]


# Routes


async def _report(uow: ProjectsUnitOfWork, cohort_id: uuid.UUID, principal: Principal) -> CohortReport:
    try:
        return await reports.report_on_cohort(uow, cohort_id, user_id=principal.subject, roles=principal.roles)
    except reports.CohortNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such cohort") from None


@router.get(
    "/cohorts/{cohort_id}/report",
    summary="A cohort's projects in figures: by state, topic and partner, reach, audit codes, IHI scores",
    description="Coordinators get the whole cohort; supervisors the projects of the groups they supervise. "
    "Counts only: no person is named; marks only as a distribution over bands.",
    responses=NOT_FOUND,
)
async def cohort_report(cohort_id: uuid.UUID, uow: UoW, principal: Reporter) -> CohortReportOut:
    return CohortReportOut.of(await _report(uow, cohort_id, principal))


@router.get(
    "/cohorts/{cohort_id}/report.csv",
    summary="A cohort's report as CSV rows: section, key, count",
    description="The figures of `GET /cohorts/{cohort_id}/report`, one per row. A partner's key is "
    "`name (id)`; cells that a spreadsheet could run as a formula start with `'`.",
    response_class=Response,
    responses={**_csv_answer("The report as CSV (UTF-8 with a byte-order mark)"), **NOT_FOUND},
)
async def cohort_report_csv(cohort_id: uuid.UUID, uow: UoW, principal: Reporter) -> Response:
    report = await _report(uow, cohort_id, principal)
    return _csv_file(csv_bytes(REPORT_CSV_HEADER, report_rows(report)), f"cohort-{report.academic_year}-report.csv")


@router.get(
    "/projects/export.csv",
    summary="Export the projects as CSV, one row per project (coordinators)",
    description="Takes the filters of `GET /projects` and exports every project they match, by academic year "
    "and group. No student or supervisor names or emails; cells that a spreadsheet could run as a formula "
    "start with `'`.",
    response_class=Response,
    responses={
        **_csv_answer("The projects as CSV (UTF-8 with a byte-order mark)"),
        422: {"model": FieldErrorsOut, "description": "A filter is invalid"},
    },
)
async def export_projects(
    uow: UoW,
    _: Coordinator,
    where: Annotated[ProjectFilter, Depends(project_filter)],
) -> Response:
    records = await reports.export_projects(uow, where)
    return _csv_file(csv_bytes(EXPORT_HEADER, [export_row(record) for record in records]), "projects.csv")


def _csv_file(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
