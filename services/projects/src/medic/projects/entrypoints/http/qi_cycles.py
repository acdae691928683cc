"""HTTP API: the quality-improvement records of a project: dated data points of its measures, change ideas, and
the PDSA cycles that test them.

Students of the project's group record data points while it is in delivery or evaluating, and change ideas and
PDSA cycles from approval until evaluation ends; coordinators while the project is active. Every answer is the
project as `GET /projects/{id}` shows it to the caller; a 201 names what it created in `Location`. An id in the
path that the project does not hold (a measure, a data point, a change idea, a cycle) is 422 naming that
parameter; a project the caller may not see is 404. Each change publishes `projects.project.updated.v1` with
section `measures` or `pdsa`: ids only, never the text.
"""

import uuid
from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from medic.projects.domain.lifecycle import Actor
from medic.projects.domain.project import InvalidProject, Project, StepRefused
from medic.projects.domain.qi import Act, ChangeIdea, DataPoint, Do, Plan, StepRecord, Study
from medic.shared.openapi import FieldErrorsOut

from .project_models import (
    ActIn,
    ChangeIdeaIn,
    CycleIn,
    DataPointIn,
    DoIn,
    PlanIn,
    ProjectOut,
    ProjectSummaryOut,
    StepRefusedOut,
    StudyIn,
)
from .projects import NOT_FOUND, Refusal, UoW, Worker, _answer, _change

router = APIRouter(tags=["qi_cycles"])

QI_ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {
        "model": StepRefusedOut,
        "description": "Not editable now by this caller, a limit or duplicate, or a PDSA step out of order",
    },
    422: {"model": FieldErrorsOut, "description": "A field is invalid"},
}
# Ids that come in the path: the domain names them, and the answer must say they came from there.
PATH_PARAMETERS = frozenset({"measure_id", "point_id", "idea_id", "cycle_id"})


async def _qi(call: Awaitable[tuple[Project, Actor]]) -> tuple[Project, Actor]:
    """The QI refusals `_answer` does not know: a step out of order (409 with the cycle's stage) and an id of
    the path the project does not hold (422 located in the path)."""
    try:
        return await call
    except StepRefused as error:
        body = StepRefusedOut(
            detail=str(error),
            state=error.state,
            section=error.section,
            cycle_id=error.cycle_id,
            stage=error.stage,
            writable_steps=error.writable,
        )
        raise Refusal(body.model_dump(mode="json")) from None
    except InvalidProject as error:
        if error.field not in PATH_PARAMETERS:
            raise
        # An id in the path that the project does not hold: as for a project, it does not exist.
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{error.field}: {error}") from None


@router.post(
    "/projects/{project_id}/measures/{measure_id}/data-points",
    status_code=status.HTTP_201_CREATED,
    summary="Record a dated value of a measure",
    description="Students while the project is in delivery or evaluating. At most 200 points a measure; "
    "partners see dates and values, never annotations.",
    responses=QI_ERRORS,
)
async def add_data_point(
    project_id: uuid.UUID,
    measure_id: uuid.UUID,
    body: DataPointIn,
    request: Request,
    response: Response,
    uow: UoW,
    principal: Worker,
) -> ProjectOut | ProjectSummaryOut:
    point = DataPoint(uuid.uuid4(), body.measured_on, body.value, body.annotation)
    answer = await _answer(
        _qi(_change(principal, request, uow, project_id, lambda p, a, now: p.add_data_point(a, measure_id, point, now)))
    )
    response.headers["Location"] = f"/projects/{project_id}/measures/{measure_id}/data-points/{point.id}"
    return answer


