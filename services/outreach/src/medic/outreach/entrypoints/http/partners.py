"""HTTP API: the community partners outreach knows of."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.service_layer import handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.contracts.projects import PartnerKind

from .dependencies import unit_of_work

router = APIRouter(tags=["partners"])


class KnownPartnerOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: PartnerKind
    areas_of_work: list[str]
    registered_at: datetime


@router.get("/partners", summary="Community partners known to outreach, oldest first")
async def list_partners(
    uow: Annotated[OutreachUnitOfWork, Depends(unit_of_work)],
    _: Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT))],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[KnownPartnerOut]:
    partners = await handlers.list_partners(uow, limit=limit, offset=offset)
    return [
        KnownPartnerOut(
            id=p.id, name=p.name, kind=p.kind, areas_of_work=list(p.areas_of_work), registered_at=p.registered_at
        )
        for p in partners
    ]
