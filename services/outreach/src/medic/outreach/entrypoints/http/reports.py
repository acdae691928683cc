"""HTTP API: the impact report (JSON and CSV) under a disclosure policy, and the research extract (only participants
whose consent to research is valid today). Coordinators only.

Exact figures are stored; the policy is applied here, when the report is rendered, and named in every output.
`policy=hesa` (the default) and `policy=ofs` are publishable; `policy=none` gives exact figures for the
coordinators' own operational view, marked not for publication, and can be switched off with
OUTREACH_REPORT_EXACT_ALLOWED=false.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.consent import ConsentPolicy
from medic.outreach.domain.disclosure import DEFAULT, POLICIES, DisclosurePolicy, PolicyName
from medic.outreach.domain.impact import CSV_HEADER, csv_rows, render
from medic.outreach.service_layer import reports as handlers
from medic.outreach.settings import OutreachSettings
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.csv_safe import MEDIA_TYPE, csv_bytes

from .dependencies import today, unit_of_work
from .report_models import ExtractOut, ExtractRowOut, ReportOut, responses

router = APIRouter(tags=["reports"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
PolicyQuery = Annotated[
    PolicyName,
    Query(description="The disclosure policy: hesa (default), ofs, or none (exact, internal only)", examples=["hesa"]),
]


def _policy(request: Request, name: PolicyName) -> DisclosurePolicy:
    settings: OutreachSettings = request.app.state.settings
    if name is PolicyName.NONE and not settings.report_exact_allowed:
        detail = [
            {
                "loc": ["query", "policy"],
                "msg": "exact figures are switched off here (OUTREACH_REPORT_EXACT_ALLOWED): use hesa or ofs",
                "type": "value_error",
            }
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
    return POLICIES[name]


async def _rendered(request: Request, uow: OutreachUnitOfWork, name: PolicyName) -> dict[str, Any]:
    policy = _policy(request, name)
    return render(await handlers.impact_report(uow), policy)


@router.get(
    "/reports/impact",
    summary="The impact report under a disclosure policy",
    description="Reach by programme, cycle, school and indicator; attendance; pre/post survey change; progression "
    "rates. Counts rounded and small figures hidden as the policy says; the policy and its rules come first.",
    responses=responses(422),
)
async def impact_report(
    request: Request, uow: UnitOfWork, _: Coordinator, policy: PolicyQuery = DEFAULT.name
) -> ReportOut:
    return ReportOut.model_validate(await _rendered(request, uow, policy))


@router.get(
    "/reports/impact.csv",
    summary="The impact report as CSV, under a disclosure policy",
    description="One line per figure (section, row, column, value), after the policy's name, title and rules. "
    "UTF-8 with a byte-order mark; cells that a spreadsheet could run are neutralised.",
    responses={
        200: {"description": "The report as CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
        **responses(422),
    },
)
async def impact_report_csv(
    request: Request, uow: UnitOfWork, _: Coordinator, policy: PolicyQuery = DEFAULT.name
) -> Response:
    rendered = await _rendered(request, uow, policy)
    return Response(
        content=csv_bytes(CSV_HEADER, csv_rows(rendered)),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="impact-report-{policy.value}.csv"'},
    )


@router.get(
    "/reports/research-extract",
    summary="The pseudonymised research extract: participants whose research consent is valid today",
    description="One row per participant and cycle (pseudonymous id, indicators with editions, activities, "
    "survey change, outcomes; no personal details), only for participants who took part and whose consent to "
    "research (and a parent's or guardian's, where needed) is valid on the day it is built. A consent withdrawn "
    "a moment ago leaves the participant out.",
)
async def research_extract(request: Request, uow: UnitOfWork, _: Coordinator) -> ExtractOut:
    settings: OutreachSettings = request.app.state.settings
    built_on = today(request)
    policy = ConsentPolicy(settings.consent_guardian_age, settings.consent_expiry_reminder_days)
    rows = await handlers.research_extract(uow, on=built_on, policy=policy)
    return ExtractOut(
        built_on=built_on,
        note="Pseudonymised; only participants whose consent to research is valid on this day. Not for "
        "publication: row-level data.",
        rows=[ExtractRowOut.of(r) for r in rows],
    )
