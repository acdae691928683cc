"""HTTP API: community partners, their contacts and agreements.

Who sees what: coordinators see and change everything. Supervisors read partners (list and detail) without
contact addresses. Partner users (role `partner`, their token naming their organisation) see only their own
organisation, any other is 404, and may add, edit and remove its contacts; nothing else.
"""

import uuid
from collections.abc import Awaitable
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from medic.projects.adapters.partners_repository import ConcurrentPartnerChange
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain import commands
from medic.projects.domain.partners import (
    MAX_AREAS_OF_WORK,
    Agreement,
    AgreementNotFound,
    ArchiveStateConflict,
    Contact,
    ContactNotFound,
    InvalidPartner,
    Partner,
    PartnerConflict,
)
from medic.projects.service_layer import handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.contracts.projects.partners import AgreementKind, AgreementStatus, PartnerKind
from medic.shared.http import correlation_id_from
from medic.shared.http_fields import NO_CONTROL_CHARACTERS, VISIBLE_TEXT, EmailAddress, IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut

from .dependencies import field_error, unit_of_work

router = APIRouter(tags=["partners"])

T = TypeVar("T")
UnitOfWork = Annotated[ProjectsUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
Reader = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.SUPERVISOR, Role.PARTNER))]
ContactEditor = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.PARTNER))]

PartnerName = Annotated[str, Field(max_length=200, pattern=VISIBLE_TEXT)]
AreaOfWork = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_CONTROL_CHARACTERS)]
ContactName = Annotated[str, Field(max_length=200, pattern=VISIBLE_TEXT)]
ContactRole = Annotated[str, Field(max_length=100, pattern=NO_CONTROL_CHARACTERS)]


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such partner (or contact, agreement) visible to the caller"}
}


def _conflict(description: str) -> dict[int | str, dict[str, Any]]:
    return {409: {"model": FieldErrorsOut, "description": description}}


# Requests


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PartnerName = Field(examples=["Riverside Food Bank"])
    kind: PartnerKind = Field(examples=["charity"])
    contact_email: EmailAddress = Field(
        examples=["hello@riverside.example"], description="Becomes the partner's first, primary contact"
    )
    areas_of_work: list[AreaOfWork] = Field(
        default_factory=list, max_length=MAX_AREAS_OF_WORK, examples=[["food poverty", "mental health"]]
    )


