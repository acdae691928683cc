"""Reading and writing activities and their registrations.

Every change to an activity's registrations first locks the activity's row (`lock`), so registrations,
cancellations and promotions of one activity happen one after another, and the waitlist a cancellation
promotes from includes every registration committed before it. Places are taken by a conditional update
(`places_taken < capacity`) as well, so the count can never pass the capacity.

Cycles, participants and applications belong to WATCCH (migration 0006): the service layer asks WATCCH's
repository (`uow.watcch`) whether a cycle or participant exists and whether a participant is enrolled.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_activities import activities, activity_registrations
from medic.outreach.domain.activities import Activity, Registration, as_hours
from medic.shared.contracts.outreach.activities import ActivityKind, Attendance, HostKind, RegistrationStatus

REGISTRATION_ORDER = (activity_registrations.c.asked_at, activity_registrations.c.participant_id)


def _activity(row: Row[Any]) -> Activity:
    return Activity(
        id=row.id,
        cycle_id=row.cycle_id,
        kind=ActivityKind(row.kind),
        title=row.title,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        place=row.place,
        host_kind=HostKind(row.host_kind) if row.host_kind else None,
        capacity=row.capacity,
        places_taken=row.places_taken,
        cancelled_at=row.cancelled_at,
    )


def _registration(row: Row[Any]) -> Registration:
    return Registration(
        activity_id=row.activity_id,
        participant_id=row.participant_id,
        status=RegistrationStatus(row.status),
        asked_at=row.asked_at,
        attendance=Attendance(row.attendance) if row.attendance else None,
        hours=None if row.attended_minutes is None else as_hours(row.attended_minutes),
        pair=row.pair,
    )


class ActivityRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, activity: Activity, *, now: datetime) -> None:
        values = {
            "id": activity.id,
            "cycle_id": activity.cycle_id,
            "kind": activity.kind.value,
            "title": activity.title,
            "starts_at": activity.starts_at,
            "ends_at": activity.ends_at,
            "place": activity.place,
            "host_kind": activity.host_kind.value if activity.host_kind else None,
            "capacity": activity.capacity,
            "places_taken": 0,
            "created_at": now,
        }
        await self._connection.execute(insert(activities).values(values))

    async def get(self, activity_id: uuid.UUID) -> Activity | None:
        row = (await self._connection.execute(select(activities).where(activities.c.id == activity_id))).first()
        return None if row is None else _activity(row)

    async def lock(self, activity_id: uuid.UUID) -> Activity | None:
        """The activity, its row locked until the transaction ends (PostgreSQL; SQLite serialises writers)."""
        query = select(activities).where(activities.c.id == activity_id).with_for_update()
        row = (await self._connection.execute(query)).first()
        return None if row is None else _activity(row)

    async def list(
        self, *, cycle_id: uuid.UUID | None, kind: ActivityKind | None, limit: int, offset: int
    ) -> Sequence[Activity]:
        query = select(activities).order_by(activities.c.starts_at, activities.c.id).limit(limit).offset(offset)
        if cycle_id is not None:
            query = query.where(activities.c.cycle_id == cycle_id)
        if kind is not None:
            query = query.where(activities.c.kind == kind.value)
        return [_activity(row) for row in await self._connection.execute(query)]

    async def take_place(self, activity_id: uuid.UUID) -> bool:
        """One more place taken, unless the activity is full: True if taken."""
        result = await self._connection.execute(
            update(activities)
            .where(activities.c.id == activity_id, activities.c.places_taken < activities.c.capacity)
            .values(places_taken=activities.c.places_taken + 1)
        )
        return result.rowcount == 1

    async def set_capacity(self, activity_id: uuid.UUID, capacity: int) -> None:
        await self._connection.execute(
            update(activities).where(activities.c.id == activity_id).values(capacity=capacity)
        )

    async def cancel(self, activity_id: uuid.UUID, *, now: datetime) -> None:
        await self._connection.execute(
            update(activities).where(activities.c.id == activity_id).values(cancelled_at=now)
        )

    async def attendance_recorded(self, activity_id: uuid.UUID) -> bool:
        query = select(activity_registrations.c.participant_id).where(
            activity_registrations.c.activity_id == activity_id, activity_registrations.c.attendance.is_not(None)
        )
        return (await self._connection.execute(query.limit(1))).first() is not None

    async def set_pairs(self, activity_id: uuid.UUID, pairs: dict[uuid.UUID, int], *, now: datetime) -> None:
        """Every registration of the activity: its pair in `pairs`, else none."""
        await self._connection.execute(
            update(activity_registrations)
            .where(activity_registrations.c.activity_id == activity_id, activity_registrations.c.pair.is_not(None))
            .values(pair=None, updated_at=now)
        )
        for participant_id, pair in pairs.items():
            await self._connection.execute(
                update(activity_registrations)
                .where(
                    activity_registrations.c.activity_id == activity_id,
                    activity_registrations.c.participant_id == participant_id,
                )
                .values(pair=pair, updated_at=now)
            )

    async def free_place(self, activity_id: uuid.UUID) -> None:
        await self._connection.execute(
            update(activities)
            .where(activities.c.id == activity_id, activities.c.places_taken > 0)
            .values(places_taken=activities.c.places_taken - 1)
        )

    async def registration(self, activity_id: uuid.UUID, participant_id: uuid.UUID) -> Registration | None:
        query = select(activity_registrations).where(
            activity_registrations.c.activity_id == activity_id,
            activity_registrations.c.participant_id == participant_id,
        )
        row = (await self._connection.execute(query)).first()
        return None if row is None else _registration(row)

    async def save_registration(self, registration: Registration, *, now: datetime, new: bool) -> None:
        minutes = None if registration.hours is None else int(registration.hours * 60)
        values = {
            "status": registration.status.value,
            "asked_at": registration.asked_at,
            "attendance": registration.attendance.value if registration.attendance else None,
            "attended_minutes": minutes,
            "pair": registration.pair,
            "updated_at": now,
        }
        if new:
            key = {"activity_id": registration.activity_id, "participant_id": registration.participant_id}
            await self._connection.execute(insert(activity_registrations).values(**key, **values))
            return
        await self._connection.execute(
            update(activity_registrations)
            .where(
                activity_registrations.c.activity_id == registration.activity_id,
                activity_registrations.c.participant_id == registration.participant_id,
            )
            .values(values)
        )

    async def head_of_waitlist(self, activity_id: uuid.UUID) -> Registration | None:
        query = (
            select(activity_registrations)
            .where(
                activity_registrations.c.activity_id == activity_id,
                activity_registrations.c.status == RegistrationStatus.WAITLISTED.value,
            )
            .order_by(*REGISTRATION_ORDER)
            .limit(1)
        )
        row = (await self._connection.execute(query)).first()
        return None if row is None else _registration(row)

    async def waitlisted(self, activity_id: uuid.UUID) -> int:
        query = select(func.count()).where(
            activity_registrations.c.activity_id == activity_id,
            activity_registrations.c.status == RegistrationStatus.WAITLISTED.value,
        )
        return int((await self._connection.execute(query)).scalar_one())

    async def registrations(self, activity_id: uuid.UUID) -> Sequence[Registration]:
        """Registered first, then the waitlist in its order, then the cancelled."""
        query = select(activity_registrations).where(activity_registrations.c.activity_id == activity_id)
        rank = {RegistrationStatus.REGISTERED: 0, RegistrationStatus.WAITLISTED: 1, RegistrationStatus.CANCELLED: 2}
        found = [_registration(row) for row in await self._connection.execute(query.order_by(*REGISTRATION_ORDER))]
        return sorted(found, key=lambda r: rank[r.status])

    async def history(self, participant_id: uuid.UUID) -> Sequence[tuple[Activity, Registration]]:
        """The participant's registrations with their activities, by the activity's start."""
        query = (
            select(activities, activity_registrations)
            .join(activity_registrations, activity_registrations.c.activity_id == activities.c.id)
            .where(activity_registrations.c.participant_id == participant_id)
            .order_by(activities.c.starts_at, activities.c.id)
        )
        return [(_activity(row), _registration(row)) for row in await self._connection.execute(query)]
