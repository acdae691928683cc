"""HTTP API: a CAP year's set-up (cohorts, GP practices, supervisors, students, groups) and its CSV imports.

Coordinators create and change everything. Supervisors read the groups they supervise, with those groups'
students, cohorts and practices (and the practices they are linked to); students read their own group and their
own record. Anything else reads as 404, so ids are not confirmed to exist. Partners and ops get 403.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.setup import Viewer
from medic.projects.domain.setup_commands import (
    ChangeCohort,
    ChangeGroupMember,
    ChangePractice,
    ChangeSupervisor,
    CreateCohort,
    CreateGroup,
    RegisterPractice,
    RegisterStudent,
    RegisterSupervisor,
)
from medic.projects.service_layer import setup_handlers as handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from . import setup_imports
from .dependencies import unit_of_work
from .setup_models import (
    CohortChangeIn,
    CohortIn,
    CohortOut,
    GroupIn,
    GroupOut,
    PracticeChangeIn,
    PracticeIn,
    PracticeOut,
    StudentIn,
    StudentOut,
    SupervisorChangeIn,
    SupervisorIn,
    SupervisorOut,
    answering_errors,
    responses,
)

router = APIRouter(tags=["setup"])
router.include_router(setup_imports.router)

UnitOfWork = Annotated[ProjectsUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Reader = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT))]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")]


def viewer_of(principal: Principal) -> Viewer:
    return Viewer(
        subject=principal.subject,
        sees_everything=principal.has(Role.COORDINATOR),
        as_supervisor=principal.has(Role.SUPERVISOR),
        as_student=principal.has(Role.STUDENT),
    )


# Cohorts


@router.post(
    "/cohorts",
    status_code=status.HTTP_201_CREATED,
    summary="Set up a cohort: an academic year's CAP placement",
    description="Group sizes default to `CAP_GROUP_MIN_SIZE` to `CAP_GROUP_MAX_SIZE`. "
    "Publishes `projects.cohort.created.v1`.",
    responses=responses(409),
)
async def create_cohort(body: CohortIn, request: Request, uow: UnitOfWork, _: Coordinator) -> CohortOut:
    settings = request.app.state.settings
    command = CreateCohort(
        academic_year=body.academic_year,
        placement_start=body.placement_start,
        placement_end=body.placement_end,
        min_group_size=settings.cap_group_min_size if body.min_group_size is None else body.min_group_size,
        max_group_size=settings.cap_group_max_size if body.max_group_size is None else body.max_group_size,
        correlation_id=correlation_id_from(request),
    )
    with answering_errors():
        return CohortOut.of(await handlers.create_cohort(command, uow))


@router.get("/cohorts", summary="List cohorts by academic year")
async def list_cohorts(uow: UnitOfWork, caller: Reader, limit: Limit = 100, offset: Offset = 0) -> list[CohortOut]:
    found = await handlers.list_cohorts(viewer_of(caller), uow, limit=limit, offset=offset)
    return [CohortOut.of(cohort) for cohort in found]


@router.get("/cohorts/{cohort_id}", summary="Read a cohort", responses=responses(404))
async def get_cohort(cohort_id: uuid.UUID, uow: UnitOfWork, caller: Reader) -> CohortOut:
    with answering_errors("cohort_id"):
        return CohortOut.of(await handlers.get_cohort(cohort_id, viewer_of(caller), uow))


@router.patch(
    "/cohorts/{cohort_id}",
    summary="Change a cohort's placement dates or group-size range",
    description="A new range must fit every group of the cohort. Publishes `projects.cohort.changed.v1` "
    "when something changed.",
    responses=responses(404, 409),
)
async def change_cohort(
    cohort_id: uuid.UUID, body: CohortChangeIn, request: Request, uow: UnitOfWork, _: Coordinator
) -> CohortOut:
    command = ChangeCohort(cohort_id=cohort_id, correlation_id=correlation_id_from(request), **body.model_dump())
    with answering_errors("cohort_id"):
        return CohortOut.of(await handlers.change_cohort(command, uow))


# Practices


@router.post(
    "/practices",
    status_code=status.HTTP_201_CREATED,
    summary="Register a GP practice",
    description="Publishes `projects.practice.registered.v1`.",
    responses=responses(409),
)
async def register_practice(body: PracticeIn, request: Request, uow: UnitOfWork, _: Coordinator) -> PracticeOut:
    command = RegisterPractice(**body.model_dump(), correlation_id=correlation_id_from(request))
    with answering_errors():
        return PracticeOut.of(await handlers.register_practice(command, uow))


@router.get("/practices", summary="List GP practices by ODS code")
async def list_practices(uow: UnitOfWork, caller: Reader, limit: Limit = 100, offset: Offset = 0) -> list[PracticeOut]:
    found = await handlers.list_practices(viewer_of(caller), uow, limit=limit, offset=offset)
    return [PracticeOut.of(practice) for practice in found]


@router.get("/practices/{practice_id}", summary="Read a GP practice", responses=responses(404))
async def get_practice(practice_id: uuid.UUID, uow: UnitOfWork, caller: Reader) -> PracticeOut:
    with answering_errors("practice_id"):
        return PracticeOut.of(await handlers.get_practice(practice_id, viewer_of(caller), uow))


@router.patch(
    "/practices/{practice_id}",
    summary="Change a GP practice's name, ODS code or area",
    description="Publishes `projects.practice.changed.v1` when something changed.",
    responses=responses(404, 409),
)
async def change_practice(
    practice_id: uuid.UUID, body: PracticeChangeIn, request: Request, uow: UnitOfWork, _: Coordinator
) -> PracticeOut:
    command = ChangePractice(practice_id=practice_id, correlation_id=correlation_id_from(request), **body.model_dump())
    with answering_errors("practice_id"):
        return PracticeOut.of(await handlers.change_practice(command, uow))


# Supervisors


@router.post(
    "/supervisors",
    status_code=status.HTTP_201_CREATED,
    summary="Register a supervisor (a GP tutor), linked to GP practices",
    description="Publishes `projects.supervisor.registered.v1` (ids only: name and email stay here).",
    responses=responses(404, 409),
)
async def register_supervisor(body: SupervisorIn, request: Request, uow: UnitOfWork, _: Coordinator) -> SupervisorOut:
    command = RegisterSupervisor(**body.model_dump(), correlation_id=correlation_id_from(request))
    with answering_errors():
        return SupervisorOut.of(await handlers.register_supervisor(command, uow))


@router.get("/supervisors", summary="List supervisors by user id")
async def list_supervisors(
    uow: UnitOfWork, caller: Reader, limit: Limit = 100, offset: Offset = 0
) -> list[SupervisorOut]:
    found = await handlers.list_supervisors(viewer_of(caller), uow, limit=limit, offset=offset)
    return [SupervisorOut.of(supervisor) for supervisor in found]


@router.get("/supervisors/{supervisor_id}", summary="Read a supervisor", responses=responses(404))
async def get_supervisor(supervisor_id: uuid.UUID, uow: UnitOfWork, caller: Reader) -> SupervisorOut:
    with answering_errors("supervisor_id"):
        return SupervisorOut.of(await handlers.get_supervisor(supervisor_id, viewer_of(caller), uow))


@router.patch(
    "/supervisors/{supervisor_id}",
    summary="Change a supervisor's name, email or practices (link and unlink)",
    description="Publishes `projects.supervisor.changed.v1` when something changed.",
    responses=responses(404),
)
async def change_supervisor(
    supervisor_id: uuid.UUID, body: SupervisorChangeIn, request: Request, uow: UnitOfWork, _: Coordinator
) -> SupervisorOut:
    command = ChangeSupervisor(
        supervisor_id=supervisor_id, correlation_id=correlation_id_from(request), **body.model_dump()
    )
    with answering_errors("supervisor_id"):
        return SupervisorOut.of(await handlers.change_supervisor(command, uow))


# Students


@router.post(
    "/students",
    status_code=status.HTTP_201_CREATED,
    summary="Register a student",
    description="Publishes `projects.student.registered.v1` (the id only: name and email stay here).",
    responses=responses(409),
)
async def register_student(body: StudentIn, request: Request, uow: UnitOfWork, _: Coordinator) -> StudentOut:
    command = RegisterStudent(**body.model_dump(), correlation_id=correlation_id_from(request))
    with answering_errors():
        return StudentOut.of(await handlers.register_student(command, uow))


@router.get("/students", summary="List students by university id")
async def list_students(uow: UnitOfWork, caller: Reader, limit: Limit = 100, offset: Offset = 0) -> list[StudentOut]:
    found = await handlers.list_students(viewer_of(caller), uow, limit=limit, offset=offset)
    return [StudentOut.of(student) for student in found]


@router.get("/students/{student_id}", summary="Read a student", responses=responses(404))
async def get_student(student_id: uuid.UUID, uow: UnitOfWork, caller: Reader) -> StudentOut:
    with answering_errors("student_id"):
        return StudentOut.of(await handlers.get_student(student_id, viewer_of(caller), uow))


# Groups


@router.post(
    "/groups",
    status_code=status.HTTP_201_CREATED,
    summary="Form a group of a cohort at a GP practice",
    description="A group may start empty and be filled; it never exceeds its cohort's maximum size, and each "
    "student is in one group per cohort. Publishes `projects.group.created.v1`, and "
    "`projects.group.formed.v1` if it starts with the cohort's minimum.",
    responses=responses(404, 409),
)
async def create_group(body: GroupIn, request: Request, uow: UnitOfWork, _: Coordinator) -> GroupOut:
    command = CreateGroup(**body.model_dump(), correlation_id=correlation_id_from(request))
    with answering_errors():
        return GroupOut.of(await handlers.create_group(command, uow))


@router.get("/groups", summary="List groups by cohort and name")
async def list_groups(
    uow: UnitOfWork,
    caller: Reader,
    cohort_id: Annotated[uuid.UUID | None, Query(description="Only this cohort's groups")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[GroupOut]:
    found = await handlers.list_groups(viewer_of(caller), uow, cohort_id=cohort_id, limit=limit, offset=offset)
    return [GroupOut.of(group) for group in found]


@router.get("/groups/{group_id}", summary="Read a group", responses=responses(404))
async def get_group(group_id: uuid.UUID, uow: UnitOfWork, caller: Reader) -> GroupOut:
    with answering_errors("group_id"):
        return GroupOut.of(await handlers.get_group(group_id, viewer_of(caller), uow))


MEMBERSHIP = (
    " Publishes `projects.group.changed.v1` when something changed, then `projects.group.formed.v1` when the "
    "group has just reached its cohort's minimum size."
)


@router.put(
    "/groups/{group_id}/students/{student_id}",
    summary="Put a student in a group",
    description="409 when the group is full or the student is in another group of the cohort; "
    "a student already in the group changes nothing." + MEMBERSHIP,
    responses=responses(404, 409),
)
async def add_student(
    group_id: uuid.UUID, student_id: uuid.UUID, request: Request, uow: UnitOfWork, _: Coordinator
) -> GroupOut:
    command = ChangeGroupMember(group_id, student_id, add=True, correlation_id=correlation_id_from(request))
    with answering_errors("group_id", "student_id"):
        return GroupOut.of(await handlers.change_group_student(command, uow))


@router.delete(
    "/groups/{group_id}/students/{student_id}",
    summary="Take a student out of a group",
    description="409 when a formed group would drop below its cohort's minimum: add the replacement first."
    + MEMBERSHIP,
    responses=responses(404, 409),
)
async def remove_student(
    group_id: uuid.UUID, student_id: uuid.UUID, request: Request, uow: UnitOfWork, _: Coordinator
) -> GroupOut:
    command = ChangeGroupMember(group_id, student_id, add=False, correlation_id=correlation_id_from(request))
    with answering_errors("group_id", "student_id"):
        return GroupOut.of(await handlers.change_group_student(command, uow))


@router.put(
    "/groups/{group_id}/supervisors/{supervisor_id}",
    summary="Make a supervisor one of a group's supervisors",
    description="A supervisor already there changes nothing." + MEMBERSHIP,
    responses=responses(404),
)
async def add_supervisor(
    group_id: uuid.UUID, supervisor_id: uuid.UUID, request: Request, uow: UnitOfWork, _: Coordinator
) -> GroupOut:
    command = ChangeGroupMember(group_id, supervisor_id, add=True, correlation_id=correlation_id_from(request))
    with answering_errors("group_id", "supervisor_id"):
        return GroupOut.of(await handlers.change_group_supervisor(command, uow))


@router.delete(
    "/groups/{group_id}/supervisors/{supervisor_id}",
    summary="Take a supervisor off a group",
    description="409 for the group's last supervisor: add the replacement first." + MEMBERSHIP,
    responses=responses(404, 409),
)
async def remove_supervisor(
    group_id: uuid.UUID, supervisor_id: uuid.UUID, request: Request, uow: UnitOfWork, _: Coordinator
) -> GroupOut:
    command = ChangeGroupMember(group_id, supervisor_id, add=False, correlation_id=correlation_id_from(request))
    with answering_errors("group_id", "supervisor_id"):
        return GroupOut.of(await handlers.change_group_supervisor(command, uow))
