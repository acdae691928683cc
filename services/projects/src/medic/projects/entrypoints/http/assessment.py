"""HTTP API: assessment. A cohort's rubric, marks and their moderation and release, prize nominations, and
students' reflections.

Coordinators define the rubric, moderate and release. Any supervisor of the cohort marks and nominates its
showcased projects (peer marking). Students see their project's moderated marks once released, and their own
reflection; partners see none of it. What a caller may not see is 404. No mark, note, reason or reflection text
goes into an event.
"""

import uuid
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, status

from medic.projects.adapters.assessment_repository import AssessmentChangedMeanwhile, StudentReflection
from medic.projects.adapters.projects_repository import ProjectChangedMeanwhile
from medic.projects.domain.assessment import AssessmentRefused, Criterion, InvalidAssessment
from medic.projects.service_layer import assessment as handlers
from medic.projects.service_layer.project_handlers import ProjectNotFound
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.openapi import ErrorOut, FieldErrorsOut

from .assessment_models import (
    MarkSheetOut,
    MarksIn,
    ModerationIn,
    NominationIn,
    NominationOut,
    ReflectionIn,
    ReflectionOut,
    ReleasedMarksOut,
    ReleaseOut,
    RubricIn,
    RubricOut,
    ShortlistedOut,
    ShowcasedOut,
    mark_sheet_view,
    reflection_view,
    released_view,
    rubric_view,
)
from .projects import UoW, caller_of

router = APIRouter(tags=["assessment"])
T = TypeVar("T")

Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Staff = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR))]
# Coordinators may call these too; a reflection is a student's own, so a coordinator has none (404).
Student = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.STUDENT))]
# Partners may ask, and are told there is nothing (404), as for any project they may not see.
Anyone = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT, Role.PARTNER))]

NO_COHORT: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such cohort among those the caller takes part in"}
}
NO_PROJECT: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such project among those the caller may see, or nothing to show"}
}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"model": FieldErrorsOut, "description": "A field is invalid; `loc` names it (e.g. the criterion)"}
}


def _refused(description: str) -> dict[int | str, dict[str, Any]]:
    return {409: {"model": ErrorOut, "description": description}}


async def _answer(call: Awaitable[T]) -> T:
    """Run a use case, turning its refusals into their HTTP answers."""
    try:
        return await call
    except ProjectNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such project") from None
    except handlers.CohortNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such cohort") from None
    except handlers.NothingHere as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except InvalidAssessment as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", *error.loc], "msg": str(error), "type": "value_error"}],
        ) from None
    except (AssessmentRefused, AssessmentChangedMeanwhile, ProjectChangedMeanwhile) as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None


# Rubrics.


@router.put(
    "/cohorts/{cohort_id}/rubric",
    summary="Define or change a cohort's marking rubric (coordinators)",
    description="Replaces the criteria. Fixed once any mark has been given against it (409): marks would "
    "change meaning. Publishes `projects.cohort.rubric_set.v1` (the criteria's keys).",
    responses={**NO_COHORT, **_refused("Marks have been given against the rubric"), **INVALID},
)
async def set_rubric(
    cohort_id: uuid.UUID, body: RubricIn, request: Request, uow: UoW, principal: Coordinator
) -> RubricOut:
    criteria = [Criterion(**c.model_dump()) for c in body.criteria]
    return rubric_view(await _answer(handlers.set_rubric(caller_of(principal, request), uow, cohort_id, criteria)))


@router.get(
    "/cohorts/{cohort_id}/rubric",
    summary="A cohort's marking rubric (coordinators, and the cohort's supervisors)",
    description="Until a coordinator defines it, it has no criteria and no `updated_at`.",
    responses=NO_COHORT,
)
async def get_rubric(cohort_id: uuid.UUID, request: Request, uow: UoW, principal: Staff) -> RubricOut:
    rubric = await _answer(handlers.get_rubric(caller_of(principal, request), uow, cohort_id))
    return rubric_view(rubric) if rubric else RubricOut(cohort_id=cohort_id, criteria=[], updated_at=None)


@router.get(
    "/cohorts/{cohort_id}/showcase",
    summary="The cohort's showcased projects, to mark and nominate (coordinators, the cohort's supervisors)",
    description="Projects showcased, assessed or closed, by title, with their showcase entries.",
    responses=NO_COHORT,
)
async def showcase(cohort_id: uuid.UUID, request: Request, uow: UoW, principal: Staff) -> list[ShowcasedOut]:
    shown = await _answer(handlers.showcase(caller_of(principal, request), uow, cohort_id))
    return [ShowcasedOut.of(project) for project in shown]


# Marks, moderation and release.


@router.put(
    "/projects/{project_id}/marks",
    summary="Record your marks for a showcased project (a coordinator, or any supervisor of its cohort)",
    description="Your own marks: some or every criterion, replacing what you gave before. Each is 0 to the "
    "criterion's `max_mark`. Once some assessor has given every mark, the project may be assessed. Publishes "
    "`projects.project.marks_recorded.v1` (no marks).",
    responses={
        **NO_PROJECT,
        **_refused("Not showcased, no rubric yet, or written by someone else meanwhile"),
        **INVALID,
    },
)
async def record_marks(
    project_id: uuid.UUID, body: MarksIn, request: Request, uow: UoW, principal: Staff
) -> MarkSheetOut:
    caller = caller_of(principal, request)
    sheet = await _answer(handlers.record_marks(caller, uow, project_id, dict(body.marks), body.comment))
    return mark_sheet_view(sheet)


