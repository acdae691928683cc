"""WATCCH activities: workshops, work-experience placements, welcome and closing days, online sessions.

Events carry ids, counts and states only: the activity, its cycle and kind, places and waitlist counts, and a
participant by their pseudonymous id with their registration's or attendance's state. Never an activity's title
or place, never a name or any free text.
"""

import uuid
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class ActivityKind(StrEnum):
    WORKSHOP = "workshop"
    WORK_EXPERIENCE = "work_experience"
    WELCOME_DAY = "welcome_day"
    CLOSING_DAY = "closing_day"
    ONLINE_SESSION = "online_session"


class HostKind(StrEnum):
    """Where a work-experience placement is hosted."""

    GP_PRACTICE = "gp_practice"
    HOSPITAL_DEPARTMENT = "hospital_department"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"  # holds a place
    WAITLISTED = "waitlisted"  # waits for one
    CANCELLED = "cancelled"  # gave up their place or their turn


class Attendance(StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    WITHDRAWN = "withdrawn"  # left part-way


class ActivityV1(EventPayload):
    """What every activity event carries: which activity, in which WATCCH cycle."""

    source: ClassVar[str] = SOURCE

    activity_id: uuid.UUID = Field(description="The activity's id in outreach.")
    cycle_id: uuid.UUID = Field(description="The WATCCH cycle it belongs to.")
    kind: ActivityKind


class ActivityScheduledV1(ActivityV1):
    """A coordinator scheduled an activity."""

    event_type: ClassVar[str] = "outreach.activity.scheduled.v1"

    capacity: int = Field(description="Places.", examples=[20])


class RegistrationV1(ActivityV1):
    """What every registration event carries: the participant, their registration's state, and the counts after."""

    participant_id: uuid.UUID = Field(description="The participant's pseudonymous id.")
    status: RegistrationStatus
    places_taken: int = Field(description="Registered participants after this change.", examples=[12])
    waitlisted: int = Field(description="Participants on the waitlist after this change.", examples=[0])


class RegistrationConfirmedV1(RegistrationV1):
    """A participant has a place: straight away, or promoted from the waitlist when a place freed."""

    event_type: ClassVar[str] = "outreach.activity.registration_confirmed.v1"

    from_waitlist: bool = Field(description="True when the place came by promotion from the waitlist.")


class RegistrationWaitlistedV1(RegistrationV1):
    """A participant asked for a place when none was free and waits for one."""

    event_type: ClassVar[str] = "outreach.activity.registration_waitlisted.v1"


class RegistrationCancelledV1(RegistrationV1):
    """A participant gave up their place or their turn on the waitlist."""

    event_type: ClassVar[str] = "outreach.activity.registration_cancelled.v1"


class AttendanceRecordedV1(ActivityV1):
    """A participant's attendance was recorded (or corrected: the newest event is the record)."""

    event_type: ClassVar[str] = "outreach.activity.attendance_recorded.v1"

    participant_id: uuid.UUID = Field(description="The participant's pseudonymous id.")
    attendance: Attendance
    hours: float = Field(description="Hours attended, in quarter hours.", examples=[5.5])


class ActivityCapacityChangedV1(ActivityV1):
    """The activity's places changed (never below the registered); new places went to the waitlist's head, each
    with its own `registration_confirmed` event."""

    event_type: ClassVar[str] = "outreach.activity.capacity_changed.v1"

    capacity: int = Field(examples=[24])
    places_taken: int = Field(description="Registered participants after the change.", examples=[24])
    waitlisted: int = Field(description="Participants on the waitlist after the change.", examples=[3])


class ActivityCancelledV1(ActivityV1):
    """The activity will not take place; its registrations stay as they were, for the record."""

    event_type: ClassVar[str] = "outreach.activity.cancelled.v1"

    places_taken: int = Field(description="Participants who held places.", examples=[18])
    waitlisted: int = Field(description="Participants who were waiting.", examples=[0])


class PairsAssignedV1(ActivityV1):
    """A work-experience placement's participants were put in pairs (replacing any earlier pairs)."""

    event_type: ClassVar[str] = "outreach.activity.pairs_assigned.v1"

    pairs: list[tuple[uuid.UUID, uuid.UUID]] = Field(description="Pseudonymous ids, two per pair.")


PUBLISHED: tuple[type[EventPayload], ...] = (
    ActivityScheduledV1,
    ActivityCapacityChangedV1,
    ActivityCancelledV1,
    PairsAssignedV1,
    RegistrationConfirmedV1,
    RegistrationWaitlistedV1,
    RegistrationCancelledV1,
    AttendanceRecordedV1,
)
