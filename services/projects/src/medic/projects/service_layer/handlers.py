"""Partner use cases of the projects service: each runs in one unit of work and stages its events in the outbox.

Contact events carry ids, and the partner's own events carry what other services show (name, kind, areas of
work); a contact's name and address travel only in `projects.contact_address.*`, for the notifications directory.
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import TypeVar

from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain import commands
from medic.projects.domain.events import (
    AgreementActivated,
    AgreementAdded,
    AgreementTerminated,
    AgreementUpdated,
    ContactAdded,
    ContactRemoved,
    ContactUpdated,
    DomainEvent,
    PartnerArchived,
    PartnerRegistered,
    PartnerUnarchived,
    PartnerUpdated,
)
from medic.projects.domain.partners import Agreement, Contact, Partner, PartnerAlreadyRegistered
from medic.projects.service_layer.contact_addresses import (
    partner_contact_address,
    partner_contact_removed,
    publish_address,
)
from medic.shared.contracts.projects.contacts import ContactAddressRemovedV1, ContactAddressSetV1
from medic.shared.contracts.projects.partners import (
    PartnerAgreementActivatedV1,
    PartnerAgreementAddedV1,
    PartnerAgreementTerminatedV1,
    PartnerAgreementUpdatedV1,
    PartnerArchivedV1,
    PartnerContactAddedV1,
    PartnerContactRemovedV1,
    PartnerContactUpdatedV1,
    PartnerRegisteredV1,
    PartnerUnarchivedV1,
    PartnerUpdatedV1,
)
from medic.shared.events import Envelope, EventPayload

T = TypeVar("T")


class PartnerNotFound(LookupError):
    pass


def today() -> date:
    """The day agreements are judged on (UTC, like every time the service stores)."""
    return datetime.now(UTC).date()


async def register_partner(command: commands.RegisterPartner, uow: ProjectsUnitOfWork) -> Partner:
    async with uow:
        partner = Partner.register(
            name=command.name,
            kind=command.kind,
            contact_email=command.contact_email,
            areas_of_work=command.areas_of_work,
            now=datetime.now(UTC),
        )
        if await uow.partners.exists_named(partner.name_key):
            raise PartnerAlreadyRegistered(f"a partner named {partner.name!r} is already registered")
        await uow.partners.add(partner)
        await _publish_events(uow, partner, command.correlation_id)
        await uow.commit()
    return partner


async def list_partners(
    uow: ProjectsUnitOfWork, *, limit: int, offset: int, archived: bool | None = False, only: uuid.UUID | None = None
) -> Sequence[Partner]:
    async with uow:
        return await uow.partners.list(limit=limit, offset=offset, archived=archived, only=only)


async def get_partner(uow: ProjectsUnitOfWork, partner_id: uuid.UUID) -> Partner:
    async with uow:
        partner = await uow.partners.get(partner_id)
    if partner is None:
        raise PartnerNotFound(partner_id)
    return partner


async def _change(
    uow: ProjectsUnitOfWork,
    partner_id: uuid.UUID,
    correlation_id: uuid.UUID,
    change: Callable[[Partner], T],
    *,
    check_name: bool = False,
) -> tuple[Partner, T]:
    """Load the partner, apply `change`, save it and stage its events, in one transaction."""
    async with uow:
        partner = await uow.partners.get(partner_id)
        if partner is None:
            raise PartnerNotFound(partner_id)
        read_revision = partner.revision
        result = change(partner)
        if check_name and await uow.partners.exists_named(partner.name_key, other_than=partner.id):
            raise PartnerAlreadyRegistered(f"a partner named {partner.name!r} is already registered")
        await uow.partners.save(partner, read_revision=read_revision)
        await _publish_events(uow, partner, correlation_id)
        await uow.commit()
    return partner, result


async def update_partner(command: commands.UpdatePartner, uow: ProjectsUnitOfWork) -> Partner:
    partner, _ = await _change(
        uow,
        command.partner_id,
        command.correlation_id,
        lambda p: p.update(name=command.name, kind=command.kind),
        check_name=command.name is not None,
    )
    return partner


async def replace_areas_of_work(command: commands.ReplaceAreasOfWork, uow: ProjectsUnitOfWork) -> Partner:
    partner, _ = await _change(
        uow, command.partner_id, command.correlation_id, lambda p: p.replace_areas_of_work(command.areas_of_work)
    )
    return partner


async def archive_partner(command: commands.ArchivePartner, uow: ProjectsUnitOfWork) -> Partner:
    now = datetime.now(UTC)
    partner, _ = await _change(uow, command.partner_id, command.correlation_id, lambda p: p.archive(now))
    return partner


async def unarchive_partner(command: commands.UnarchivePartner, uow: ProjectsUnitOfWork) -> Partner:
    partner, _ = await _change(uow, command.partner_id, command.correlation_id, lambda p: p.unarchive())
    return partner


async def add_contact(command: commands.AddContact, uow: ProjectsUnitOfWork) -> Contact:
    now = datetime.now(UTC)
    _, contact = await _change(
        uow,
        command.partner_id,
        command.correlation_id,
        lambda p: p.add_contact(
            name=command.name, email=command.email, role=command.role, primary=command.primary, now=now
        ),
    )
    return contact


async def edit_contact(command: commands.EditContact, uow: ProjectsUnitOfWork) -> Contact:
    _, contact = await _change(
        uow,
        command.partner_id,
        command.correlation_id,
        lambda p: p.edit_contact(
            command.contact_id, name=command.name, email=command.email, role=command.role, primary=command.primary
        ),
    )
    return contact


async def remove_contact(command: commands.RemoveContact, uow: ProjectsUnitOfWork) -> None:
    await _change(uow, command.partner_id, command.correlation_id, lambda p: p.remove_contact(command.contact_id))


async def add_agreement(command: commands.AddAgreement, uow: ProjectsUnitOfWork) -> Agreement:
    now = datetime.now(UTC)
    _, agreement = await _change(
        uow,
        command.partner_id,
        command.correlation_id,
        lambda p: p.add_agreement(kind=command.kind, starts_on=command.starts_on, ends_on=command.ends_on, now=now),
    )
    return agreement


async def edit_agreement(command: commands.EditAgreement, uow: ProjectsUnitOfWork) -> Agreement:
    day = today()
    _, agreement = await _change(
        uow,
        command.partner_id,
        command.correlation_id,
        lambda p: p.edit_agreement(
            command.agreement_id,
            today=day,
            kind=command.kind,
            starts_on=command.starts_on,
            ends_on=command.ends_on,
            status=command.status,
        ),
    )
    return agreement


async def _publish_events(uow: ProjectsUnitOfWork, partner: Partner, correlation_id: uuid.UUID) -> None:
    day = today()
    for event in partner.events:
        payload, subject = _integration_event(partner, event, day)
        await uow.publish(Envelope.wrap(payload, subject=subject, correlation_id=correlation_id))
        address = _address_event(partner, event)
        if address is not None:
            await publish_address(uow, address, correlation_id)
    partner.events.clear()


def _address_event(partner: Partner, event: DomainEvent) -> ContactAddressSetV1 | ContactAddressRemovedV1 | None:
    """The contact address a partner event changes, if any (a registration makes the primary contact)."""
    match event:
        case PartnerRegistered():
            primary = partner.primary_contact
            return partner_contact_address(partner.id, primary) if primary is not None else None
        case ContactAdded(contact_id=contact_id) | ContactUpdated(contact_id=contact_id):
            return partner_contact_address(partner.id, partner.contact(contact_id))
        case ContactRemoved(contact_id=contact_id):
            return partner_contact_removed(contact_id)
    return None


def _integration_event(partner: Partner, event: DomainEvent, day: date) -> tuple[EventPayload, str]:
    """The contract for a domain event, and its subject, from the partner as it is after the change."""
    subject = f"partners/{partner.id}"
    pid, revision = partner.id, partner.revision
    match event:
        case PartnerRegistered():
            areas = list(partner.areas_of_work)
            return PartnerRegisteredV1(
                partner_id=pid, name=partner.name, kind=partner.kind, areas_of_work=areas
            ), subject
        case PartnerUpdated():
            areas = list(partner.areas_of_work)
            profile = PartnerUpdatedV1(
                partner_id=pid, revision=revision, name=partner.name, kind=partner.kind, areas_of_work=areas
            )
            return profile, subject
        case PartnerArchived():
            return PartnerArchivedV1(partner_id=pid, revision=revision), subject
        case PartnerUnarchived():
            return PartnerUnarchivedV1(partner_id=pid, revision=revision), subject
        case ContactAdded(contact_id=contact_id):
            primary = partner.contact(contact_id).primary
            return PartnerContactAddedV1(partner_id=pid, revision=revision, contact_id=contact_id, primary=primary), (
                f"{subject}/contacts/{contact_id}"
            )
        case ContactUpdated(contact_id=contact_id):
            primary = partner.contact(contact_id).primary
            return PartnerContactUpdatedV1(
                partner_id=pid, revision=revision, contact_id=contact_id, primary=primary
            ), f"{subject}/contacts/{contact_id}"
        case ContactRemoved(contact_id=contact_id):
            return PartnerContactRemovedV1(partner_id=pid, revision=revision, contact_id=contact_id), (
                f"{subject}/contacts/{contact_id}"
            )
        case (
            AgreementAdded(agreement_id=agreement_id)
            | AgreementUpdated(agreement_id=agreement_id)
            | (AgreementActivated(agreement_id=agreement_id))
            | AgreementTerminated(agreement_id=agreement_id)
        ):
            agreement = partner.agreement(agreement_id)
            contract = _AGREEMENT_EVENTS[type(event)]
            payload = contract(
                partner_id=pid,
                revision=revision,
                agreement_id=agreement_id,
                kind=agreement.kind,
                starts_on=agreement.starts_on,
                ends_on=agreement.ends_on,
                status=agreement.status_on(day),
            )
            return payload, f"{subject}/agreements/{agreement_id}"
    raise TypeError(f"no integration event for {type(event).__name__}")


_AgreementContract = (
    type[PartnerAgreementAddedV1]
    | type[PartnerAgreementUpdatedV1]
    | type[PartnerAgreementActivatedV1]
    | type[PartnerAgreementTerminatedV1]
)
_AGREEMENT_EVENTS: dict[type[DomainEvent], _AgreementContract] = {
    AgreementAdded: PartnerAgreementAddedV1,
    AgreementUpdated: PartnerAgreementUpdatedV1,
    AgreementActivated: PartnerAgreementActivatedV1,
    AgreementTerminated: PartnerAgreementTerminatedV1,
}