class PartnerPatch(BaseModel):
    """Fields left out (or null) stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: PartnerName | None = Field(default=None, examples=["Riverside Community Food Bank"])
    kind: PartnerKind | None = Field(default=None, examples=["community_group"])


class AreasOfWorkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    areas_of_work: list[AreaOfWork] = Field(
        max_length=MAX_AREAS_OF_WORK,
        examples=[["food poverty", "healthy eating"]],
        description="The whole new list: blanks and case-insensitive repeats are dropped",
    )


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ContactName = Field(examples=["Amina Yusuf"])
    email: EmailAddress = Field(examples=["amina@riverside.example"])
    role: ContactRole = Field(default="", examples=["volunteer coordinator"])
    primary: bool = Field(
        default=False, examples=[True], description="Make this the primary contact (the first contact always is)"
    )


class ContactPatch(BaseModel):
    """Fields left out (or null) stay as they are. A role of "" clears it."""

    model_config = ConfigDict(extra="forbid")

    name: ContactName | None = Field(default=None, examples=["Amina Yusuf"])
    email: EmailAddress | None = Field(default=None, examples=["amina.yusuf@riverside.example"])
    role: ContactRole | None = Field(default=None, examples=["operations manager"])
    primary: bool | None = Field(
        default=None,
        examples=[True],
        description="true moves the primary flag here; false on the primary contact is refused (409)",
    )


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: AgreementKind = Field(examples=["partnership_mou"])
    starts_on: IsoDate = Field(examples=["2026-09-01"])
    ends_on: IsoDate = Field(examples=["2027-08-31"], description="After `starts_on`")


class AgreementPatch(BaseModel):
    """Fields left out (or null) stay as they are; terms change first, then the status."""

    model_config = ConfigDict(extra="forbid")

    kind: AgreementKind | None = Field(default=None, examples=["data_sharing"], description="Drafts only")
    starts_on: IsoDate | None = Field(default=None, examples=["2026-10-01"], description="Drafts only")
    ends_on: IsoDate | None = Field(
        default=None, examples=["2028-08-31"], description="Not once terminated; moving it on renews an expired one"
    )
    status: AgreementStatus | None = Field(
        default=None,
        examples=["active"],
        description="draft -> active (until its end date has passed), draft -> terminated, active -> terminated",
    )


class ArchivedFilter(StrEnum):
    TRUE = "true"
    FALSE = "false"
    ALL = "all"


# Responses


class ContactOut(BaseModel):
    id: uuid.UUID
    name: str | None = Field(description="null until known (the contact a registration's `contact_email` made)")
    email: str | None = Field(description="null for callers who may not see contact addresses (supervisors)")
    role: str
    primary: bool
    added_at: datetime

    @classmethod
    def of(cls, contact: Contact, *, with_email: bool) -> "ContactOut":
        return cls(
            id=contact.id,
            name=contact.name,
            email=contact.email if with_email else None,
            role=contact.role,
            primary=contact.primary,
            added_at=contact.added_at,
        )


class AgreementOut(BaseModel):
    id: uuid.UUID
    kind: AgreementKind
    starts_on: date
    ends_on: date
    status: AgreementStatus = Field(description="As of today: an active agreement past its end date reads `expired`")
    added_at: datetime

    @classmethod
    def of(cls, agreement: Agreement) -> "AgreementOut":
        return cls(
            id=agreement.id,
            kind=agreement.kind,
            starts_on=agreement.starts_on,
            ends_on=agreement.ends_on,
            status=agreement.status_on(handlers.today()),
            added_at=agreement.added_at,
        )


class PartnerOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: PartnerKind
    contact_email: str | None = Field(
        description="The primary contact's address; null without contacts or for callers who may not see addresses"
    )
    areas_of_work: list[str]
    registered_at: datetime
    archived: bool = Field(description="Archived partners are hidden from the default list and take no new projects")
    archived_at: datetime | None

    @classmethod
    def of(cls, partner: Partner, *, with_email: bool) -> "PartnerOut":
        primary = partner.primary_contact
        return cls(
            id=partner.id,
            name=partner.name,
            kind=partner.kind,
            contact_email=primary.email if primary and with_email else None,
            areas_of_work=list(partner.areas_of_work),
            registered_at=partner.registered_at,
            archived=partner.archived,
            archived_at=partner.archived_at,
        )


class PartnerDetailOut(PartnerOut):
    contacts: list[ContactOut] = Field(description="In the order they were added")
    agreements: list[AgreementOut] = Field(description="In the order they were added")

    @classmethod
    def of(cls, partner: Partner, *, with_email: bool) -> "PartnerDetailOut":
        return cls(
            **PartnerOut.of(partner, with_email=with_email).model_dump(),
            contacts=[ContactOut.of(c, with_email=with_email) for c in partner.contacts],
            agreements=[AgreementOut.of(a) for a in partner.agreements],
        )


# Who sees what


def _only_organisation(principal: Principal) -> uuid.UUID | None:
    """The one partner a caller may see, or None when they may see all (coordinators and supervisors)."""
    if principal.has(Role.COORDINATOR) or principal.has(Role.SUPERVISOR):
        return None
    return principal.organisation_id or uuid.UUID(int=0)  # a partner token always names one; no id is 0


def _sees_emails(principal: Principal, partner_id: uuid.UUID) -> bool:
    return principal.has(Role.COORDINATOR) or (principal.has(Role.PARTNER) and principal.organisation_id == partner_id)


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "no such partner")


def _check_visible(principal: Principal, partner_id: uuid.UUID) -> None:
    only = _only_organisation(principal)
    if only is not None and only != partner_id:
        raise _not_found()


def _check_may_edit_contacts(principal: Principal, partner_id: uuid.UUID) -> None:
    if not principal.has(Role.COORDINATOR) and principal.organisation_id != partner_id:
        raise _not_found()


async def _refusals(call: Awaitable[T]) -> T:
    """The handler's answer, or the HTTP refusal for what the domain refused."""
    try:
        return await call
    except (handlers.PartnerNotFound, ContactNotFound, AgreementNotFound) as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, _WHAT_IS_MISSING[type(error)]) from None
    except InvalidPartner as error:
        raise field_error(error.field, str(error), status.HTTP_422_UNPROCESSABLE_CONTENT) from None
    except PartnerConflict as error:
        raise field_error(error.field, str(error), status.HTTP_409_CONFLICT) from None
    except ArchiveStateConflict as error:
        raise _partner_conflict(str(error)) from None
    except ConcurrentPartnerChange:
        raise _partner_conflict("the partner changed meanwhile: read it again") from None


def _partner_conflict(message: str) -> HTTPException:
    """A 409 about the partner as a whole: the same shape as one about a field, naming the path parameter."""
    return HTTPException(
        status.HTTP_409_CONFLICT, [{"loc": ["path", "partner_id"], "msg": message, "type": "value_error"}]
    )


_WHAT_IS_MISSING: dict[type[Exception], str] = {
    handlers.PartnerNotFound: "no such partner",
    ContactNotFound: "no such contact",
    AgreementNotFound: "no such agreement",
}


