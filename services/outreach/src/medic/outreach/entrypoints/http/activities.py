"""HTTP API: WATCCH activities, registrations with their waitlist, attendance, and a participant's history.

Coordinators do everything; students (medical students, who help run activities) read the activities, not who
registered. Participants appear by their pseudonymous id only.
"""

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.activity_commands import (
    AssignPairs,
    CancelActivity,
    CancelRegistration,
    ChangeCapacity,
    RecordAttendance,
    Register,
    ScheduleActivity,
)
from medic.outreach.service_layer import activities as handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.contracts.outreach.activities import ActivityKind, Attendance
from medic.shared.http import correlation_id_from

from .activity_models import (
    ActivityIn,
    ActivityOut,
    AttendanceIn,
    CancellationOut,
    CapacityIn,
    CapacityOut,
    HistoryEntryOut,
    HistoryOut,
    PairsIn,
    RegistrationIn,
    RegistrationOut,
    answering_errors,
    responses,
)
from .dependencies import unit_of_work

router = APIRouter(tags=["activities"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Reader = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.STUDENT))]
ATTENDED = {Attendance.PRESENT, Attendance.LATE, Attendance.WITHDRAWN}


@router.post(
    "/activities",
    status_code=status.HTTP_201_CREATED,
    summary="Schedule an activity of a WATCCH cycle",
    description="Publishes `outreach.activity.scheduled.v1` (ids, kind and capacity; never the title or place).",
    responses=responses(404, 409, 422, contradictions=True),
)
async def schedule_activity(request: Request, body: ActivityIn, uow: UnitOfWork, _: Coordinator) -> ActivityOut:
    command = ScheduleActivity(**body.model_dump(), correlation_id=correlation_id_from(request))
    with answering_errors(contradictions=frozenset({"host_kind", "capacity", "ends_at"})):
        return ActivityOut.of(await handlers.schedule_activity(command, uow))


@router.get("/activities", summary="Activities, by start time")
async def list_activities(
    uow: UnitOfWork,
    _: Reader,
    cycle_id: uuid.UUID | None = None,
    kind: ActivityKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ActivityOut]:
    found = await handlers.list_activities(uow, cycle_id=cycle_id, kind=kind, limit=limit, offset=offset)
    return [ActivityOut.of(view) for view in found]


@router.get("/activities/{activity_id}", summary="An activity", responses=responses(404))
async def get_activity(activity_id: uuid.UUID, uow: UnitOfWork, _: Reader) -> ActivityOut:
    with answering_errors():
        return ActivityOut.of(await handlers.get_activity(activity_id, uow))


@router.put(
    "/activities/{activity_id}/capacity",
    summary="Change an activity's places; new places go to the head of the waitlist at once",
    description="Never below the places registered participants hold (409); even for a placement. Publishes "
    "`outreach.activity.capacity_changed.v1`, and `...registration_confirmed.v1` (`from_waitlist: true`) for each "
    "participant promoted. The same capacity again changes nothing.",
    responses=responses(404, 409, 422, contradictions=True),
)
async def change_capacity(
    request: Request, activity_id: uuid.UUID, body: CapacityIn, uow: UnitOfWork, _: Coordinator
) -> CapacityOut:
    command = ChangeCapacity(activity_id, body.capacity, correlation_id_from(request))
    with answering_errors(contradictions=frozenset({"capacity"})):
        view, promoted = await handlers.change_capacity(command, uow)
    return CapacityOut(activity=ActivityOut.of(view), promoted=[RegistrationOut.of(r) for r in promoted])


@router.post(
    "/activities/{activity_id}/cancellation",
    summary="Cancel an activity",
    description="Refused (409) once attendance is recorded; cancelling again changes nothing. Registrations stay as "
    "they were; nobody can register or be recorded any more. Publishes `outreach.activity.cancelled.v1`.",
    responses=responses(404, 409),
)
async def cancel_activity(request: Request, activity_id: uuid.UUID, uow: UnitOfWork, _: Coordinator) -> ActivityOut:
    with answering_errors():
        return ActivityOut.of(
            await handlers.cancel_activity(CancelActivity(activity_id, correlation_id_from(request)), uow)
        )


