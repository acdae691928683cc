"""Commands about WATCCH activities."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from medic.shared.contracts.outreach.activities import ActivityKind, Attendance, HostKind


@dataclass(frozen=True)
class ScheduleActivity:
    cycle_id: uuid.UUID
    kind: ActivityKind
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    host_kind: HostKind | None
    capacity: int
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class Register:
    activity_id: uuid.UUID
    participant_id: uuid.UUID
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class CancelRegistration:
    activity_id: uuid.UUID
    participant_id: uuid.UUID
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class ChangeCapacity:
    activity_id: uuid.UUID
    capacity: int
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class CancelActivity:
    activity_id: uuid.UUID
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class AssignPairs:
    activity_id: uuid.UUID
    pairs: list[list[uuid.UUID]]
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class RecordAttendance:
    activity_id: uuid.UUID
    participant_id: uuid.UUID
    attendance: Attendance
    hours: Decimal | None
    correlation_id: uuid.UUID
