"""HTTP API: a cohort's milestones (proposal due, governance due, evaluation due, showcase).

Coordinators set them; coordinators, and the supervisors and students of the cohort's groups, read them. A cohort
the caller is not part of reads as 404. The scheduler (service_layer/reminders.py) sends the reminders.
"""

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from medic.projects.adapters.projects_repository import Visibility
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.milestones import InvalidMilestone, Milestone, SetMilestone
from medic.projects.service_layer import milestones as handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.contracts.projects.milestones import MilestoneKind
from medic.shared.http import correlation_id_from
from medic.shared.http_fields import IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut

from .dependencies import field_error, unit_of_work

router = APIRouter(tags=["milestones"])

UnitOfWork = Annotated[ProjectsUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Reader = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT))]


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "No such cohort for the caller"}}


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_on: IsoDate = Field(
        examples=["2027-01-22"],
        description="The day it is due (a London calendar date), within a year of the cohort's placement",
    )


class MilestoneOut(BaseModel):
    cohort_id: uuid.UUID
    kind: MilestoneKind
    due_on: date
    set_at: datetime = Field(description="When it was last set or moved")

    @classmethod
    def of(cls, milestone: Milestone) -> "MilestoneOut":
        return cls(cohort_id=milestone.cohort_id, kind=milestone.kind, due_on=milestone.due_on, set_at=milestone.set_at)


def _visibility(principal: Principal) -> Visibility:
    return Visibility(
        everything=principal.has(Role.COORDINATOR),
        supervisor_user_id=principal.subject if principal.has(Role.SUPERVISOR) else None,
        student_university_id=principal.subject if principal.has(Role.STUDENT) else None,
    )


def _no_cohort() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "no such cohort")


@router.put(
    "/cohorts/{cohort_id}/milestones/{kind}",
    summary="Set or move one of a cohort's milestones",
    description="Projects of the cohort that have not met it get reminders 7 days before, on the day and the day "
    "after (`projects.milestone.approaching.v1`, `.due.v1`, `.overdue.v1`). Moving it to another day arms them "
    "again. Publishes `projects.cohort_milestone.set.v1` unless the date is unchanged.",
    responses={
        **NOT_FOUND,
        409: {"model": FieldErrorsOut, "description": "The same milestone was being set at the same moment"},
    },
)
async def set_milestone(
    cohort_id: uuid.UUID, kind: MilestoneKind, body: MilestoneIn, request: Request, uow: UnitOfWork, _: Coordinator
) -> MilestoneOut:
    command = SetMilestone(
        cohort_id=cohort_id, kind=kind, due_on=body.due_on, correlation_id=correlation_id_from(request)
    )
    try:
        return MilestoneOut.of(await handlers.set_milestone(command, uow))
    except handlers.CohortNotFound:
        raise _no_cohort() from None
    except InvalidMilestone as error:
        raise field_error(error.field, str(error), status.HTTP_422_UNPROCESSABLE_CONTENT) from None
    except handlers.MilestoneSetMeanwhile as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT, [{"loc": ["path", "kind"], "msg": str(error), "type": "value_error"}]
        ) from None


@router.get(
    "/cohorts/{cohort_id}/milestones",
    summary="A cohort's milestones, in the order of the year",
    description="Only the milestones set so far: proposal_due, governance_due, evaluation_due, showcase.",
    responses=NOT_FOUND,
)
async def list_milestones(cohort_id: uuid.UUID, uow: UnitOfWork, principal: Reader) -> list[MilestoneOut]:
    try:
        found = await handlers.list_milestones(cohort_id, _visibility(principal), uow)
    except handlers.CohortNotFound:
        raise _no_cohort() from None
    return [MilestoneOut.of(m) for m in found]
