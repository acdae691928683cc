"""Which email each event sends, and to whom: the adults in the directory, or the coordinators. Never a child.

`react` is a consumer Reaction (registered after `directory.record`, which files the event's own facts first): it
runs in the consumer's transaction, so a redelivered event is skipped whole, and `uow.emails.enqueue` keeps one
email per (cause, recipient, kind) besides. The cause is the event's id. `notify_endpoint_disabled` is called by
the webhook dispatcher in the transaction that disables an endpoint. Logs name kinds and counts, never addresses.
"""

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain import email_catalogue as kinds
from medic.notifications.domain.directory import ContactKind, Recipient, WatcchOffer
from medic.notifications.domain.emails import EmailRequest, InvalidEmailRequest
from medic.notifications.service_layer import typed_events
from medic.shared.contracts.outreach.consent import ConsentExpiringV1
from medic.shared.contracts.outreach.erasure import ParticipantErasedV1, SafeguardingPersonErasedV1
from medic.shared.contracts.outreach.safeguarding import DbsRecheckDueV1
from medic.shared.contracts.outreach.watcch import WatcchApplicationOfferedV1
from medic.shared.contracts.projects.contacts import VerificationMailRequestedV1
from medic.shared.contracts.projects.milestones import (
    MilestoneApproachingV1,
    MilestoneDueV1,
    MilestoneOverdueV1,
    MilestoneReminderV1,
)
from medic.shared.contracts.projects.projects import (
    ProjectApprovedV1,
    ProjectChangesRequestedV1,
    ProjectDisputedV1,
    ProjectFacts,
    ProjectProposalSubmittedV1,
    ProjectRejectedV1,
    ProjectVerifiedV1,
)
from medic.shared.events import RawEnvelope
from medic.shared.logging import get_logger

log = get_logger(__name__)

UK = ZoneInfo("Europe/London")


# Formatting: contexts hold text (JSON values), in the programme's time zone.