@router.put(
    "/activities/{activity_id}/pairs",
    summary="Put a work-experience placement's registered participants in pairs",
    description="Replaces earlier pairs; participants left out are in no pair, and a cancelled registration leaves "
    "its pair. Publishes `outreach.activity.pairs_assigned.v1` (pseudonymous ids).",
    responses=responses(404, 409, 422),
)
async def assign_pairs(
    request: Request, activity_id: uuid.UUID, body: PairsIn, uow: UnitOfWork, _: Coordinator
) -> list[RegistrationOut]:
    command = AssignPairs(activity_id, body.pairs, correlation_id_from(request))
    with answering_errors():
        return [RegistrationOut.of(r) for r in await handlers.assign_pairs(command, uow)]


@router.post(
    "/activities/{activity_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    summary="Register a participant: a place if one is free, else the waitlist",
    description="Only participants enrolled in the activity's cycle. Asking again while registered or waitlisted "
    "changes nothing. Publishes `outreach.activity.registration_confirmed.v1` or `...registration_waitlisted.v1`.",
    responses=responses(404, 409),
)
async def register(
    request: Request, activity_id: uuid.UUID, body: RegistrationIn, uow: UnitOfWork, _: Coordinator
) -> RegistrationOut:
    command = Register(activity_id, body.participant_id, correlation_id_from(request))
    with answering_errors():
        return RegistrationOut.of(await handlers.register(command, uow))


@router.get(
    "/activities/{activity_id}/registrations",
    summary="Who is registered, then the waitlist in its order, then the cancelled",
    responses=responses(404),
)
async def registrations(activity_id: uuid.UUID, uow: UnitOfWork, _: Coordinator) -> list[RegistrationOut]:
    with answering_errors():
        return [RegistrationOut.of(r) for r in await handlers.registrations(activity_id, uow)]


@router.post(
    "/activities/{activity_id}/registrations/{participant_id}/cancellation",
    summary="Cancel a registration; a freed place goes to the head of the waitlist",
    description="Publishes `outreach.activity.registration_cancelled.v1`, and "
    "`...registration_confirmed.v1` (`from_waitlist: true`) for the participant promoted.",
    responses=responses(404, 409),
)
async def cancel_registration(
    request: Request, activity_id: uuid.UUID, participant_id: uuid.UUID, uow: UnitOfWork, _: Coordinator
) -> CancellationOut:
    command = CancelRegistration(activity_id, participant_id, correlation_id_from(request))
    with answering_errors():
        change = await handlers.cancel_registration(command, uow)
    promoted = None if change.promoted is None else RegistrationOut.of(change.promoted)
    return CancellationOut(registration=RegistrationOut.of(change.registration), promoted=promoted)


@router.put(
    "/activities/{activity_id}/attendance/{participant_id}",
    summary="Record (or correct) a registered participant's attendance",
    description="Once the activity has started. Publishes `outreach.activity.attendance_recorded.v1`.",
    responses=responses(404, 409, 422, contradictions=True),
)
async def record_attendance(
    request: Request,
    activity_id: uuid.UUID,
    participant_id: uuid.UUID,
    body: AttendanceIn,
    uow: UnitOfWork,
    _: Coordinator,
) -> RegistrationOut:
    hours = None if body.hours is None else Decimal(str(body.hours))
    command = RecordAttendance(activity_id, participant_id, body.attendance, hours, correlation_id_from(request))
    with answering_errors(contradictions=frozenset({"hours"})):
        return RegistrationOut.of(await handlers.record_attendance(command, uow))


@router.get(
    "/participants/{participant_id}/activities",
    summary="A participant's activity history, with attendance and hours",
    responses=responses(404),
)
async def history(participant_id: uuid.UUID, uow: UnitOfWork, _: Coordinator) -> HistoryOut:
    with answering_errors():
        found = await handlers.history(participant_id, uow)
    attended = [registration for _activity, registration in found if registration.attendance in ATTENDED]
    return HistoryOut(
        participant_id=participant_id,
        activities=[HistoryEntryOut.of(activity, registration) for activity, registration in found],
        attended=len(attended),
        hours=sum((r.hours or Decimal(0) for r in attended), Decimal(0)),
    )
