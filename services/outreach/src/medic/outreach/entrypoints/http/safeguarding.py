"""HTTP API: safeguarding records of the medical students who work with children.

Coordinators do everything. A student reads their own record, history and clearance (their token's `sub` is their
person id); anyone else's is 404, as for an unknown person. Certificate numbers come in bodies only and never go out.
"""

import uuid
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.safeguarding import PERSON_ID_PATTERN, ContactKind, SafeguardingNotFound
from medic.outreach.service_layer import safeguarding as handlers
from medic.outreach.settings import OutreachSettings
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from
from medic.shared.http_fields import IsoDate

from .dependencies import now, today, unit_of_work
from .safeguarding_models import (
    CertificateIn,
    CheckIn,
    CheckOut,
    ClearanceOut,
    ClearedReportOut,
    HistoryEventOut,
    LeavingIn,
    PersonIn,
    PersonOut,
    PersonSummaryOut,
    RenewalIn,
    StatusCheckIn,
    TrainingIn,
    VerificationOut,
    VoidIn,
    answering_errors,
    responses,
)

router = APIRouter(prefix="/safeguarding", tags=["safeguarding"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Reader = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.STUDENT))]
PersonIdPath = Annotated[str, Path(pattern=PERSON_ID_PATTERN, description="The person's university id")]
CheckIdPath = Annotated[uuid.UUID, Path(description="The DBS check")]
Contact = Annotated[ContactKind, Query(description="The kind of contact with children")]
AsOf = Annotated[
    IsoDate | None,
    Query(description="The day: the record as it stood at the end of it, judged on it (default: today)"),
]


def _settings(request: Request) -> OutreachSettings:
    settings: OutreachSettings = request.app.state.settings
    return settings


def _key(request: Request) -> bytes:
    return _settings(request).dbs_certificate_key.get_secret_value().encode()


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(_settings(request).primary_timezone)


def _actor(request: Request, principal: Principal) -> handlers.Actor:
    return handlers.Actor(
        by=principal.subject, now=now(request), today=today(request), correlation_id=correlation_id_from(request)
    )


def _readable(principal: Principal, person_id: str) -> None:
    """A student reads only their own record: anyone else's is as unknown."""
    if not principal.has(Role.COORDINATOR) and principal.subject != person_id:
        raise SafeguardingNotFound("no such person")


@router.post(
    "/people",
    status_code=status.HTTP_201_CREATED,
    summary="Register a person who works with children",
    description="Their name is kept apart as personal data. Publishes "
    "`outreach.safeguarding_person.registered.v1` (the id only).",
    responses=responses(409, 422),
)
async def register_person(request: Request, body: PersonIn, uow: UnitOfWork, principal: Coordinator) -> PersonOut:
    with answering_errors():
        view = await handlers.register_person(uow, body.person_id, body.full_name, _actor(request, principal))
    return PersonOut.of_view(view)


