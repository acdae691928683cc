"""What a partner may see: internal events turned into partner events, and the links from schools to partners.

`react` is a consumer Reaction: it runs for every event, in the consumer's transaction, after the log entry. It
keeps what later payloads need (project titles, partners and schools as published), then turns the event into zero
or more partner events through the per-type allow-list (`domain.partner_events.drafts`), numbers each in its
partner's sequence and publishes it with `webhook_messages.publish_to_partner`. A redelivered event is skipped whole
by the consumer's inbox, so no message is numbered or queued twice.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.partner_events import (
    SOURCES,
    Draft,
    Known,
    SchoolLink,
    drafts,
)
from medic.notifications.service_layer import typed_events, webhook_messages
from medic.notifications.service_layer.handlers import ERASURE_SUBJECTS
from medic.shared.contracts.outreach import erasure, primary, schools
from medic.shared.contracts.projects import partners, projects
from medic.shared.events import EventPayload, RawEnvelope
from medic.shared.logging import get_logger

log = get_logger(__name__)

# Events whose facts later payloads, or the school links, need.
_REMEMBERED: dict[str, type[EventPayload]] = {
    payload.event_type: payload
    for payload in (
        projects.ProjectCreatedV1,
        partners.PartnerRegisteredV1,
        partners.PartnerUpdatedV1,
        schools.SchoolRegisteredV1,
        schools.SchoolUpdatedV1,
    )
}
_ERASED = erasure.ParticipantErasedV1.event_type
_ERASED_SUBJECT_PREFIX, _ = ERASURE_SUBJECTS[_ERASED]


class UnknownSchool(ValueError):
    """Outreach has published no school with that URN."""


class UnknownPartner(ValueError):
    """Projects has published no partner with that id."""


async def react(data: dict[str, Any], envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    payload_type = SOURCES.get(envelope.type) or _REMEMBERED.get(envelope.type)
    if payload_type is None:
        return
    event = typed_events.read(payload_type, data, envelope, area="partner_events")
    if event is None:
        return
    await _remember(event, uow)
    known = await _known(event, uow)
    published = 0
    for draft in drafts(event, known):
        if await _about_an_erased_participant(draft, uow):
            continue
        await _publish(draft, envelope, uow)
        published += 1
    if published:
        log.info("partner_events.published", event_id=str(envelope.id), event_type=envelope.type, messages=published)


async def _remember(event: EventPayload, uow: NotificationsUnitOfWork) -> None:
    match event:
        case projects.ProjectCreatedV1():
            await uow.partner_events.remember_project(event.project_id, event.title)
        case partners.PartnerRegisteredV1():
            await uow.partner_events.remember_partner(event.partner_id, name=event.name, revision=0)
        case partners.PartnerUpdatedV1():
            await uow.partner_events.remember_partner(event.partner_id, name=event.name, revision=event.revision)
        case schools.SchoolV1():
            await uow.partner_events.remember_school(event.urn, event.name)


async def _known(event: EventPayload, uow: NotificationsUnitOfWork) -> Known:
    if isinstance(event, projects.ProjectFacts):
        return Known(project_title=await uow.partner_events.project_title(event.project_id))
    if isinstance(event, primary.SessionV1):
        return Known(school_partner_id=await uow.partner_events.school_partner(event.urn))
    return Known()


async def _about_an_erased_participant(draft: Draft, uow: NotificationsUnitOfWork) -> bool:
    """A sharing consent's end that arrives after its participant's erasure says nothing the erasure notice did
    not: their id is not sent again. (The erasure notice itself always goes.)"""
    if draft.event_type != "participant.sharing_consent_ended.v1":
        return False
    subject = f"{_ERASED_SUBJECT_PREFIX}{draft.fields['participant_id']}"
    return bool(await uow.events.erased_among([_ERASED], [subject]))


async def _publish(draft: Draft, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    sequence = await uow.partner_events.next_sequence(draft.partner_id)
    payload = draft.payload(sequence=sequence, occurred_at=envelope.time)
    await webhook_messages.publish_to_partner(
        uow, draft.partner_id, draft.event_type, payload, event_id=envelope.id, occurred_at=envelope.time
    )


# --- school links ----------------------------------------------------------------------------------------------------


async def link_school(uow: NotificationsUnitOfWork, urn: str, partner_id: uuid.UUID) -> SchoolLink:
    """Say which partner a school is: from now on, its sessions' events go to that partner (none are sent for
    sessions before). Linking it again moves it. UnknownSchool / UnknownPartner if either was never published."""
    async with uow:
        if await uow.partner_events.school_name(urn) is None:
            raise UnknownSchool(f"no school with URN {urn} is registered in outreach")
        if await uow.partner_events.partner_name(partner_id) is None:
            raise UnknownPartner(f"no partner {partner_id} is registered in projects")
        await uow.partner_events.link_school(urn, partner_id, datetime.now(UTC))
        [link] = await uow.partner_events.school_links(urn=urn)
        await uow.commit()
    log.info("partner_events.school_linked", urn=urn, partner_id=str(partner_id))
    return link


async def unlink_school(uow: NotificationsUnitOfWork, urn: str) -> bool:
    """False if the school was not linked."""
    async with uow:
        unlinked = await uow.partner_events.unlink_school(urn)
        await uow.commit()
    if unlinked:
        log.info("partner_events.school_unlinked", urn=urn)
    return unlinked


async def school_links(
    uow: NotificationsUnitOfWork, *, urn: str | None = None, partner_id: uuid.UUID | None = None
) -> list[SchoolLink]:
    async with uow:
        return list(await uow.partner_events.school_links(urn=urn, partner_id=partner_id))
