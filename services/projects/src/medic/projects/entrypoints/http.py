"""HTTP API of the projects service."""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.commands import RegisterPartner
from medic.projects.domain.model import MAX_AREAS_OF_WORK, InvalidPartner, Partner, PartnerAlreadyRegistered
from medic.projects.service_layer import handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.contracts.projects import PartnerKind
from medic.shared.http import NO_CONTROL_CHARACTERS, correlation_id_from

router = APIRouter(tags=["partners"])


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=NO_CONTROL_CHARACTERS, examples=["Riverside Food Bank"])
    kind: PartnerKind
    contact_email: EmailStr = Field(max_length=320)
    areas_of_work: list[Annotated[str, Field(min_length=1, max_length=100, pattern=NO_CONTROL_CHARACTERS)]] = Field(
        default_factory=list, max_length=MAX_AREAS_OF_WORK, examples=[["food poverty", "mental health"]]
    )


class PartnerOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: PartnerKind
    contact_email: str
    areas_of_work: list[str]
    registered_at: datetime

    @classmethod
    def of(cls, partner: Partner) -> "PartnerOut":
        return cls(
            id=partner.id,
            name=partner.name,
            kind=partner.kind,
            contact_email=partner.contact_email,
            areas_of_work=list(partner.areas_of_work),
            registered_at=partner.registered_at,
        )


def unit_of_work(request: Request) -> ProjectsUnitOfWork:
    factory: Callable[[], ProjectsUnitOfWork] = request.app.state.uow_factory
    return factory()


def _field_error(field: str, message: str, status_code: int) -> HTTPException:
    """The same shape FastAPI gives validation errors, so clients read one format."""
    return HTTPException(status_code, [{"loc": ["body", field], "msg": message, "type": "value_error"}])


@router.post(
    "/partners",
    status_code=status.HTTP_201_CREATED,
    summary="Register a community partner",
    description="Publishes `projects.partner.registered.v1`.",
    responses={409: {"description": "A partner with that name is already registered"}},
)
async def register_partner(
    body: PartnerIn,
    request: Request,
    uow: Annotated[ProjectsUnitOfWork, Depends(unit_of_work)],
    _: Annotated[Principal, Depends(require_roles(Role.COORDINATOR))],
) -> PartnerOut:
    command = RegisterPartner(
        name=body.name,
        kind=body.kind,
        contact_email=str(body.contact_email),
        areas_of_work=body.areas_of_work,
        correlation_id=correlation_id_from(request),
    )
    try:
        partner = await handlers.register_partner(command, uow)
    except InvalidPartner as error:
        raise _field_error(error.field, str(error), status.HTTP_422_UNPROCESSABLE_CONTENT) from None
    except PartnerAlreadyRegistered as error:
        raise _field_error(error.field, str(error), status.HTTP_409_CONFLICT) from None
    return PartnerOut.of(partner)


@router.get("/partners", summary="List community partners, oldest first")
async def list_partners(
    uow: Annotated[ProjectsUnitOfWork, Depends(unit_of_work)],
    _: Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[PartnerOut]:
    return [PartnerOut.of(p) for p in await handlers.list_partners(uow, limit=limit, offset=offset)]
