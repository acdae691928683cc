"""The directory of adult contacts, for staff: what address a supervisor, student or partner contact has on file
here (built from projects' events), and the latest emails to it, to answer "I never got the email"."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.directory import ContactKind
from medic.notifications.entrypoints.http.dependencies import unit_of_work
from medic.notifications.entrypoints.http.emails import EmailOut
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.openapi import ErrorOut, FieldErrorsOut

router = APIRouter(tags=["directory"])

# Coordinators only: the route's answer is a person's address (ops see email delivery through `/emails`, unnamed).
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Uow = Annotated[NotificationsUnitOfWork, Depends(unit_of_work)]

RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No contact of that kind and id has reached this service"},
    422: {"model": FieldErrorsOut, "description": "A field is invalid"},
}


class ContactOut(BaseModel):
    kind: ContactKind
    contact_id: uuid.UUID = Field(description="The supervisor's, student's or partner contact's id in projects")
    partner_id: uuid.UUID | None = Field(description="A partner contact's partner")
    primary: bool = Field(description="The partner's primary contact (partner contacts only)")
    email: str | None = Field(description="The address emails go to; null once the contact was removed")
    display_name: str | None
    as_of: datetime = Field(description="When the event this comes from happened")
    removed_at: datetime | None = Field(description="When the contact was removed (its address deleted then)")
    emails: list[EmailOut] = Field(description="The newest emails to the address, newest first")


@router.get(
    "/directory/contacts/{kind}/{contact_id}",
    summary="A contact's address on file, and the latest emails to it",
    responses=RESPONSES,
)
async def get_contact(
    kind: ContactKind,
    contact_id: uuid.UUID,
    _: Coordinator,
    uow: Uow,
    limit: Annotated[int, Query(ge=1, le=100, description="How many of the newest emails")] = 20,
) -> ContactOut:
    async with uow:
        contact = await uow.directory.contact(kind, contact_id)
        if contact is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such contact")
        sent = await uow.directory.emails_to(contact.email, limit=limit) if contact.email else []
    return ContactOut(
        kind=contact.kind,
        contact_id=contact.contact_id,
        partner_id=contact.partner_id,
        primary=contact.primary,
        email=contact.email,
        display_name=contact.display_name,
        as_of=contact.as_of,
        removed_at=contact.removed_at,
        emails=[EmailOut.of(email) for email in sent],
    )
