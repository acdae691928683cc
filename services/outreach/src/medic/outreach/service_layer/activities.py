"""Use cases about WATCCH activities: schedule, register (or join the waitlist), cancel (and promote the next on
the waitlist), record attendance, read a participant's history. One unit of work each; events in the outbox in
the same transaction.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.activities import (
    Activity,
    ActivityConflict,
    ActivityNotFound,
    Registration,
    attended_hours,
    check_pairs,
)
from medic.outreach.domain.activity_commands import (
    AssignPairs,
    CancelActivity,
    CancelRegistration,
    ChangeCapacity,
    RecordAttendance,
    Register,
    ScheduleActivity,
)
from medic.shared.contracts.outreach.activities import (
    ActivityCancelledV1,
    ActivityCapacityChangedV1,
    ActivityKind,
    ActivityScheduledV1,
    AttendanceRecordedV1,
    PairsAssignedV1,
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
        activity.refuse_if_cancelled()
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
        activity.refuse_if_cancelled()
        if before.attendance is not None:
            raise ActivityConflict("attendance is recorded: the registration can no longer be cancelled")
        change = await _cancel(uow, activity, before, datetime.now(UTC), command.correlation_id)
        await uow.commit()
    return change


async def _cancel(
    uow: OutreachUnitOfWork, activity: Activity, before: Registration, now: datetime, correlation_id: uuid.UUID
) -> RegistrationChange:
    """Cancels an open registration (the activity's row locked by the caller): a place it held goes to the head
    of the waitlist. Publishes registration_cancelled, then registration_confirmed for each promotion."""
    cancelled = Registration(activity.id, before.participant_id, RegistrationStatus.CANCELLED, before.asked_at)
    await uow.activities.save_registration(cancelled, now=now, new=False)
    promoted: list[Registration] = []
    if before.status is RegistrationStatus.REGISTERED:
        await uow.activities.free_place(activity.id)
        promoted = await _promote(uow, activity.id, now)
    await _publish_registration(uow, RegistrationCancelledV1, activity.id, cancelled, correlation_id)
    for registration in promoted:
        await _publish_registration(
            uow, RegistrationConfirmedV1, activity.id, registration, correlation_id, from_waitlist=True
        )
    return RegistrationChange(cancelled, promoted[0] if promoted else None)


async def release_participant(
    uow: OutreachUnitOfWork, participant_id: uuid.UUID, cycle_id: uuid.UUID, now: datetime, correlation_id: uuid.UUID
) -> list[RegistrationChange]:
    """A participant withdrawn from the cycle gives up their places and waitlist positions in the cycle's
    activities still to come (not started, not cancelled), as if each had been cancelled, in the caller's
    transaction: each activity's row is locked in turn and its freed place goes to the head of its waitlist.
    Activities that have started or were cancelled keep their registrations, for the record."""
    changes = []
    for activity, registration in await uow.activities.history(participant_id):
        if activity.cycle_id != cycle_id or registration.status is RegistrationStatus.CANCELLED:
            continue
        locked = await uow.activities.lock(activity.id)
        before = await uow.activities.registration(activity.id, participant_id)  # again, now that it is ours
        if locked is None or before is None or before.status is RegistrationStatus.CANCELLED:
            continue
        if locked.cancelled_at is not None or locked.starts_at <= now or before.attendance is not None:
            continue
        changes.append(await _cancel(uow, locked, before, now, correlation_id))
    return changes


async def _promote(uow: OutreachUnitOfWork, activity_id: uuid.UUID, now: datetime) -> list[Registration]:
    """The waitlist, in order, into each free place (the activity's row is locked). Someone whose application to
    the activity's cycle is no longer enrolled (completed, withdrawn) is passed over and keeps their entry."""
    activity = await _activity(uow, activity_id)
    promoted = []
    for head in await uow.activities.registrations(activity_id):
        if head.status is not RegistrationStatus.WAITLISTED:
            continue
        if not await uow.watcch.is_enrolled(head.participant_id, activity.cycle_id):
            continue
        if not await uow.activities.take_place(activity_id):
            break
        registration = Registration(activity_id, head.participant_id, RegistrationStatus.REGISTERED, head.asked_at)
        await uow.activities.save_registration(registration, now=now, new=False)
        promoted.append(registration)
    return promoted


async def change_capacity(command: ChangeCapacity, uow: OutreachUnitOfWork) -> tuple[ActivityView, list[Registration]]:
    """More places go to the head of the waitlist at once; fewer than the registered hold is 409."""
    async with uow:
        before = await uow.activities.lock(command.activity_id)
        if before is None:
            raise ActivityNotFound(f"no activity {command.activity_id}")
        after = before.with_capacity(command.capacity)
        if after.capacity == before.capacity:
            return ActivityView(before, await uow.activities.waitlisted(before.id)), []
        now = datetime.now(UTC)
        await uow.activities.set_capacity(after.id, after.capacity)
        promoted = await _promote(uow, after.id, now)
        for registration in promoted:
            await _publish_registration(
                uow, RegistrationConfirmedV1, after.id, registration, command.correlation_id, from_waitlist=True
            )
        activity = await _activity(uow, after.id)
        waitlisted = await uow.activities.waitlisted(after.id)
        payload = ActivityCapacityChangedV1(
            activity_id=activity.id,
            cycle_id=activity.cycle_id,
            kind=activity.kind,
            capacity=activity.capacity,
            places_taken=activity.places_taken,
            waitlisted=waitlisted,
        )
        await _publish(uow, payload, activity, command.correlation_id)
        await uow.commit()
    return ActivityView(activity, waitlisted), promoted


async def cancel_activity(command: CancelActivity, uow: OutreachUnitOfWork) -> ActivityView:
    """The activity will not take place: refused once attendance is recorded; cancelling again changes nothing.
    Registrations stay as they were, for the record; no one can register or be recorded any more."""
    async with uow:
        activity = await uow.activities.lock(command.activity_id)
        if activity is None:
            raise ActivityNotFound(f"no activity {command.activity_id}")
        waitlisted = await uow.activities.waitlisted(activity.id)
        if activity.cancelled_at is not None:
            return ActivityView(activity, waitlisted)
        if await uow.activities.attendance_recorded(activity.id):
            raise ActivityConflict("attendance is recorded: the activity took place")
        now = datetime.now(UTC)
        await uow.activities.cancel(activity.id, now=now)
        payload = ActivityCancelledV1(
            activity_id=activity.id,
            cycle_id=activity.cycle_id,
            kind=activity.kind,
            places_taken=activity.places_taken,
            waitlisted=waitlisted,
        )
        await _publish(uow, payload, activity, command.correlation_id)
        await uow.commit()
    return ActivityView(replace(activity, cancelled_at=now), waitlisted)


async def assign_pairs(command: AssignPairs, uow: OutreachUnitOfWork) -> Sequence[Registration]:
    """A placement's registered participants in pairs (numbered 1, 2, ... in the order given), replacing any
    earlier pairs; participants left out are in no pair. A cancelled registration leaves its pair."""
    async with uow:
        activity = await uow.activities.lock(command.activity_id)
        if activity is None:
            raise ActivityNotFound(f"no activity {command.activity_id}")
        found = await uow.activities.registrations(activity.id)
        registered = {r.participant_id for r in found if r.status is RegistrationStatus.REGISTERED}
        check_pairs(activity, command.pairs, registered)
        numbers = {p: number for number, pair in enumerate(command.pairs, start=1) for p in pair}
        await uow.activities.set_pairs(activity.id, numbers, now=datetime.now(UTC))
        after = await uow.activities.registrations(activity.id)
        payload = PairsAssignedV1(
            activity_id=activity.id,
            cycle_id=activity.cycle_id,
            kind=activity.kind,
            pairs=[(a, b) for a, b in command.pairs],
        )
        await _publish(uow, payload, activity, command.correlation_id)
        await uow.commit()
    return after


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
        activity.refuse_if_cancelled()
        now = datetime.now(UTC)
        hours = attended_hours(activity, command.attendance, command.hours, now)
        recorded = replace(before, attendance=command.attendance, hours=hours)
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
