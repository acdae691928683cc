"""Use cases about WATCCH activities: schedule, register (or join the waitlist), cancel (and promote the next on
the waitlist), record attendance, read a participant's history. One unit of work each; events in the outbox in
the same transaction.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.activities import (
    Activity,
    ActivityConflict,
    ActivityNotFound,
    Registration,
    attended_hours,
)
from medic.outreach.domain.activity_commands import CancelRegistration, RecordAttendance, Register, ScheduleActivity
from medic.shared.contracts.outreach.activities import (
    ActivityKind,
    ActivityScheduledV1,
    AttendanceRecordedV1,
    RegistrationCancelledV1,
    RegistrationConfirmedV1,
    RegistrationStatus,
    RegistrationV1,
    RegistrationWaitlistedV1,
)
from medic.shared.events import Envelope, EventPayload


@dataclass(frozen=True)
class ActivityView:
    activity: Activity
    waitlisted: int


@dataclass(frozen=True)
class RegistrationChange:
    """A registration after a request, and the participant promoted from the waitlist by it, if any."""

    registration: Registration
    promoted: Registration | None = None


async def _publish(
    uow: OutreachUnitOfWork, payload: EventPayload, activity: Activity, correlation_id: uuid.UUID
) -> None:
    await uow.publish(Envelope.wrap(payload, subject=f"activities/{activity.id}", correlation_id=correlation_id))


async def _publish_registration(
    uow: OutreachUnitOfWork,
    kind: type[RegistrationV1],
    activity_id: uuid.UUID,
    registration: Registration,
    correlation_id: uuid.UUID,
    **extra: bool,
) -> None:
    """With the counts as they are now, after the change."""
    activity = await _activity(uow, activity_id)
    payload = kind(
        activity_id=activity.id,
        cycle_id=activity.cycle_id,
        kind=activity.kind,
        participant_id=registration.participant_id,
        status=registration.status,
        places_taken=activity.places_taken,
        waitlisted=await uow.activities.waitlisted(activity.id),
        **extra,
    )
    await _publish(uow, payload, activity, correlation_id)


async def _activity(uow: OutreachUnitOfWork, activity_id: uuid.UUID) -> Activity:
    activity = await uow.activities.get(activity_id)
    if activity is None:
        raise ActivityNotFound(f"no activity {activity_id}")
    return activity


async def schedule_activity(command: ScheduleActivity, uow: OutreachUnitOfWork) -> ActivityView:
    activity = Activity.create(
        cycle_id=command.cycle_id,
        kind=command.kind,
        title=command.title,
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        place=command.place,
        host_kind=command.host_kind,
        capacity=command.capacity,
    )
    async with uow:
        if await uow.watcch.cycle(command.cycle_id) is None:
            raise ActivityNotFound(f"no WATCCH cycle {command.cycle_id}")
        await uow.activities.add(activity, now=datetime.now(UTC))
        payload = ActivityScheduledV1(
            activity_id=activity.id, cycle_id=activity.cycle_id, kind=activity.kind, capacity=activity.capacity
        )
        await _publish(uow, payload, activity, command.correlation_id)
        await uow.commit()
    return ActivityView(activity, 0)


async def get_activity(activity_id: uuid.UUID, uow: OutreachUnitOfWork) -> ActivityView:
    async with uow:
        activity = await _activity(uow, activity_id)
        return ActivityView(activity, await uow.activities.waitlisted(activity_id))


async def list_activities(
    uow: OutreachUnitOfWork, *, cycle_id: uuid.UUID | None, kind: ActivityKind | None, limit: int, offset: int
) -> Sequence[ActivityView]:
    async with uow:
        found = await uow.activities.list(cycle_id=cycle_id, kind=kind, limit=limit, offset=offset)
        return [ActivityView(a, await uow.activities.waitlisted(a.id)) for a in found]


async def register(command: Register, uow: OutreachUnitOfWork) -> Registration:
    """A place if one is free, else the end of the waitlist. Registering again while registered or waitlisted
    changes nothing; after a cancellation it asks anew (at the end of the waitlist if the activity is full)."""
    async with uow:
        activity = await uow.activities.lock(command.activity_id)
        if activity is None:
            raise ActivityNotFound(f"no activity {command.activity_id}")
        if not await uow.watcch.participant_exists(command.participant_id):
            raise ActivityNotFound(f"no participant {command.participant_id}")
        if not await uow.watcch.is_enrolled(command.participant_id, activity.cycle_id):
            raise ActivityConflict("only participants enrolled in the activity's cycle can register")
        before = await uow.activities.registration(activity.id, command.participant_id)
        if before is not None and before.status is not RegistrationStatus.CANCELLED:
            return before
        now = datetime.now(UTC)
        placed = await uow.activities.take_place(activity.id)
        status = RegistrationStatus.REGISTERED if placed else RegistrationStatus.WAITLISTED
        registration = Registration(activity.id, command.participant_id, status, asked_at=now)
        await uow.activities.save_registration(registration, now=now, new=before is None)
        if placed:
            await _publish_registration(
                uow, RegistrationConfirmedV1, activity.id, registration, command.correlation_id, from_waitlist=False
            )
        else:
            await _publish_registration(
                uow, RegistrationWaitlistedV1, activity.id, registration, command.correlation_id
            )
        await uow.commit()
    return registration


async def cancel_registration(command: CancelRegistration, uow: OutreachUnitOfWork) -> RegistrationChange:
    """A registered participant's place goes to the head of the waitlist, in the same transaction."""
    async with uow:
        activity = await uow.activities.lock(command.activity_id)
        if activity is None:
            raise ActivityNotFound(f"no activity {command.activity_id}")
        before = await uow.activities.registration(activity.id, command.participant_id)
        if before is None:
            raise ActivityNotFound(f"participant {command.participant_id} has not registered for this activity")
        if before.status is RegistrationStatus.CANCELLED:
            return RegistrationChange(before)
        if before.attendance is not None:
            raise ActivityConflict("attendance is recorded: the registration can no longer be cancelled")
        now = datetime.now(UTC)
        cancelled = Registration(activity.id, before.participant_id, RegistrationStatus.CANCELLED, before.asked_at)
        await uow.activities.save_registration(cancelled, now=now, new=False)
        promoted = None
        if before.status is RegistrationStatus.REGISTERED:
            await uow.activities.free_place(activity.id)
            head = await uow.activities.head_of_waitlist(activity.id)
            if head is not None and await uow.activities.take_place(activity.id):
                promoted = Registration(activity.id, head.participant_id, RegistrationStatus.REGISTERED, head.asked_at)
                await uow.activities.save_registration(promoted, now=now, new=False)
        await _publish_registration(uow, RegistrationCancelledV1, activity.id, cancelled, command.correlation_id)
        if promoted is not None:
            await _publish_registration(
                uow, RegistrationConfirmedV1, activity.id, promoted, command.correlation_id, from_waitlist=True
            )
        await uow.commit()
    return RegistrationChange(cancelled, promoted)


