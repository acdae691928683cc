"""Builds the directory of adult contacts (and what emails name: groups, project titles, WATCCH offers) from events.

`record` is a consumer Reaction, registered before `email_rules.react` so that an event's own facts (a project's
title, a group's members) are filed before the emails it sends are addressed. Each record is as of the event's
`time`; an older event never overwrites a newer one (see domain.directory). Nothing here logs a name or address.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.directory import Contact, GroupMembers, OfferState, WatcchOffer, offer_reminder_at
from medic.notifications.domain.model import as_utc
from medic.notifications.service_layer import typed_events
from medic.shared.contracts.outreach.erasure import ParticipantErasedV1
from medic.shared.contracts.outreach.watcch import (
    WatcchApplicationAcceptedV1,
    WatcchApplicationDeclinedV1,
    WatcchApplicationEnrolledV1,
    WatcchApplicationOfferedV1,
    WatcchApplicationOfferExpiredV1,
    WatcchApplicationV1,
    WatcchApplicationWithdrawnV1,
)
from medic.shared.contracts.projects import projects as project_contracts
from medic.shared.contracts.projects.contacts import ContactAddressRemovedV1, ContactAddressSetV1, ContactKind
from medic.shared.contracts.projects.setup import GroupChangedV1, GroupCreatedV1, GroupFormedV1, GroupV1
from medic.shared.events import RawEnvelope
from medic.shared.logging import get_logger

log = get_logger(__name__)

# A filing takes the event validated by the model it is listed with.
Filing = Callable[[Any, RawEnvelope, NotificationsUnitOfWork], Awaitable[None]]


async def _address_set(event: ContactAddressSetV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    partner_contact = event.kind is ContactKind.PARTNER_CONTACT
    contact = Contact(
        kind=event.kind,
        contact_id=event.contact_id,
        email=event.email.strip().lower(),
        display_name=event.display_name,
        partner_id=event.partner_id if partner_contact else None,
        primary=event.primary and partner_contact,
        as_of=as_utc(envelope.time),
    )
    await uow.directory.set_contact(contact)


async def _address_removed(event: ContactAddressRemovedV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    """The address goes from the directory and, unless someone else still in it has the same address, from the
    emails too (queued ones are not sent; sent ones are no longer listed)."""
    stored = await uow.directory.contact(event.kind, event.contact_id)
    if not await uow.directory.remove_contact(event.kind, event.contact_id, as_utc(envelope.time)):
        return  # a newer record is stored: this removal is out of date
    if stored is not None and stored.email is not None and not await uow.directory.in_use(stored.email):
        await uow.emails.forget_recipient(stored.email)


async def _group(event: GroupV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    members = GroupMembers(
        group_id=event.group_id,
        name=event.name,
        student_ids=frozenset(event.student_ids),
        supervisor_ids=frozenset(event.supervisor_ids),
        as_of=as_utc(envelope.time),
    )
    await uow.directory.set_group(members)


async def _project(event: project_contracts.ProjectFacts, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    title = event.title if isinstance(event, project_contracts.ProjectCreatedV1) else None
    await uow.directory.set_project(
        event.project_id,
        group_id=event.group_id,
        lead_partner_id=event.partner_ids[0] if event.partner_ids else None,
        title=title,
        as_of=as_utc(envelope.time),
    )


async def _offered(event: WatcchApplicationOfferedV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    offered_at = as_utc(envelope.time)
    offer = WatcchOffer(
        application_id=event.application_id,
        cycle_id=event.cycle_id,
        participant_id=event.participant_id,
        expires_at=as_utc(event.expires_at),
        remind_at=offer_reminder_at(offered_at, as_utc(event.expires_at)),
        state=OfferState.PENDING,
        as_of=offered_at,
    )
    await uow.directory.offer_made(offer)


async def _offer_over(event: WatcchApplicationV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    await uow.directory.offer_closed(
        event.application_id, cycle_id=event.cycle_id, participant_id=event.participant_id, at=as_utc(envelope.time)
    )


async def _participant_erased(event: ParticipantErasedV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    await uow.directory.forget_participant(event.participant_id)


# `outreach.safeguarding_person.erased.v1` names a university id: nothing here is keyed by one (students are filed
# by their projects id), so it changes nothing in the directory.

_PROJECT_EVENTS: tuple[type[project_contracts.ProjectFacts], ...] = tuple(
    model
    for model in project_contracts.PUBLISHED
    if isinstance(model, type) and issubclass(model, project_contracts.ProjectFacts)
)

FILINGS: Mapping[str, tuple[type[BaseModel], Filing]] = {
    ContactAddressSetV1.event_type: (ContactAddressSetV1, _address_set),
    ContactAddressRemovedV1.event_type: (ContactAddressRemovedV1, _address_removed),
    **{model.event_type: (model, _group) for model in (GroupCreatedV1, GroupChangedV1, GroupFormedV1)},
    **{model.event_type: (model, _project) for model in _PROJECT_EVENTS},
    WatcchApplicationOfferedV1.event_type: (WatcchApplicationOfferedV1, _offered),
    **{
        model.event_type: (model, _offer_over)
        for model in (
            WatcchApplicationAcceptedV1,
            WatcchApplicationDeclinedV1,
            WatcchApplicationWithdrawnV1,
            WatcchApplicationOfferExpiredV1,
            WatcchApplicationEnrolledV1,
        )
    },
    ParticipantErasedV1.event_type: (ParticipantErasedV1, _participant_erased),
}


async def record(data: dict[str, Any], envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    """The consumer Reaction: file what this event says about contacts, groups, projects and offers."""
    await typed_events.dispatch(FILINGS, data, envelope, uow, area="directory")
