"""Which partner organisation a school is: the sessions at a linked school are that partner's events.

Outreach knows schools by URN; projects knows partners by id; nothing on the bus says a school is a partner, so a
coordinator says so here. A partner user reads its own links; another's is a 404.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.partner_events import URN_PATTERN, SchoolLink
from medic.notifications.entrypoints.http.dependencies import unit_of_work
from medic.notifications.service_layer import partner_events
from medic.shared.auth import Principal, Role, require_roles

router = APIRouter(tags=["webhooks"])

Uow = Annotated[NotificationsUnitOfWork, Depends(unit_of_work)]
Reader = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.PARTNER))]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Urn = Annotated[str, Path(pattern=URN_PATTERN, description="The school's URN (6 digits).", examples=["100000"])]

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "The school is not linked (or not to your organisation)"}
}


class SchoolLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: uuid.UUID = Field(
        description="The partner organisation the school is (as registered in projects).",
        examples=["5b0f3c1e-7d2a-4c9b-9e8f-1a2b3c4d5e6f"],
    )


class SchoolLinkOut(BaseModel):
    urn: str
    school_name: str | None = Field(description="As outreach last published it.")
    partner_id: uuid.UUID
    partner_name: str | None = Field(description="As projects last published it.")
    linked_at: datetime

    @classmethod
    def of(cls, link: SchoolLink) -> "SchoolLinkOut":
        return cls(
            urn=link.urn,
            school_name=link.school_name,
            partner_id=link.partner_id,
            partner_name=link.partner_name,
            linked_at=link.linked_at,
        )


class SchoolLinksOut(BaseModel):
    items: list[SchoolLinkOut]


def _own_organisation(principal: Principal) -> uuid.UUID | None:
    """The partner a caller is limited to; None for a coordinator, who sees every link."""
    if principal.has(Role.COORDINATOR):
        return None
    if principal.organisation_id is None:  # the token verifier refuses such a partner token already
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a partner user's token names its organisation")
    return principal.organisation_id


def _unknown(location: list[str], message: str) -> HTTPException:
    """An object that does not exist is a 404, as across the API; `loc` (the validation errors' shape) says which."""
    return HTTPException(status.HTTP_404_NOT_FOUND, [{"loc": location, "msg": message, "type": "not_found"}])


@router.get(
    "/webhooks/school-links",
    summary="Which partner each school is",
    description="A coordinator sees every link (or one partner's, with `partner_id`); a partner user its own.",
)
async def list_school_links(
    uow: Uow,
    principal: Reader,
    partner_id: Annotated[uuid.UUID | None, Query(description="Only this partner's schools")] = None,
) -> SchoolLinksOut:
    own = _own_organisation(principal)
    if own is not None and partner_id not in (None, own):
        return SchoolLinksOut(items=[])
    links = await partner_events.school_links(uow, partner_id=own or partner_id)
    return SchoolLinksOut(items=[SchoolLinkOut.of(link) for link in links])


@router.get("/webhooks/school-links/{urn}", summary="Which partner a school is", responses=NOT_FOUND)
async def get_school_link(uow: Uow, principal: Reader, urn: Urn) -> SchoolLinkOut:
    own = _own_organisation(principal)
    found = await partner_events.school_links(uow, urn=urn, partner_id=own)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"school {urn} is not linked to a partner")
    return SchoolLinkOut.of(found[0])


@router.put(
    "/webhooks/school-links/{urn}",
    summary="Say which partner a school is",
    description=(
        "From now on the events of the school's sessions (planned, delivered, cancelled) go to that partner; "
        "nothing is sent for what happened before. Linking the school again moves it to the new partner. The "
        "school must be registered in outreach and the partner in projects: an unknown one is a 404 whose `loc` "
        "names `urn` or `partner_id`."
    ),
    responses={404: {"description": "No such school or partner; `loc` names which"}},
)
async def put_school_link(uow: Uow, _: Coordinator, urn: Urn, body: SchoolLinkIn) -> SchoolLinkOut:
    try:
        link = await partner_events.link_school(uow, urn, body.partner_id)
    except partner_events.UnknownSchool as problem:
        raise _unknown(["path", "urn"], str(problem)) from None
    except partner_events.UnknownPartner as problem:
        raise _unknown(["body", "partner_id"], str(problem)) from None
    return SchoolLinkOut.of(link)


@router.delete(
    "/webhooks/school-links/{urn}",
    summary="Unlink a school",
    description="Its sessions' events go to no partner from now on.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "The school is not linked"}},
)
async def delete_school_link(uow: Uow, _: Coordinator, urn: Urn) -> Response:
    if not await partner_events.unlink_school(uow, urn):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"school {urn} is not linked to a partner")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
