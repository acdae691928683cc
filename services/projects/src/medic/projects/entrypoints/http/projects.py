"""HTTP API: Community Action Projects, their sections and their lifecycle.

Who sees what: coordinators see and do everything; supervisors the projects of the groups they supervise;
students their own group's project; partner users the projects their organisation is part of, in a partner-safe
view. Any other project is 404. Each response lists the actions the caller may take now.
"""

import uuid
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse

from medic.projects.adapters.projects_repository import (
    GroupHasAProject,
    ProjectChangedMeanwhile,
    ProjectFilter,
    decode_cursor,
    encode_cursor,
)
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.lifecycle import Action, Actor, TransitionRefused
from medic.projects.domain.project import (
    Aim,
    AuditCodes,
    DeliverySession,
    EditRefused,
    Evaluation,
    Governance,
    InvalidProject,
    Measure,
    Need,
    Project,
    ShowcaseEntry,
)
from medic.projects.service_layer import project_handlers as handlers
from medic.projects.service_layer.project_handlers import Caller, GroupNotFound, ProjectNotFound
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from
from medic.shared.openapi import ErrorOut, FieldErrorsOut

from .dependencies import field_error, project_filter, unit_of_work
from .project_models import (
    ActionIn,
    DbsAttestationIn,
    DeliverySessionIn,
    EditRefusedOut,
    EvaluationIn,
    GovernanceIn,
    HistoryEntryOut,
    ProgressIn,
    ProjectIn,
    ProjectOut,
    ProjectPageOut,
    ProjectSummaryOut,
    ProposalIn,
    ShowcaseIn,
    TransitionRefusedOut,
    project_view,
)

router = APIRouter(tags=["projects"])
# Opaque to clients, so the document names a format of its own: only a `next_cursor` is one.
CURSOR_FORMAT = "project-cursor"

UoW = Annotated[ProjectsUnitOfWork, Depends(unit_of_work)]
Viewer = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT, Role.PARTNER))]
Worker = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such project among those the caller may see"}
}
EDIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"model": EditRefusedOut, "description": "The section cannot be edited in this state by this caller"},
    422: {"model": FieldErrorsOut, "description": "A field is invalid"},
}
T = TypeVar("T")


def caller_of(principal: Principal, request: Request) -> Caller:
    return Caller(
        user_id=principal.subject,
        roles=principal.roles,
        correlation_id=correlation_id_from(request),
        organisation_id=principal.organisation_id,
    )


async def _answer(call: Awaitable[tuple[Project, Actor]]) -> ProjectOut | ProjectSummaryOut:
    """Run a use case, turning the domain's refusals into their HTTP answers."""
    try:
        project, actor = await call
    except ProjectNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such project") from None
    except GroupNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "no such group among those you may start a project for"
        ) from None
    except InvalidProject as error:
        raise field_error(error.field, str(error), status.HTTP_422_UNPROCESSABLE_CONTENT) from None
    except GroupHasAProject as error:
        raise field_error(error.field, str(error), status.HTTP_409_CONFLICT) from None
    except ProjectChangedMeanwhile as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except EditRefused as error:
        body = EditRefusedOut(detail=str(error), state=error.state, section=error.section)
        raise Refusal(body.model_dump(mode="json")) from None
    except TransitionRefused as error:
        refused = TransitionRefusedOut(
            detail=str(error), state=error.state, reasons=error.reasons, allowed_actions=error.allowed
        )
        raise Refusal(refused.model_dump(mode="json")) from None
    return project_view(project, actor)


