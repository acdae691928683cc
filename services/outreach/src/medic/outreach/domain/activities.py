"""WATCCH activities: a cycle's workshops, work-experience placements, welcome and closing days and online
sessions; who is registered for each, who waits for a place, and who attended. No I/O.

Places: an activity has `capacity` places. A registration takes a free place (`registered`) or, when none is
free, joins the waitlist (`waitlisted`). When a registered participant cancels, their place goes at once, in the
same transaction, to the head of the waitlist. The waitlist is first come, first served: by when the participant
asked (then by id, for two requests in the same microsecond); nothing about the participant counts.

A work-experience placement is hosted at a GP practice or a hospital department and takes participants in pairs:
its capacity is even. Attendance is recorded for registered participants once the activity has started: present,
late, absent or withdrawn (left part-way), with the hours attended (a present participant attended the whole
activity unless told otherwise; an absent one none of it). Participants appear by their pseudonymous id only.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from medic.shared.contracts.outreach.activities import ActivityKind, Attendance, HostKind, RegistrationStatus

MAX_TITLE = 200
MAX_PLACE = 200
MAX_CAPACITY = 500
MAX_DURATION = timedelta(days=5)
HOURS_STEP = Decimal("0.25")
CENTS = Decimal("0.01")  # hours are shown with two decimals, however they were given


def as_hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(CENTS)


class InvalidActivity(ValueError):
    """Bad input; `field` names it (a 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ActivityConflict(Exception):
    """What the activity's or the registration's state does not allow now (a 409)."""


class ActivityNotFound(Exception):
    """No such activity, participant or registration (a 404)."""


def clean_text(value: str, field: str, max_length: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise InvalidActivity(field, "must not be blank")
    if len(text) > max_length:
        raise InvalidActivity(field, f"at most {max_length} characters")
    return text


@dataclass(frozen=True)
class Activity:
    id: uuid.UUID
    cycle_id: uuid.UUID
    kind: ActivityKind
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str  # a room, a practice or department's name, or the online platform
    host_kind: HostKind | None  # work experience only
    capacity: int
    places_taken: int = 0
    cancelled_at: datetime | None = None

    @classmethod
    def create(
        cls,
        *,
        cycle_id: uuid.UUID,
        kind: ActivityKind,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        place: str,
        host_kind: HostKind | None,
        capacity: int,
    ) -> "Activity":
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise InvalidActivity("starts_at" if starts_at.tzinfo is None else "ends_at", "give a time zone")
        if not starts_at < ends_at <= starts_at + MAX_DURATION:
            raise InvalidActivity("ends_at", f"after the start, and at most {MAX_DURATION.days} days later")
        if not 1 <= capacity <= MAX_CAPACITY:
            raise InvalidActivity("capacity", f"1 to {MAX_CAPACITY} places")
        if kind is ActivityKind.WORK_EXPERIENCE:
            if host_kind is None:
                raise InvalidActivity("host_kind", "a placement is hosted at a GP practice or a hospital department")
            if capacity % 2:
                raise InvalidActivity("capacity", "a placement takes participants in pairs: an even number")
        elif host_kind is not None:
            raise InvalidActivity("host_kind", "only a work-experience placement has a host")
        return cls(
            id=uuid.uuid4(),
            cycle_id=cycle_id,
            kind=kind,
            title=clean_text(title, "title", MAX_TITLE),
            starts_at=starts_at,
            ends_at=ends_at,
            place=clean_text(place, "place", MAX_PLACE),
            host_kind=host_kind,
            capacity=capacity,
        )

    @property
    def hours(self) -> Decimal:
        """The activity's length in hours, to the quarter hour below."""
        quarters = int((self.ends_at - self.starts_at) / timedelta(minutes=15))
        return (HOURS_STEP * quarters).quantize(CENTS)

    @property
    def free_places(self) -> int:
        return self.capacity - self.places_taken

    def refuse_if_cancelled(self) -> None:
        if self.cancelled_at is not None:
            raise ActivityConflict("the activity is cancelled")

    def with_capacity(self, capacity: int) -> "Activity":
        """Another number of places: never fewer than the registered hold, even for a placement (pairs)."""
        self.refuse_if_cancelled()
        if not 1 <= capacity <= MAX_CAPACITY:
            raise InvalidActivity("capacity", f"1 to {MAX_CAPACITY} places")
        if self.kind is ActivityKind.WORK_EXPERIENCE and capacity % 2:
            raise InvalidActivity("capacity", "a placement takes participants in pairs: an even number")
        if capacity < self.places_taken:
            raise ActivityConflict(
                f"{self.places_taken} participants hold places: cancel registrations before going below that"
            )
        return replace(self, capacity=capacity)


@dataclass(frozen=True)
class Registration:
    activity_id: uuid.UUID
    participant_id: uuid.UUID
    status: RegistrationStatus
    asked_at: datetime  # the waitlist's order
    attendance: Attendance | None = None
    hours: Decimal | None = None
    pair: int | None = None  # work experience: the pair the participant is placed in (1, 2, ...)


def attended_hours(activity: Activity, attendance: Attendance, hours: Decimal | None, now: datetime) -> Decimal:
    """The hours to record for `attendance`, checked against the activity; refused before it starts."""
    if now < activity.starts_at:
        raise ActivityConflict("attendance is recorded once the activity has started")
    if attendance is Attendance.ABSENT:
        if hours not in (None, Decimal(0)):
            raise InvalidActivity("hours", "an absent participant attended no hours")
        return Decimal(0).quantize(CENTS)
    if hours is None:
        if attendance is Attendance.PRESENT:
            return activity.hours
        raise InvalidActivity("hours", f"say how many hours a {attendance.value} participant attended")
    if hours < 0 or hours > activity.hours or hours % HOURS_STEP:
        raise InvalidActivity("hours", f"0 to {activity.hours} hours, in quarter hours")
    return hours.quantize(CENTS)


def check_pairs(activity: Activity, pairs: list[list[uuid.UUID]], registered: set[uuid.UUID]) -> None:
    """Pairs for a placement: each of two registered participants, nobody in two pairs."""
    activity.refuse_if_cancelled()
    if activity.kind is not ActivityKind.WORK_EXPERIENCE:
        raise ActivityConflict("only a work-experience placement takes participants in pairs")
    seen: set[uuid.UUID] = set()
    for number, pair in enumerate(pairs):
        if len(pair) != 2:
            raise InvalidActivity(f"pairs.{number}", "a pair is two participants")
        for participant in pair:
            if participant in seen:
                raise InvalidActivity(f"pairs.{number}", f"participant {participant} is in two pairs")
            if participant not in registered:
                raise InvalidActivity(f"pairs.{number}", f"participant {participant} holds no place on the placement")
            seen.add(participant)