async def record_attendance(command: RecordAttendance, uow: OutreachUnitOfWork) -> Registration:
    """For a registered participant, once the activity has started; recording again corrects the record."""
    async with uow:
        activity = await uow.activities.lock(command.activity_id)
        if activity is None:
            raise ActivityNotFound(f"no activity {command.activity_id}")
        before = await uow.activities.registration(activity.id, command.participant_id)
        if before is None:
            raise ActivityNotFound(f"participant {command.participant_id} has not registered for this activity")
        if before.status is not RegistrationStatus.REGISTERED:
            raise ActivityConflict(f"the participant is {before.status.value}, not registered")
        now = datetime.now(UTC)
        hours = attended_hours(activity, command.attendance, command.hours, now)
        recorded = Registration(
            activity.id, before.participant_id, before.status, before.asked_at, command.attendance, hours
        )
        await uow.activities.save_registration(recorded, now=now, new=False)
        payload = AttendanceRecordedV1(
            activity_id=activity.id,
            cycle_id=activity.cycle_id,
            kind=activity.kind,
            participant_id=recorded.participant_id,
            attendance=command.attendance,
            hours=float(hours),
        )
        await _publish(uow, payload, activity, command.correlation_id)
        await uow.commit()
    return recorded


async def registrations(activity_id: uuid.UUID, uow: OutreachUnitOfWork) -> Sequence[Registration]:
    async with uow:
        await _activity(uow, activity_id)
        return await uow.activities.registrations(activity_id)


async def history(participant_id: uuid.UUID, uow: OutreachUnitOfWork) -> Sequence[tuple[Activity, Registration]]:
    async with uow:
        if not await uow.watcch.participant_exists(participant_id):
            raise ActivityNotFound(f"no participant {participant_id}")
        return await uow.activities.history(participant_id)