@router.put(
    "/projects/{project_id}/moderation",
    summary="Record the moderated (agreed) mark of every criterion, with a note (coordinators)",
    description="Once some assessor has given every mark; changeable until released. Students see these marks, "
    "not the assessors'. Publishes `projects.project.marks_moderated.v1` (no marks).",
    responses={
        **NO_PROJECT,
        **_refused("Not yet marked in full, no rubric, or the marks are released"),
        **INVALID,
    },
)
async def moderate(
    project_id: uuid.UUID, body: ModerationIn, request: Request, uow: UoW, principal: Coordinator
) -> MarkSheetOut:
    caller = caller_of(principal, request)
    return mark_sheet_view(await _answer(handlers.moderate(caller, uow, project_id, dict(body.marks), body.note)))


@router.get(
    "/projects/{project_id}/marks",
    summary="A project's marks: all of them for its staff, your own as a peer assessor, the released ones for "
    "its students",
    description="Students get 404 until the coordinator releases their cohort's marks; partners always do.",
    responses=NO_PROJECT,
)
async def get_marks(
    project_id: uuid.UUID, request: Request, uow: UoW, principal: Anyone
) -> MarkSheetOut | ReleasedMarksOut:
    found = await _answer(handlers.marks(caller_of(principal, request), uow, project_id))
    return released_view(found) if isinstance(found, handlers.ReleasedMarks) else mark_sheet_view(found)


@router.post(
    "/cohorts/{cohort_id}/marks/release",
    summary="Release the cohort's moderated marks to its students (coordinators)",
    description="Releases every moderated mark not yet released; projects marked but not moderated are listed and "
    "wait for a later release. Publishes `projects.cohort.marks_released.v1` (project ids only).",
    responses={**NO_COHORT, **_refused("Nothing moderated is waiting to be released")},
)
async def release(cohort_id: uuid.UUID, request: Request, uow: UoW, principal: Coordinator) -> ReleaseOut:
    done = await _answer(handlers.release(caller_of(principal, request), uow, cohort_id))
    return ReleaseOut(released=done.released, awaiting_moderation=done.awaiting_moderation)


# Prize nominations.


@router.post(
    "/projects/{project_id}/nominations",
    status_code=status.HTTP_201_CREATED,
    summary="Nominate a showcased project of your cohort for the prize (supervisors, coordinators), saying why",
    description="One nomination per person per project. Publishes `projects.project.nominated_for_prize.v1` "
    "(the count, not the reason).",
    responses={**NO_PROJECT, **_refused("Nominated by you already, or not showcased yet"), **INVALID},
)
async def nominate(
    project_id: uuid.UUID, body: NominationIn, request: Request, uow: UoW, principal: Staff
) -> NominationOut:
    nomination = await _answer(handlers.nominate(caller_of(principal, request), uow, project_id, body.reason))
    return NominationOut(
        project_id=nomination.project_id, reason=nomination.reason, nominated_at=nomination.nominated_at
    )


@router.get(
    "/cohorts/{cohort_id}/nominations",
    summary="The prize shortlist: the cohort's nominated projects, the most nominated first (coordinators)",
    responses=NO_COHORT,
)
async def shortlist(cohort_id: uuid.UUID, request: Request, uow: UoW, principal: Coordinator) -> list[ShortlistedOut]:
    found = await _answer(handlers.shortlist(caller_of(principal, request), uow, cohort_id))
    return [ShortlistedOut(**vars(entry)) for entry in found]


# Reflections.


@router.put(
    "/projects/{project_id}/reflection",
    summary="Write or edit your own reflection on your group's project (its students)",
    description="At most 1000 words; editable until the project is assessed. Seen by you, the group's "
    "supervisors and coordinators only. Publishes `projects.project.reflection_written.v1` (no text).",
    responses={**NO_PROJECT, **_refused("The project is assessed, or not active"), **INVALID},
)
async def write_reflection(
    project_id: uuid.UUID, body: ReflectionIn, request: Request, uow: UoW, principal: Student
) -> ReflectionOut:
    caller = caller_of(principal, request)
    reflection = await _answer(handlers.write_reflection(caller, uow, project_id, body.text))
    return reflection_view(StudentReflection(reflection, university_id=principal.subject))


@router.get(
    "/projects/{project_id}/reflection",
    summary="Your own reflection on your group's project (its students)",
    responses=NO_PROJECT,
)
async def my_reflection(project_id: uuid.UUID, request: Request, uow: UoW, principal: Student) -> ReflectionOut:
    found = await _answer(handlers.reflections(caller_of(principal, request), uow, project_id))
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "you have not written a reflection on this project yet")
    return reflection_view(found[0])


@router.get(
    "/projects/{project_id}/reflections",
    summary="The students' reflections: all for the group's supervisors and coordinators, your own for a student",
    responses=NO_PROJECT,
)
async def list_reflections(project_id: uuid.UUID, request: Request, uow: UoW, principal: Anyone) -> list[ReflectionOut]:
    found = await _answer(handlers.reflections(caller_of(principal, request), uow, project_id))
    return [reflection_view(r) for r in found]


@router.get(
    "/projects/{project_id}/reflections/{student_id}",
    summary="One student's reflection (that student, the group's supervisors and coordinators)",
    responses=NO_PROJECT,
)
async def get_reflection(
    project_id: uuid.UUID, student_id: uuid.UUID, request: Request, uow: UoW, principal: Anyone
) -> ReflectionOut:
    found = await _answer(handlers.reflections(caller_of(principal, request), uow, project_id, student_id))
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such reflection")
    return reflection_view(found[0])