def day_text(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def moment_text(moment: datetime) -> str:
    local = moment.astimezone(UK)
    return f"{day_text(local.date())}, {local:%H:%M} UK time"


def safe_url(url: str) -> str:
    """An endpoint's url without credentials, query or fragment (they may hold a partner's token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# Sending


async def send(
    uow: NotificationsUnitOfWork, kind: str, cause_id: str, recipients: Iterable[Recipient], context: Mapping[str, Any]
) -> int:
    """Queue `kind` for each recipient (each address once); returns how many were newly queued."""
    queued, seen = 0, set()
    for recipient in recipients:
        address = recipient.email.strip().lower()
        if address in seen:
            continue
        seen.add(address)
        try:
            request = EmailRequest(
                kind=kind, cause_id=cause_id, recipient=address, recipient_name=recipient.name, context=dict(context)
            )
        except InvalidEmailRequest as error:  # a malformed address in the directory: skip it, say which field
            log.warning("email_rules.request_refused", kind=kind, field=error.field)
            continue
        queued += await uow.emails.enqueue(request)
    if not seen:
        log.info("email_rules.no_recipients", kind=kind)
    return queued


async def _group_recipients(
    uow: NotificationsUnitOfWork, group_id: uuid.UUID, *, students: bool, supervisors: bool
) -> list[Recipient]:
    group = await uow.directory.group(group_id)
    if group is None:
        return []
    found: list[Recipient] = []
    if students:
        found += await uow.directory.recipients(ContactKind.STUDENT, group.student_ids)
    if supervisors:
        found += await uow.directory.recipients(ContactKind.SUPERVISOR, group.supervisor_ids)
    return found


async def _project_context(uow: NotificationsUnitOfWork, project_id: uuid.UUID, group_id: uuid.UUID) -> dict[str, Any]:
    project = await uow.directory.project(project_id)
    group = await uow.directory.group(group_id)
    return {
        "project_id": str(project_id),
        "project_title": project.title if project and project.title else "your project",
        "group_name": group.name if group else "",
    }


# The rules, by event type: each takes the validated payload.

# A rule takes the event validated by the model it is listed with.
Rule = Callable[[Any, RawEnvelope, NotificationsUnitOfWork], Awaitable[None]]


def _to_group(kind: str, *, students: bool, supervisors: bool) -> Rule:
    async def rule(event: ProjectFacts, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
        recipients = await _group_recipients(uow, event.group_id, students=students, supervisors=supervisors)
        context = await _project_context(uow, event.project_id, event.group_id)
        if isinstance(event, ProjectVerifiedV1 | ProjectDisputedV1):
            context["result"] = "verified" if isinstance(event, ProjectVerifiedV1) else "disputed"
        await send(uow, kind, str(envelope.id), recipients, context)

    return rule


def _milestone(kind: str) -> Rule:
    async def rule(event: MilestoneReminderV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
        recipients = await _group_recipients(uow, event.group_id, students=True, supervisors=False)
        context = await _project_context(uow, event.project_id, event.group_id)
        context |= {"milestone": event.milestone.value.replace("_", " "), "due_on": day_text(event.due_on)}
        await send(uow, kind, str(envelope.id), recipients, context)

    return rule


async def _verification_request(
    event: VerificationMailRequestedV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork
) -> None:
    contact = await uow.directory.contact(ContactKind.PARTNER_CONTACT, event.contact_id)
    recipient = contact.recipient if contact else None
    project = await uow.directory.project(event.project_id)
    context = {
        "project_id": str(event.project_id),
        "project_title": project.title if project and project.title else "a Community Action Project",
        "link": event.link,  # the email (kept until sent) is the only place the link stays
        "expires_at": moment_text(event.expires_at),
    }
    await send(uow, kinds.VERIFICATION_REQUEST, str(envelope.id), [recipient] if recipient else [], context)


async def _dbs_recheck_due(event: DbsRecheckDueV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    context = {"person_id": event.person_id, "due_on": day_text(event.due_on), "days_before": event.days_before}
    await send(uow, kinds.DBS_RECHECK_DUE, str(envelope.id), uow.coordinators, context)


async def _consent_expiring(event: ConsentExpiringV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    context = {
        "participant_id": str(event.participant_id),  # pseudonymous: coordinators look the person up in outreach
        "scope": event.scope.replace("_", " "),
        "expires_on": day_text(event.expires_on),
        "days_left": event.days_left,
    }
    await send(uow, kinds.CONSENT_EXPIRING, str(envelope.id), uow.coordinators, context)


async def _offer_made(event: WatcchApplicationOfferedV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    context = {
        "application_id": str(event.application_id),
        "cycle_id": str(event.cycle_id),
        "expires_at": moment_text(event.expires_at),
        "from_waitlist": event.from_waitlist,
    }
    await send(uow, kinds.WATCCH_OFFER_MADE, str(envelope.id), uow.coordinators, context)


async def _forget_participant(event: ParticipantErasedV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    """Erasure reaches the emails naming her not yet sent (a consent expiring): they go, unsent."""
    forgotten = await uow.emails.forget_about(str(event.participant_id))
    log.info("email_rules.forgotten", event_id=str(envelope.id), emails=forgotten)


async def _forget_person(
    event: SafeguardingPersonErasedV1, envelope: RawEnvelope, uow: NotificationsUnitOfWork
) -> None:
    """Erasure reaches the emails about the person not yet sent (a DBS recheck due names their university id)."""
    forgotten = await uow.emails.forget_about(str(event.person_id))
    log.info("email_rules.forgotten", event_id=str(envelope.id), emails=forgotten)


RULES: Mapping[str, tuple[type[BaseModel], Rule]] = {
    ProjectProposalSubmittedV1.event_type: (
        ProjectProposalSubmittedV1,
        _to_group(kinds.PROPOSAL_WAITING, students=False, supervisors=True),
    ),
    ProjectChangesRequestedV1.event_type: (
        ProjectChangesRequestedV1,
        _to_group(kinds.CHANGES_REQUESTED, students=True, supervisors=False),
    ),
    ProjectApprovedV1.event_type: (
        ProjectApprovedV1,
        _to_group(kinds.PROPOSAL_APPROVED, students=True, supervisors=False),
    ),
    ProjectRejectedV1.event_type: (
        ProjectRejectedV1,
        _to_group(kinds.PROPOSAL_REJECTED, students=True, supervisors=False),
    ),
    ProjectVerifiedV1.event_type: (
        ProjectVerifiedV1,
        _to_group(kinds.VERIFICATION_RESULT, students=True, supervisors=True),
    ),
    ProjectDisputedV1.event_type: (
        ProjectDisputedV1,
        _to_group(kinds.VERIFICATION_RESULT, students=True, supervisors=True),
    ),
    VerificationMailRequestedV1.event_type: (VerificationMailRequestedV1, _verification_request),
    MilestoneApproachingV1.event_type: (MilestoneApproachingV1, _milestone(kinds.MILESTONE_APPROACHING)),
    MilestoneDueV1.event_type: (MilestoneDueV1, _milestone(kinds.MILESTONE_DUE)),
    MilestoneOverdueV1.event_type: (MilestoneOverdueV1, _milestone(kinds.MILESTONE_OVERDUE)),
    DbsRecheckDueV1.event_type: (DbsRecheckDueV1, _dbs_recheck_due),
    ConsentExpiringV1.event_type: (ConsentExpiringV1, _consent_expiring),
    WatcchApplicationOfferedV1.event_type: (WatcchApplicationOfferedV1, _offer_made),
    ParticipantErasedV1.event_type: (ParticipantErasedV1, _forget_participant),
    SafeguardingPersonErasedV1.event_type: (SafeguardingPersonErasedV1, _forget_person),
}


async def react(data: dict[str, Any], envelope: RawEnvelope, uow: NotificationsUnitOfWork) -> None:
    """The consumer Reaction: the emails this event sends, if any."""
    await typed_events.dispatch(RULES, data, envelope, uow, area="email_rules")


# Called from elsewhere in the service.


async def notify_endpoint_disabled(
    uow: NotificationsUnitOfWork,
    *,
    endpoint_id: uuid.UUID,
    partner_id: uuid.UUID,
    url: str,
    reason: str,
    at: datetime,
) -> None:
    """Email the partner's primary contact and the coordinators that a webhook endpoint was disabled.

    Called by the webhook dispatcher in the transaction that disables the endpoint; once per disabling (the cause
    is the endpoint and the moment), however often that transaction is retried."""
    primary = await uow.directory.primary_contact(partner_id)
    recipients = [*([primary] if primary else []), *uow.coordinators]
    context = {
        "endpoint_id": str(endpoint_id),
        "partner_id": str(partner_id),
        "url": safe_url(url),
        "reason": reason,
        "disabled_at": moment_text(at),
    }
    cause = f"endpoint-disabled:{endpoint_id}:{at.isoformat()}"
    await send(uow, kinds.WEBHOOK_ENDPOINT_DISABLED, cause, recipients, context)


async def remind_offer_expiring(uow: NotificationsUnitOfWork, offer: WatcchOffer) -> int:
    """The coordinators' reminder that a WATCCH offer lapses soon (the timer in `email_timers` calls it)."""
    context = {
        "application_id": str(offer.application_id),
        "cycle_id": str(offer.cycle_id),
        "expires_at": moment_text(offer.expires_at),
    }
    cause = f"offer-expiring:{offer.application_id}:{offer.expires_at.isoformat()}"
    return await send(uow, kinds.WATCCH_OFFER_EXPIRING, cause, uow.coordinators, context)