# Partners


@router.post(
    "/partners",
    status_code=status.HTTP_201_CREATED,
    summary="Register a community partner",
    description="Its `contact_email` becomes its first, primary contact. Publishes `projects.partner.registered.v1`.",
    responses=_conflict("A partner with that name is already registered"),
)
async def register_partner(body: PartnerIn, request: Request, uow: UnitOfWork, _: Coordinator) -> PartnerOut:
    command = commands.RegisterPartner(
        name=body.name,
        kind=body.kind,
        contact_email=str(body.contact_email),
        areas_of_work=body.areas_of_work,
        correlation_id=correlation_id_from(request),
    )
    return PartnerOut.of(await _refusals(handlers.register_partner(command, uow)), with_email=True)


@router.get(
    "/partners",
    summary="List community partners, oldest first",
    description="Supervisors get no contact addresses; partner users get only their own organisation.",
)
async def list_partners(
    uow: UnitOfWork,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    archived: Annotated[ArchivedFilter, Query(description="Archived partners: only them, none, or all")] = (
        ArchivedFilter.FALSE
    ),
) -> list[PartnerOut]:
    only = None if archived is ArchivedFilter.ALL else archived is ArchivedFilter.TRUE
    found = await handlers.list_partners(
        uow, limit=limit, offset=offset, archived=only, only=_only_organisation(principal)
    )
    return [PartnerOut.of(p, with_email=_sees_emails(principal, p.id)) for p in found]


@router.get(
    "/partners/{partner_id}",
    summary="A partner with its contacts and agreements",
    description="Supervisors get no contact addresses; partner users may read only their own organisation.",
    responses=NOT_FOUND,
)
async def get_partner(partner_id: uuid.UUID, uow: UnitOfWork, principal: Reader) -> PartnerDetailOut:
    _check_visible(principal, partner_id)
    partner = await _refusals(handlers.get_partner(uow, partner_id))
    return PartnerDetailOut.of(partner, with_email=_sees_emails(principal, partner_id))


@router.patch(
    "/partners/{partner_id}",
    summary="Rename or reclassify a partner",
    description="Publishes `projects.partner.updated.v1` when something changed.",
    responses={**NOT_FOUND, **_conflict("Another partner has that name, or the partner changed meanwhile")},
)
async def update_partner(
    partner_id: uuid.UUID, body: PartnerPatch, request: Request, uow: UnitOfWork, _: Coordinator
) -> PartnerDetailOut:
    command = commands.UpdatePartner(
        partner_id=partner_id, name=body.name, kind=body.kind, correlation_id=correlation_id_from(request)
    )
    return PartnerDetailOut.of(await _refusals(handlers.update_partner(command, uow)), with_email=True)


@router.put(
    "/partners/{partner_id}/areas-of-work",
    summary="Replace a partner's areas of work",
    description="Publishes `projects.partner.updated.v1` when the list changed.",
    responses={**NOT_FOUND, **_conflict("The partner changed meanwhile")},
)
async def replace_areas_of_work(
    partner_id: uuid.UUID, body: AreasOfWorkIn, request: Request, uow: UnitOfWork, _: Coordinator
) -> PartnerDetailOut:
    command = commands.ReplaceAreasOfWork(
        partner_id=partner_id, areas_of_work=body.areas_of_work, correlation_id=correlation_id_from(request)
    )
    return PartnerDetailOut.of(await _refusals(handlers.replace_areas_of_work(command, uow)), with_email=True)


@router.post(
    "/partners/{partner_id}/archive",
    summary="Archive a partner",
    description="Hides it from the default list; new projects may not name it. Publishes "
    "`projects.partner.archived.v1`.",
    responses={**NOT_FOUND, **_conflict("The partner is already archived, or changed meanwhile")},
)
async def archive_partner(partner_id: uuid.UUID, request: Request, uow: UnitOfWork, _: Coordinator) -> PartnerDetailOut:
    command = commands.ArchivePartner(partner_id=partner_id, correlation_id=correlation_id_from(request))
    return PartnerDetailOut.of(await _refusals(handlers.archive_partner(command, uow)), with_email=True)


@router.post(
    "/partners/{partner_id}/unarchive",
    summary="Bring an archived partner back",
    description="Publishes `projects.partner.unarchived.v1`.",
    responses={**NOT_FOUND, **_conflict("The partner is not archived, or changed meanwhile")},
)
async def unarchive_partner(
    partner_id: uuid.UUID, request: Request, uow: UnitOfWork, _: Coordinator
) -> PartnerDetailOut:
    command = commands.UnarchivePartner(partner_id=partner_id, correlation_id=correlation_id_from(request))
    return PartnerDetailOut.of(await _refusals(handlers.unarchive_partner(command, uow)), with_email=True)


