"""HTTP API: which partner organisation a school is (its users then see the school's primary sessions).

The partner is one outreach knows from projects' partner events, of kind `school`. Coordinators only.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.service_layer import primary as handlers
from medic.shared.auth import Principal, Role, require_roles

from .dependencies import unit_of_work
from .primary_models import PartnerLinkIn, PartnerLinkOut, answering_errors, responses

router = APIRouter(tags=["schools"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
UrnPath = Annotated[str, Path(pattern=r"^[0-9]{6}$", description="The school's URN, 6 digits", examples=["100000"])]


@router.put(
    "/schools/{urn}/partner",
    summary="Link a school to its partner organisation",
    description="Replaces any earlier link. The partner must be known to outreach and of kind `school` (422 "
    "naming `partner_id` otherwise). Publishes nothing.",
    responses=responses(404, 422),
)
async def link_partner(urn: UrnPath, body: PartnerLinkIn, uow: UnitOfWork, _: Coordinator) -> PartnerLinkOut:
    with answering_errors():
        return PartnerLinkOut(urn=urn, partner_id=await handlers.link_partner(urn, body.partner_id, uow))


@router.delete(
    "/schools/{urn}/partner",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unlink a school from its partner organisation",
    responses=responses(404),
)
async def unlink_partner(urn: UrnPath, uow: UnitOfWork, _: Coordinator) -> None:
    with answering_errors():
        await handlers.unlink_partner(urn, uow)