class Refusal(Exception):
    """A 409 whose body says the state, why, and what may be done instead (see the handler below)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body


async def refusal_response(_: Request, error: Exception) -> Response:
    assert isinstance(error, Refusal)
    return JSONResponse(error.body, status_code=status.HTTP_409_CONFLICT)


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    summary="Start a project for a group (a coordinator, or a student of the group)",
    description="Publishes `projects.project.created.v1`. One project per group.",
    responses={
        404: {"model": ErrorOut, "description": "No such group among those the caller may start a project for"},
        409: {"model": FieldErrorsOut, "description": "The group has a project already"},
        422: {"model": FieldErrorsOut, "description": "A field is invalid"},
    },
)
async def start_project(
    body: ProjectIn,
    request: Request,
    uow: UoW,
    principal: Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.STUDENT))],
) -> ProjectOut | ProjectSummaryOut:
    caller = caller_of(principal, request)
    return await _answer(
        handlers.start_project(
            caller, uow, group_id=body.group_id, title=body.title, topic=body.topic, partner_ids=body.partner_ids
        )
    )


@router.get(
    "/projects",
    summary="List the projects the caller may see, newest first",
    responses={422: {"model": FieldErrorsOut, "description": "A filter or the cursor is invalid"}},
)
async def list_projects(
    request: Request,
    uow: UoW,
    principal: Viewer,
    where: Annotated[ProjectFilter, Depends(project_filter)],
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="The `next_cursor` of the previous page.",
            json_schema_extra={"format": CURSOR_FORMAT},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ProjectPageOut:
    try:
        after = decode_cursor(cursor) if cursor else None
    except ValueError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["query", "cursor"], "msg": str(error), "type": "value_error"}],
        ) from None
    found = await handlers.list_projects(caller_of(principal, request), uow, where, after=after, limit=limit + 1)
    page = found[:limit]
    return ProjectPageOut(
        items=[project_view(project, actor) for project, actor in page],
        next_cursor=encode_cursor(page[-1][0]) if len(found) > limit else None,
    )


@router.get("/projects/{project_id}", summary="A project, with what the caller may do now", responses=NOT_FOUND)
async def get_project(
    project_id: uuid.UUID, request: Request, uow: UoW, principal: Viewer
) -> ProjectOut | ProjectSummaryOut:
    return await _answer(handlers.get_project(caller_of(principal, request), uow, project_id))


@router.get(
    "/projects/{project_id}/history",
    summary="What happened to the project, who did it and why (its coordinators, supervisors and students)",
    responses=NOT_FOUND,
)
async def project_history(
    project_id: uuid.UUID, request: Request, uow: UoW, principal: Worker
) -> list[HistoryEntryOut]:
    try:
        entries = await handlers.project_history(caller_of(principal, request), uow, project_id)
    except ProjectNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such project") from None
    return [HistoryEntryOut(**vars(entry)) for entry in entries]


def _change(
    principal: Principal,
    request: Request,
    uow: ProjectsUnitOfWork,
    project_id: uuid.UUID,
    change: handlers.Change,
    *,
    new_partners: bool = False,
) -> Awaitable[tuple[Project, Actor]]:
    caller = caller_of(principal, request)
    return handlers.change_project(caller, uow, project_id, change, new_partners=new_partners)


@router.put(
    "/projects/{project_id}/proposal",
    summary="Edit the proposal: title, topic, partners, local health need, aim, measures",
    description="Students in draft or changes requested; coordinators while active. Publishes "
    "`projects.project.updated.v1`.",
    responses=EDIT_ERRORS,
)
async def edit_proposal(
    project_id: uuid.UUID, body: ProposalIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    def change(project: Project, actor: Actor, now: Any) -> None:
        project.edit_proposal(
            actor,
            title=body.title,
            topic=body.topic,
            partner_ids=body.partner_ids,
            need=Need(
                body.need.summary,
                tuple(body.need.evidence),
                tuple(body.need.stakeholders_consulted),
                body.need.community_involvement,
            )
            if body.need
            else None,
            aim=Aim(body.aim.what, body.aim.how_much, body.aim.by_when, body.aim.target_population)
            if body.aim
            else None,
            measures=[Measure(**m.model_dump()) for m in body.measures],
            now=now,
        )

    return await _answer(_change(principal, request, uow, project_id, change, new_partners=True))


@router.put(
    "/projects/{project_id}/governance",
    summary="Edit the governance record (research / audit / service evaluation, ethics, risk)",
    description="A change un-clears governance: a supervisor must clear it again.",
    responses=EDIT_ERRORS,
)
async def edit_governance(
    project_id: uuid.UUID, body: GovernanceIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    governance = Governance(**body.model_dump())
    return await _answer(
        _change(principal, request, uow, project_id, lambda p, a, now: p.edit_governance(a, governance, now))
    )


@router.put(
    "/projects/{project_id}/dbs-attestation",
    summary="Attest which of the group's students have had their DBS check seen (supervisors)",
    responses=EDIT_ERRORS,
)
async def attest_dbs(
    project_id: uuid.UUID, body: DbsAttestationIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    students = frozenset(body.student_ids)
    return await _answer(_change(principal, request, uow, project_id, lambda p, a, now: p.attest_dbs(a, students, now)))


@router.post(
    "/projects/{project_id}/delivery-sessions",
    status_code=status.HTTP_201_CREATED,
    summary="Record a delivery session and the people it reached (counts only)",
    responses=EDIT_ERRORS,
)
async def record_delivery(
    project_id: uuid.UUID, body: DeliverySessionIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    session = DeliverySession(uuid.uuid4(), body.held_on, body.place, body.format, dict(body.reach))
    return await _answer(
        _change(principal, request, uow, project_id, lambda p, a, now: p.record_delivery(a, session, now))
    )


@router.put("/projects/{project_id}/evaluation", summary="Edit the evaluation", responses=EDIT_ERRORS)
async def edit_evaluation(
    project_id: uuid.UUID, body: EvaluationIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    evaluation = Evaluation(**body.model_dump())
    return await _answer(
        _change(principal, request, uow, project_id, lambda p, a, now: p.edit_evaluation(a, evaluation, now))
    )


@router.put("/projects/{project_id}/showcase", summary="Enter the project for the showcase", responses=EDIT_ERRORS)
async def enter_showcase(
    project_id: uuid.UUID, body: ShowcaseIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    entry = ShowcaseEntry(body.format, body.title, body.abstract)
    return await _answer(
        _change(principal, request, uow, project_id, lambda p, a, now: p.enter_showcase(a, entry, now))
    )


@router.put(
    "/projects/{project_id}/progress",
    summary="Record the IHI progress score and the audit codes",
    responses=EDIT_ERRORS,
)
async def record_progress(
    project_id: uuid.UUID, body: ProgressIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    codes = AuditCodes(**body.audit_codes.model_dump())
    return await _answer(
        _change(principal, request, uow, project_id, lambda p, a, now: p.record_progress(a, body.ihi_score, codes, now))
    )


@router.post(
    "/projects/{project_id}/actions/{action}",
    summary="Take a lifecycle action (submit proposal, approve, clear governance, ...)",
    description="Publishes the action's event, e.g. `projects.project.approved.v1`. A refusal is 409 with the "
    "current state, what is missing and the actions the caller may take instead.",
    responses={
        **NOT_FOUND,
        409: {"model": TransitionRefusedOut, "description": "The action is not allowed now"},
    },
)
async def take_action(
    project_id: uuid.UUID, action: Action, body: ActionIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    return await _answer(handlers.take_action(caller_of(principal, request), uow, project_id, action, body.reason))
