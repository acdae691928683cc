"""Request and response bodies of the activities API, and how its errors become HTTP answers."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict

from medic.outreach.domain.activities import (
    MAX_CAPACITY,
    MAX_PLACE,
    MAX_TITLE,
    Activity,
    ActivityConflict,
    ActivityNotFound,
    InvalidActivity,
    Registration,
)
from medic.outreach.service_layer.activities import ActivityView
from medic.shared.contracts.outreach.activities import ActivityKind, Attendance, HostKind, RegistrationStatus
from medic.shared.http_fields import VISIBLE_TEXT
from medic.shared.openapi import ErrorOut, FieldErrorsOut


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cycle_id: uuid.UUID = Field(examples=["0b4f3c6e-2f7a-4c1e-9a57-3f0d2c9b8e11"], description="The WATCCH cycle")
    kind: ActivityKind = Field(examples=["workshop"])
    title: Annotated[str, Field(max_length=MAX_TITLE, pattern=VISIBLE_TEXT)] = Field(
        examples=["Personal statements that work"]
    )
    starts_at: AwareDatetime = Field(examples=["2027-02-06T10:00:00Z"])
    ends_at: AwareDatetime = Field(examples=["2027-02-06T15:30:00Z"])
    place: Annotated[str, Field(max_length=MAX_PLACE, pattern=VISIBLE_TEXT)] = Field(
        examples=["Lecture theatre 2, Medical School"],
        description="A room; the GP practice or hospital department of a placement; the platform of an online one",
    )
    host_kind: HostKind | None = Field(
        default=None, examples=[None], description="Work experience only: `gp_practice` or `hospital_department`"
    )
    capacity: int = Field(ge=1, le=MAX_CAPACITY, examples=[20], description="Places; even for a placement (pairs)")


class ActivityOut(BaseModel):
    id: uuid.UUID
    cycle_id: uuid.UUID
    kind: ActivityKind
    title: str
    starts_at: datetime
    ends_at: datetime
    hours: Decimal = Field(description="The activity's length, in quarter hours")
    place: str
    host_kind: HostKind | None
    capacity: int
    places_taken: int = Field(description="Registered participants")
    waitlisted: int
    cancelled_at: datetime | None = Field(description="When the activity was cancelled, if it was")

    @classmethod
    def of(cls, view: ActivityView) -> "ActivityOut":
        a = view.activity
        return cls(
            id=a.id,
            cycle_id=a.cycle_id,
            kind=a.kind,
            title=a.title,
            starts_at=a.starts_at,
            ends_at=a.ends_at,
            hours=a.hours,
            place=a.place,
            host_kind=a.host_kind,
            capacity=a.capacity,
            places_taken=a.places_taken,
            waitlisted=view.waitlisted,
            cancelled_at=a.cancelled_at,
        )


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: uuid.UUID = Field(
        examples=["5d9e1f7a-8b2c-4e3d-a1f0-6c7b8d9e0f12"], description="The participant's pseudonymous id"
    )


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attendance: Attendance = Field(examples=["present"])
    hours: Annotated[float, Strict()] | None = Field(
        default=None,
        ge=0,
        le=120,
        multiple_of=0.25,
        examples=[4.75],
        description="Hours attended, in quarter hours; left out: all of it when present, none when absent",
    )


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: int = Field(ge=1, le=MAX_CAPACITY, examples=[24], description="Places; even for a placement (pairs)")


ParticipantPair = Annotated[list[uuid.UUID], Field(min_length=2, max_length=2)]


class PairsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pairs: list[ParticipantPair] = Field(
        max_length=MAX_CAPACITY // 2,
        examples=[[["5d9e1f7a-8b2c-4e3d-a1f0-6c7b8d9e0f12", "6e0f2a8b-9c3d-4f4e-b2a1-7d8c9e0f1a23"]]],
        description="Pseudonymous ids, two per pair, numbered 1, 2, ... in this order; replaces earlier pairs",
    )


class RegistrationOut(BaseModel):
    activity_id: uuid.UUID
    participant_id: uuid.UUID
    status: RegistrationStatus
    asked_at: datetime = Field(description="When the participant asked: the waitlist's order")
    attendance: Attendance | None
    hours: Decimal | None
    pair: int | None = Field(description="Work experience: the pair the participant is placed in (1, 2, ...)")

    @classmethod
    def of(cls, registration: Registration) -> "RegistrationOut":
        return cls(**vars(registration))


class CapacityOut(BaseModel):
    activity: ActivityOut
    promoted: list[RegistrationOut] = Field(description="Who got the new places from the waitlist, in order")


class CancellationOut(BaseModel):
    registration: RegistrationOut
    promoted: RegistrationOut | None = Field(description="Who got the freed place from the waitlist, if anyone")


class HistoryEntryOut(BaseModel):
    activity_id: uuid.UUID
    cycle_id: uuid.UUID
    kind: ActivityKind
    title: str
    starts_at: datetime
    ends_at: datetime
    status: RegistrationStatus
    attendance: Attendance | None
    hours: Decimal | None
    activity_cancelled: bool

    @classmethod
    def of(cls, activity: Activity, registration: Registration) -> "HistoryEntryOut":
        return cls(
            activity_id=activity.id,
            cycle_id=activity.cycle_id,
            kind=activity.kind,
            title=activity.title,
            starts_at=activity.starts_at,
            ends_at=activity.ends_at,
            status=registration.status,
            attendance=registration.attendance,
            hours=registration.hours,
            activity_cancelled=activity.cancelled_at is not None,
        )


class HistoryOut(BaseModel):
    participant_id: uuid.UUID
    activities: list[HistoryEntryOut]
    attended: int = Field(description="Activities attended (present or late, or withdrawn part-way)")
    hours: Decimal = Field(description="Hours attended in all")


@contextmanager
def answering_errors(contradictions: frozenset[str] = frozenset()) -> Iterator[None]:
    """Bad input 422 naming the field, what the state does not allow 409, unknown objects 404.

    A field in `contradictions` is one the schema lets through but that contradicts another field or the
    object's state (a host for a workshop, an odd capacity for a placement): 409, still naming the field.
    """
    try:
        yield
    except ActivityNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except ActivityConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except InvalidActivity as error:
        loc = [int(part) if part.isdigit() else part for part in error.field.split(".")]
        detail = [{"loc": ["body", *loc], "msg": str(error), "type": "value_error"}]
        code = status.HTTP_409_CONFLICT if error.field in contradictions else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, detail) from None


def responses(*codes: int, contradictions: bool = False) -> dict[int | str, dict[str, Any]]:
    """`contradictions`: the 409 may also name a field (see `answering_errors`), in the 422's shape."""
    described: dict[int, tuple[object, str]] = {
        404: (ErrorOut, "No such activity, cycle, participant or registration"),
        409: (ErrorOut, "Not allowed in the current state: the reason is the detail"),
        422: (FieldErrorsOut, "Bad input: `loc` names the field"),
    }
    if contradictions:
        described[409] = (
            ErrorOut | FieldErrorsOut,
            "A field contradicts another or the current state (`loc` names it), or the state's reason as the detail",
        )
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