@router.delete(
    "/projects/{project_id}/measures/{measure_id}/data-points/{point_id}",
    summary="Remove a data point of a measure",
    responses=QI_ERRORS,
)
async def remove_data_point(
    project_id: uuid.UUID, measure_id: uuid.UUID, point_id: uuid.UUID, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    def change(project: Project, actor: Actor, now: Any) -> None:
        project.remove_data_point(actor, measure_id, point_id, now)

    return await _answer(_qi(_change(principal, request, uow, project_id, change)))


@router.post(
    "/projects/{project_id}/change-ideas",
    status_code=status.HTTP_201_CREATED,
    summary="List a change idea the group may test in PDSA cycles",
    description="Students from approval until evaluation ends. At most 20; each text once.",
    responses=QI_ERRORS,
)
async def add_change_idea(
    project_id: uuid.UUID, body: ChangeIdeaIn, request: Request, response: Response, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    idea = ChangeIdea(uuid.uuid4(), body.text)
    answer = await _answer(
        _qi(_change(principal, request, uow, project_id, lambda p, a, now: p.add_change_idea(a, idea, now)))
    )
    response.headers["Location"] = f"/projects/{project_id}/change-ideas/{idea.id}"
    return answer


@router.delete(
    "/projects/{project_id}/change-ideas/{idea_id}",
    summary="Remove a change idea no PDSA cycle tests",
    responses=QI_ERRORS,
)
async def remove_change_idea(
    project_id: uuid.UUID, idea_id: uuid.UUID, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    return await _answer(
        _qi(_change(principal, request, uow, project_id, lambda p, a, now: p.remove_change_idea(a, idea_id, now)))
    )


@router.post(
    "/projects/{project_id}/pdsa-cycles",
    status_code=status.HTTP_201_CREATED,
    summary="Start a PDSA cycle testing a listed change idea; it waits for its plan",
    description="Students from approval until evaluation ends. At most 50 cycles.",
    responses=QI_ERRORS,
)
async def start_cycle(
    project_id: uuid.UUID, body: CycleIn, request: Request, response: Response, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    cycle_id = uuid.uuid4()

    def change(project: Project, actor: Actor, now: Any) -> None:
        project.start_cycle(actor, cycle_id, body.change_idea_id, now)

    answer = await _answer(_qi(_change(principal, request, uow, project_id, change)))
    response.headers["Location"] = f"/projects/{project_id}/pdsa-cycles/{cycle_id}"
    return answer


def _record(
    principal: Any, request: Request, uow: UoW, project_id: uuid.UUID, cycle_id: uuid.UUID, record: StepRecord
) -> Awaitable[ProjectOut | ProjectSummaryOut]:
    def change(project: Project, actor: Actor, now: Any) -> None:
        project.record_step(actor, cycle_id, record, now)

    return _answer(_qi(_change(principal, request, uow, project_id, change)))


STEP_DESCRIPTION = (
    "Steps go plan, do, study, act, in order: a step skipped is 409, and so is one fixed by a later step "
    "(the latest step recorded may be corrected). The 409 names the cycle's stage and the steps it takes now."
)


@router.put(
    "/projects/{project_id}/pdsa-cycles/{cycle_id}/plan",
    summary="Plan a PDSA cycle: objective, prediction, who / what / when / where, data plan",
    description=STEP_DESCRIPTION,
    responses=QI_ERRORS,
)
async def plan_cycle(
    project_id: uuid.UUID, cycle_id: uuid.UUID, body: PlanIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    return await _record(principal, request, uow, project_id, cycle_id, Plan(**body.model_dump()))


@router.put(
    "/projects/{project_id}/pdsa-cycles/{cycle_id}/do",
    summary="Record what happened in a PDSA cycle, and how it departed from the plan",
    description=STEP_DESCRIPTION,
    responses=QI_ERRORS,
)
async def do_cycle(
    project_id: uuid.UUID, cycle_id: uuid.UUID, body: DoIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    return await _record(principal, request, uow, project_id, cycle_id, Do(**body.model_dump()))


@router.put(
    "/projects/{project_id}/pdsa-cycles/{cycle_id}/study",
    summary="Study a PDSA cycle: its results against the prediction",
    description=STEP_DESCRIPTION,
    responses=QI_ERRORS,
)
async def study_cycle(
    project_id: uuid.UUID, cycle_id: uuid.UUID, body: StudyIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    return await _record(principal, request, uow, project_id, cycle_id, Study(**body.model_dump()))


@router.put(
    "/projects/{project_id}/pdsa-cycles/{cycle_id}/act",
    summary="Decide on a PDSA cycle: adopt, adapt, abandon or scale, and the next step",
    description=STEP_DESCRIPTION,
    responses=QI_ERRORS,
)
async def act_on_cycle(
    project_id: uuid.UUID, cycle_id: uuid.UUID, body: ActIn, request: Request, uow: UoW, principal: Worker
) -> ProjectOut | ProjectSummaryOut:
    return await _record(principal, request, uow, project_id, cycle_id, Act(body.decision, body.next_step))