# Contacts


@router.post(
    "/partners/{partner_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    summary="Add a contact to a partner",
    description="Coordinators, and the partner's own users. Publishes `projects.partner_contact.added.v1` (and "
    "`projects.partner_contact.updated.v1` for a contact that stops being primary); events carry no name or address.",
    responses={
        **NOT_FOUND,
        **_conflict(
            "Another contact has that address, the partner has the most contacts allowed, or it changed meanwhile"
        ),
    },
)
async def add_contact(
    partner_id: uuid.UUID, body: ContactIn, request: Request, uow: UnitOfWork, principal: ContactEditor
) -> ContactOut:
    _check_may_edit_contacts(principal, partner_id)
    command = commands.AddContact(
        partner_id=partner_id,
        name=body.name,
        email=str(body.email),
        role=body.role,
        primary=body.primary,
        correlation_id=correlation_id_from(request),
    )
    return ContactOut.of(await _refusals(handlers.add_contact(command, uow)), with_email=True)


@router.patch(
    "/partners/{partner_id}/contacts/{contact_id}",
    summary="Edit a partner's contact",
    description="Coordinators, and the partner's own users. Publishes `projects.partner_contact.updated.v1` for "
    "each contact that changed.",
    responses={
        **NOT_FOUND,
        **_conflict(
            "Another contact has that address, un-flagging the primary contact, or the partner changed meanwhile"
        ),
    },
)
async def edit_contact(
    partner_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: ContactPatch,
    request: Request,
    uow: UnitOfWork,
    principal: ContactEditor,
) -> ContactOut:
    _check_may_edit_contacts(principal, partner_id)
    command = commands.EditContact(
        partner_id=partner_id,
        contact_id=contact_id,
        name=body.name,
        email=str(body.email) if body.email is not None else None,
        role=body.role,
        primary=body.primary,
        correlation_id=correlation_id_from(request),
    )
    return ContactOut.of(await _refusals(handlers.edit_contact(command, uow)), with_email=True)


@router.delete(
    "/partners/{partner_id}/contacts/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a partner's contact",
    description="Coordinators, and the partner's own users. Removing the primary contact makes the "
    "longest-standing remaining contact primary. Publishes `projects.partner_contact.removed.v1`.",
    responses={**NOT_FOUND, **_conflict("The partner changed meanwhile")},
)
async def remove_contact(
    partner_id: uuid.UUID, contact_id: uuid.UUID, request: Request, uow: UnitOfWork, principal: ContactEditor
) -> Response:
    _check_may_edit_contacts(principal, partner_id)
    command = commands.RemoveContact(
        partner_id=partner_id, contact_id=contact_id, correlation_id=correlation_id_from(request)
    )
    await _refusals(handlers.remove_contact(command, uow))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Agreements


@router.post(
    "/partners/{partner_id}/agreements",
    status_code=status.HTTP_201_CREATED,
    summary="Record an agreement with a partner, as a draft",
    description="Publishes `projects.partner_agreement.added.v1`.",
    responses={**NOT_FOUND, **_conflict("The partner has the most agreements allowed, or changed meanwhile")},
)
async def add_agreement(
    partner_id: uuid.UUID, body: AgreementIn, request: Request, uow: UnitOfWork, _: Coordinator
) -> AgreementOut:
    command = commands.AddAgreement(
        partner_id=partner_id,
        kind=body.kind,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        correlation_id=correlation_id_from(request),
    )
    return AgreementOut.of(await _refusals(handlers.add_agreement(command, uow)))


@router.patch(
    "/partners/{partner_id}/agreements/{agreement_id}",
    summary="Change an agreement's terms or status",
    description="A draft may change anything; an active or expired agreement only its end date; a terminated one "
    "nothing. Statuses: draft -> active, draft -> terminated, active -> terminated; `expired` is read from the end "
    "date, never set. Publishes `projects.partner_agreement.updated.v1`, `.activated.v1` or `.terminated.v1`.",
    responses={**NOT_FOUND, **_conflict("A change the agreement's status does not allow (the field says which)")},
)
async def edit_agreement(
    partner_id: uuid.UUID,
    agreement_id: uuid.UUID,
    body: AgreementPatch,
    request: Request,
    uow: UnitOfWork,
    _: Coordinator,
) -> AgreementOut:
    command = commands.EditAgreement(
        partner_id=partner_id,
        agreement_id=agreement_id,
        kind=body.kind,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        status=body.status,
        correlation_id=correlation_id_from(request),
    )
    return AgreementOut.of(await _refusals(handlers.edit_agreement(command, uow)))
