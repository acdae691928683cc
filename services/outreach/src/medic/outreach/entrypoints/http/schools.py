"""HTTP API: schools, keyed by their URN, and each school's contact.

Coordinators do everything. Students (medical students) read schools, which they need for their sessions, but
not the contact: a teacher's name and email are shown to coordinators only. Partners, ops and supervisors
(outreach has none) are refused.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from medic.outreach.adapters.schools_repository import SchoolFilter
from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.school_commands import ChangeSchool, RegisterSchool, SetContact
from medic.outreach.service_layer import schools as handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.contracts.outreach import SchoolPhase
from medic.shared.http import correlation_id_from

from .dependencies import unit_of_work
from .school_models import URN_PATTERN, ContactIn, SchoolIn, SchoolOut, SchoolPatch, answering_errors, responses

router = APIRouter(tags=["schools"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Reader = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.STUDENT))]
UrnPath = Annotated[str, Path(pattern=URN_PATTERN, description="The school's URN, 6 digits", examples=["100000"])]


def _sees_contact(principal: Principal) -> bool:
    return Role.COORDINATOR in principal.roles


@router.post(
    "/schools",
    status_code=status.HTTP_201_CREATED,
    summary="Register a school",
    description="Publishes `outreach.school.registered.v1` (the register's facts, never the contact).",
    responses=responses(409),
)
async def register_school(request: Request, body: SchoolIn, uow: UnitOfWork, _: Coordinator) -> SchoolOut:
    command = RegisterSchool(**body.model_dump(), correlation_id=correlation_id_from(request))
    with answering_errors():
        return SchoolOut.of(await handlers.register_school(command, uow), with_contact=True)


@router.get("/schools", summary="Schools, by URN")
async def list_schools(
    uow: UnitOfWork,
    principal: Reader,
    phase: SchoolPhase | None = None,
    local_authority_code: Annotated[str | None, Query(pattern=r"^[0-9]{3}$", examples=["201"])] = None,
    state_funded: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[SchoolOut]:
    where = SchoolFilter(phase=phase, local_authority_code=local_authority_code, state_funded=state_funded)
    found = await handlers.list_schools(where, uow, limit=limit, offset=offset)
    return [SchoolOut.of(view, with_contact=_sees_contact(principal)) for view in found]


@router.get("/schools/{urn}", summary="A school", responses=responses(404))
async def get_school(urn: UrnPath, uow: UnitOfWork, principal: Reader) -> SchoolOut:
    with answering_errors():
        return SchoolOut.of(await handlers.get_school(urn, uow), with_contact=_sees_contact(principal))


@router.patch(
    "/schools/{urn}",
    summary="Change a school's register facts",
    description="Publishes `outreach.school.updated.v1` when something changed; nothing otherwise.",
    responses=responses(404),
)
async def change_school(
    request: Request, urn: UrnPath, body: SchoolPatch, uow: UnitOfWork, _: Coordinator
) -> SchoolOut:
    command = ChangeSchool(urn=urn, correlation_id=correlation_id_from(request), **body.model_dump(exclude_none=True))
    with answering_errors():
        return SchoolOut.of(await handlers.change_school(command, uow), with_contact=True)


@router.put(
    "/schools/{urn}/contact",
    summary="Set a school's contact",
    description="The school's one contact, replaced whole: an adult (a teacher or the school's outreach lead). "
    "Personal data: kept in outreach, shown to coordinators, never published.",
    responses=responses(404),
)
async def set_contact(urn: UrnPath, body: ContactIn, uow: UnitOfWork, _: Coordinator) -> SchoolOut:
    command = SetContact(urn=urn, name=body.name, email=body.email, role=body.role)
    with answering_errors():
        return SchoolOut.of(await handlers.set_contact(command, uow), with_contact=True)