@router.get("/people", summary="People registered (no names)")
async def list_people(
    uow: UnitOfWork,
    _: Coordinator,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[PersonSummaryOut]:
    found = await handlers.list_people(uow, limit=limit, offset=offset)
    return [PersonSummaryOut.of(record, person.registered_at, person.left_on) for person, record in found]


@router.get(
    "/people/{person_id}",
    summary="A person's safeguarding record (coordinators; a student their own)",
    responses=responses(404, 422),
)
async def get_person(person_id: PersonIdPath, uow: UnitOfWork, principal: Reader) -> PersonOut:
    with answering_errors():
        _readable(principal, person_id)
        return PersonOut.of_view(await handlers.get_person(uow, person_id))


@router.get(
    "/people/{person_id}/history",
    summary="Everything recorded about the person's safeguarding, in order",
    responses=responses(404, 422),
)
async def get_history(person_id: PersonIdPath, uow: UnitOfWork, principal: Reader) -> list[HistoryEventOut]:
    with answering_errors():
        _readable(principal, person_id)
        return [HistoryEventOut.of(e) for e in await handlers.history(uow, person_id)]


@router.get(
    "/people/{person_id}/clearance",
    summary="Whether the person is cleared for a kind of contact with children on a day, and why not",
    description="`as_of=D`: what the record said at the end of day D (Europe/London), judged on D: checks issued "
    "after D, and anything recorded after D (a void, a new check) do not count. Every unmet condition is listed.",
    responses=responses(404, 422),
)
async def get_clearance(
    request: Request, person_id: PersonIdPath, contact: Contact, uow: UnitOfWork, principal: Reader, as_of: AsOf = None
) -> ClearanceOut:
    with answering_errors():
        _readable(principal, person_id)
        found = await handlers.person_clearance(uow, person_id, contact, as_of or today(request), _zone(request))
    return ClearanceOut.of(found)


@router.post(
    "/people/{person_id}/dbs-checks",
    status_code=status.HTTP_201_CREATED,
    summary="Record a DBS check",
    description="The certificate number is kept only as a keyed hash and its last four digits, never shown, logged "
    "or published. The recheck falls due OUTREACH_SAFEGUARDING_RECHECK_YEARS after issue (or after the last Update "
    "Service check finding no change). Publishes `outreach.dbs_check.recorded.v1` (and `.update_service_checked.v1`).",
    responses=responses(404, 409, 422),
)
async def record_check(
    request: Request, person_id: PersonIdPath, body: CheckIn, uow: UnitOfWork, principal: Coordinator
) -> CheckOut:
    command = handlers.RecordCheck(
        level=body.level,
        workforce=body.workforce,
        certificate_number=body.certificate_number,
        issued_on=body.issued_on,
        seen_how=body.seen_how,
        status_checked_on=body.status_checked_on,
        status_result=body.status_result,
    )
    with answering_errors():
        view, check = await handlers.record_check(
            uow,
            person_id,
            command,
            _actor(request, principal),
            key=_key(request),
            recheck_years=_settings(request).safeguarding_recheck_years,
        )
    return CheckOut.of(view.record, check, view.last_fours.get(check.check_id))


@router.post(
    "/people/{person_id}/dbs-checks/{check_id}/update-service-checks",
    status_code=status.HTTP_201_CREATED,
    summary="Add a DBS Update Service status check to a check",
    description="`no_change` moves the recheck date on; `changed` means the check clears no one any more. Publishes "
    "`outreach.dbs_check.update_service_checked.v1`.",
    responses=responses(404, 409, 422),
)
async def add_status_check(
    request: Request,
    person_id: PersonIdPath,
    check_id: CheckIdPath,
    body: StatusCheckIn,
    uow: UnitOfWork,
    principal: Coordinator,
) -> CheckOut:
    with answering_errors():
        view, check = await handlers.add_status_check(
            uow,
            person_id,
            check_id,
            body.checked_on,
            body.result,
            _actor(request, principal),
            recheck_years=_settings(request).safeguarding_recheck_years,
        )
    return CheckOut.of(view.record, check, view.last_fours.get(check.check_id))


@router.post(
    "/people/{person_id}/dbs-checks/{check_id}/void",
    summary="Void a check recorded in error (a correction: record the right one as a new check)",
    description="The check stays in the history, marked void with the reason code. Publishes "
    "`outreach.dbs_check.voided.v1`.",
    responses=responses(404, 409, 422),
)
async def void_check(
    request: Request,
    person_id: PersonIdPath,
    check_id: CheckIdPath,
    body: VoidIn,
    uow: UnitOfWork,
    principal: Coordinator,
) -> CheckOut:
    with answering_errors():
        view, check = await handlers.void_check(uow, person_id, check_id, body.reason, _actor(request, principal))
    return CheckOut.of(view.record, check, view.last_fours.get(check.check_id))


@router.post(
    "/people/{person_id}/dbs-checks/{check_id}/verification",
    summary="Whether a certificate number typed by staff is the one recorded with the check",
    description="Compared as keyed hashes; the number is neither stored nor answered back.",
    responses=responses(404, 422),
)
async def verify_certificate(
    request: Request,
    person_id: PersonIdPath,
    check_id: CheckIdPath,
    body: CertificateIn,
    uow: UnitOfWork,
    _: Coordinator,
) -> VerificationOut:
    with answering_errors():
        matches = await handlers.verify_certificate(
            uow, person_id, check_id, body.certificate_number, key=_key(request)
        )
    return VerificationOut(matches=matches)


@router.put(
    "/people/{person_id}/renewal",
    summary="Say whether a DBS renewal is in progress (pauses recheck reminders; clears no one)",
    description="Publishes `outreach.safeguarding_renewal.started.v1` or `.stopped.v1` when it changes.",
    responses=responses(404, 409, 422),
)
async def set_renewal(
    request: Request, person_id: PersonIdPath, body: RenewalIn, uow: UnitOfWork, principal: Coordinator
) -> PersonOut:
    with answering_errors():
        view = await handlers.set_renewal(uow, person_id, body.in_progress, _actor(request, principal))
    return PersonOut.of_view(view)


@router.post(
    "/people/{person_id}/training",
    status_code=status.HTTP_201_CREATED,
    summary="Record safeguarding training",
    description="Publishes `outreach.safeguarding_training.recorded.v1`.",
    responses=responses(404, 409, 422),
)
async def record_training(
    request: Request, person_id: PersonIdPath, body: TrainingIn, uow: UnitOfWork, principal: Coordinator
) -> PersonOut:
    with answering_errors():
        view = await handlers.record_training(
            uow, person_id, body.completed_on, body.expires_on, _actor(request, principal)
        )
    return PersonOut.of_view(view)


@router.put(
    "/people/{person_id}/leaving",
    summary="Record (or correct) the day the person leaves the programmes",
    description="Retention counts from it; from that day they are not cleared. Publishes "
    "`outreach.safeguarding_person.left.v1`.",
    responses=responses(404, 409, 422),
)
async def record_leaving(
    request: Request, person_id: PersonIdPath, body: LeavingIn, uow: UnitOfWork, principal: Coordinator
) -> PersonOut:
    with answering_errors():
        view = await handlers.record_leaving(uow, person_id, body.left_on, _actor(request, principal))
    return PersonOut.of_view(view)


@router.get(
    "/reports/cleared",
    summary="Who was cleared for a kind of contact on a day (e.g. to mentor, or to facilitate in a school)",
    description="`on=D` has the as-of meaning: the records as they stood at the end of D, judged on D.",
    responses=responses(422),
)
async def cleared_report(
    request: Request,
    contact: Contact,
    uow: UnitOfWork,
    _: Coordinator,
    on: Annotated[IsoDate | None, Query(description="The day (default: today)")] = None,
) -> ClearedReportOut:
    day: date = on or today(request)
    found = await handlers.cleared_report(uow, day, contact, _zone(request))
    return ClearedReportOut(
        on=day,
        contact=contact,
        cleared=[ClearanceOut.of(c) for c in found if c.cleared],
        not_cleared=[ClearanceOut.of(c) for c in found if not c.cleared],
    )
