"""Request and response bodies of the safeguarding API, and how its errors become HTTP answers.

A certificate number is accepted in a body only (never a path or a query, which are logged), checked by its pattern
(FastAPI's 422 names the field and the pattern, never the input), and never answered back: a check shows at most the
last four digits, to coordinators and the person.
"""

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from medic.outreach.domain.conditions import Unmet
from medic.outreach.domain.history import HistoryEvent
from medic.outreach.domain.safeguarding import (
    PERSON_ID_PATTERN,
    Action,
    ContactKind,
    DbsCheck,
    DbsLevel,
    InvalidSafeguarding,
    SafeguardingNotFound,
    SafeguardingRecord,
    SafeguardingRefused,
    SeenHow,
    StatusResult,
    Training,
    VoidReason,
    Workforce,
    check_options,
)
from medic.outreach.domain.safeguarding_clearance import Clearance
from medic.outreach.service_layer.safeguarding import PersonView
from medic.shared.http_fields import VISIBLE_TEXT, IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut

from .dependencies import UnmetOut

PersonId = Annotated[
    str,
    Field(pattern=PERSON_ID_PATTERN, description="Their university id (a student token's `sub`)", examples=["2301234"]),
]
CertificateNumber = Annotated[
    str,
    Field(pattern=r"^[0-9]{12}$", description="The DBS certificate number: 12 digits", examples=["001234567890"]),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonIn(Strict):
    person_id: PersonId
    full_name: str = Field(
        max_length=200,
        pattern=VISIBLE_TEXT,
        description="Kept apart as personal data; never published or logged",
        examples=["Sam Okafor"],
    )


class CheckIn(Strict):
    level: DbsLevel = Field(examples=["enhanced_barred_children"])
    workforce: Workforce = Field(examples=["child"])
    certificate_number: CertificateNumber
    issued_on: IsoDate = Field(description="The certificate's issue date (not in the future)", examples=["2026-09-01"])
    seen_how: SeenHow = Field(
        description="original_certificate, or update_service (then say when, and what it answered)",
        examples=["original_certificate"],
    )
    status_checked_on: IsoDate | None = Field(
        default=None,
        description="With update_service: the day of the status check (not before issue); else null",
        examples=[None, "2026-09-01"],
    )
    status_result: StatusResult | None = Field(
        default=None, description="With update_service: its answer; else null", examples=[None, "no_change"]
    )


class StatusCheckIn(Strict):
    checked_on: IsoDate = Field(description="The day of the status check", examples=["2026-10-01"])
    result: StatusResult = Field(examples=["no_change"])


class VoidIn(Strict):
    reason: VoidReason = Field(
        description="Why the check is void (a code: no free text)", examples=["recorded_in_error"]
    )


class CertificateIn(Strict):
    certificate_number: CertificateNumber


class RenewalIn(Strict):
    in_progress: bool = Field(description="A renewal in progress pauses recheck reminders", examples=[True])


class TrainingIn(Strict):
    completed_on: IsoDate = Field(examples=["2026-09-10"])
    expires_on: IsoDate = Field(description="The first day it is no longer in date", examples=["2029-09-10"])


class LeavingIn(Strict):
    left_on: IsoDate = Field(description="The day they left (or will leave) the programmes", examples=["2027-07-31"])


# --- answers ----------------------------------------------------------------------------------------------------


class StatusCheckOut(BaseModel):
    checked_on: date
    result: StatusResult
    recheck_due_on: date | None = Field(description="With no_change: the recheck is then due on this day")
    recorded_at: datetime
    recorded_by: str


class CheckOut(BaseModel):
    check_id: uuid.UUID
    level: DbsLevel
    workforce: Workforce
    issued_on: date
    seen_how: SeenHow
    recheck_due_on: date = Field(description="When a recheck is due, by the status checks made so far")
    status_checks: list[StatusCheckOut]
    voided: VoidReason | None = Field(description="The reason, if the check was voided (it then clears no one)")
    voided_at: datetime | None
    certificate_last_four: str | None = Field(
        description="The certificate number's last four digits (null once erased)", examples=["7890"]
    )
    recorded_at: datetime
    recorded_by: str
    actions: list[Action] = Field(description="What may be done to the check now")

    @classmethod
    def of(cls, record: SafeguardingRecord, check: DbsCheck, last_four: str | None) -> "CheckOut":
        return cls(
            check_id=check.check_id,
            level=check.level,
            workforce=check.workforce,
            issued_on=check.issued_on,
            seen_how=check.seen_how,
            recheck_due_on=check.due_on(date.max),
            status_checks=[StatusCheckOut(**vars(s)) for s in check.status_checks],
            voided=check.voided,
            voided_at=check.voided_at,
            certificate_last_four=last_four,
            recorded_at=check.recorded_at,
            recorded_by=check.recorded_by,
            actions=check_options(record, check),
        )


class TrainingOut(BaseModel):
    training_id: uuid.UUID
    completed_on: date
    expires_on: date
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def of(cls, training: Training) -> "TrainingOut":
        return cls(**vars(training))


class PersonSummaryOut(BaseModel):
    person_id: str
    registered_at: datetime
    left_on: date | None
    erased: bool = Field(description="Their name and certificate hashes were erased (the checks' dates are kept)")
    renewal_in_progress: bool
    checks: int = Field(description="DBS checks on record, void ones included")

    @classmethod
    def of(cls, record: SafeguardingRecord, registered_at: datetime, left_on: date | None) -> "PersonSummaryOut":
        return cls(
            person_id=record.person_id,
            registered_at=registered_at,
            left_on=left_on,
            erased=record.erased,
            renewal_in_progress=record.renewal_in_progress,
            checks=len(record.checks),
        )


class PersonOut(PersonSummaryOut):
    full_name: str | None = Field(description="Null once erased", examples=["Sam Okafor"])
    dbs_checks: list[CheckOut]
    trainings: list[TrainingOut]
    actions: list[Action] = Field(description="What may be done to the record now")

    @classmethod
    def of_view(cls, view: PersonView) -> "PersonOut":
        summary = PersonSummaryOut.of(view.record, view.person.registered_at, view.person.left_on)
        return cls(
            **summary.model_dump(),
            full_name=view.full_name,
            dbs_checks=[CheckOut.of(view.record, c, view.last_fours.get(c.check_id)) for c in view.record.checks],
            trainings=[TrainingOut.of(t) for t in view.record.trainings],
            actions=list(view.actions),
        )


class ClearanceOut(BaseModel):
    person_id: str
    contact: ContactKind
    on: date = Field(description="The day judged (the record as it stood at the end of that day)")
    cleared: bool
    unmet: list[UnmetOut] = Field(description="Every condition unmet (empty when cleared)")
    check_id: uuid.UUID | None = Field(description="The check judged: the best on record for that day")
    level: DbsLevel | None
    workforce: Workforce | None
    recheck_due_on: date | None
    training_expires_on: date | None

    @classmethod
    def of(cls, clearance: Clearance) -> "ClearanceOut":
        return cls(
            person_id=clearance.person_id,
            contact=clearance.contact,
            on=clearance.on,
            cleared=clearance.cleared,
            unmet=[unmet_out(u) for u in clearance.unmet],
            check_id=clearance.check_id,
            level=clearance.level,
            workforce=clearance.workforce,
            recheck_due_on=clearance.recheck_due_on,
            training_expires_on=clearance.training_expires_on,
        )


def unmet_out(unmet: Unmet) -> UnmetOut:
    return UnmetOut(code=unmet.code, message=unmet.message, subject=unmet.subject)


class ClearedReportOut(BaseModel):
    on: date
    contact: ContactKind
    cleared: list[ClearanceOut] = Field(description="Everyone registered by then who was cleared")
    not_cleared: list[ClearanceOut] = Field(description="Everyone registered by then who was not, and why")


class HistoryEventOut(BaseModel):
    seq: int = Field(description="The order of recording")
    event_id: uuid.UUID
    type: str = Field(examples=["dbs_check_recorded"])
    recorded_at: datetime
    recorded_by: str
    data: dict[str, Any] = Field(description="Ids, codes and dates (never a certificate number)")

    @classmethod
    def of(cls, event: HistoryEvent) -> "HistoryEventOut":
        return cls(
            seq=event.seq,
            event_id=event.event_id,
            type=event.type,
            recorded_at=event.recorded_at,
            recorded_by=event.recorded_by,
            data=dict(event.data),
        )


class VerificationOut(BaseModel):
    matches: bool = Field(description="Whether the number typed is the one recorded with the check")


class RefusalOut(BaseModel):
    detail: str = Field(examples=["a renewal is in progress already"])
    action: Action
    allowed_actions: list[Action]


# --- errors -------------------------------------------------------------------------------------------------------


@contextmanager
def answering_errors() -> Iterator[None]:
    """Unknown (or not the caller's) person or check 404; a field contradicting another, the record or today 409
    naming it; an action the record does not allow now 409 with why and what is allowed instead. Never the input."""
    try:
        yield
    except SafeguardingNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except InvalidSafeguarding as error:
        detail = [{"loc": ["body", error.field], "msg": str(error), "type": "conflict"}]
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from None
    except SafeguardingRefused as refused:
        body = RefusalOut(detail=refused.reason, action=refused.action, allowed_actions=list(refused.allowed))
        raise HTTPException(status.HTTP_409_CONFLICT, body.model_dump(mode="json")) from None


class RefusalErrorOut(BaseModel):
    detail: RefusalOut


_DESCRIBED: Mapping[int, tuple[Any, str]] = {
    404: (ErrorOut, "No such person or check, or not one the caller may see"),
    409: (
        FieldErrorsOut | RefusalErrorOut,
        "A field contradicting another, the record or today (`loc` names it); or an action the record does not "
        "allow now, with why and the actions allowed instead",
    ),
    422: (FieldErrorsOut, "Bad input: `loc` names the field (never its value)"),
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": _DESCRIBED[code][0], "description": _DESCRIBED[code][1]} for code in codes}
