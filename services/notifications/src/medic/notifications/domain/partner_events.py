"""What a partner may see: the catalogue of partner event types and their payloads. No I/O here.

A partner event is a thin, allow-listed view of an internal event: ids, titles, states, dates and aggregate counts
about that partner's own projects, its schools' sessions and its own agreements. Never a student's or a child's
personal data (not even a student's pseudonymous id), never marks, never free text typed by a person. The only
participant-level facts a partner ever receives are the pseudonymous id in an erasure notice or a partner-sharing
consent ending, sent to the partners that consent named, so they can erase or stop using what they were given.

Every payload carries `partner_id`, `sequence` (per partner, strictly increasing in the order this service accepted
the events, across all types: a receiver orders by it, and a gap means a message of a type it does not subscribe to
or one not yet received) and `occurred_at` (when the internal event happened, at its source).
"""

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from medic.shared.contracts.outreach import consent, erasure, primary
from medic.shared.contracts.projects import partners, projects
from medic.shared.events import EventPayload

PARTNER_EVENT_TYPE_PATTERN = r"^[a-z_]+\.[a-z_]+\.v[1-9][0-9]*$"


class PartnerEventPayload(BaseModel):
    """What every partner event's `data` carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    partner_id: uuid.UUID = Field(description="Your organisation's id: every message is about your organisation.")
    sequence: int = Field(
        ge=1,
        description="Strictly increasing per partner, across all event types, in the order we accepted the events: "
        "order by it. A gap is a message of a type you do not subscribe to (or one still being retried).",
    )
    occurred_at: dt.datetime = Field(description="When the event happened, at its source (UTC).")


# --- projects -------------------------------------------------------------------------------------------------------


class ProjectPayload(PartnerEventPayload):
    project_id: uuid.UUID = Field(description="The project's id, the same in every message about it.")
    cohort_id: uuid.UUID = Field(description="The cohort (academic year) the project belongs to.")
    title: str | None = Field(
        description="The project's working title, as last known (null if we have not seen it yet)."
    )
    lead: bool = Field(description="True when your organisation is the project's lead partner.")


class ProjectCreatedPayload(ProjectPayload):
    topic: str = Field(description="The health topic, e.g. `nutrition`.")
    state: str = Field(description="The project's state: `draft`.")


class ProjectStateChangedPayload(ProjectPayload):
    from_state: str = Field(description="The state the project left.")
    to_state: str = Field(description="The state the project is in now.")


class ProjectVerificationPayload(ProjectPayload):
    verification_id: uuid.UUID | None = Field(
        description="The verification link's id (null when a verification is requested, before a link is issued)."
    )


# --- partner (your organisation itself) -----------------------------------------------------------------------------


class AgreementPayload(PartnerEventPayload):
    agreement_id: uuid.UUID = Field(description="The agreement's id, the same in every message about it.")
    kind: partners.AgreementKind = Field(description="What the agreement covers.")
    status: partners.AgreementStatus = Field(description="Its status after the change, as of the day of the change.")
    starts_on: dt.date = Field(description="First day the agreement is in force.")
    ends_on: dt.date = Field(description="Last day the agreement is in force.")


# --- sessions at your school ----------------------------------------------------------------------------------------


class SessionPayload(PartnerEventPayload):
    session_id: uuid.UUID = Field(description="The session's id, the same in every message about it.")
    term_id: uuid.UUID = Field(description="The term the session belongs to.")
    urn: str = Field(description="The school's URN (6 digits).")


class SessionPlannedPayload(SessionPayload):
    date: dt.date = Field(description="The day of the session.")
    year_group: primary.YearGroup = Field(description="The year group taught.")
    key_stage: primary.KeyStage = Field(description="Its key stage.")
    topic_id: str = Field(description="The topic's id in the programme's catalogue, e.g. `healthy_eating`.")


class SessionDeliveredPayload(SessionPlannedPayload):
    pupils: int = Field(ge=0, description="How many pupils were taught (a count: pupils never appear).")
    classes: int = Field(ge=0, description="How many classes were taught.")


# --- participants you were told about -------------------------------------------------------------------------------


class ErasureRequestedPayload(PartnerEventPayload):
    participant_id: uuid.UUID = Field(description="The erased participant's pseudonymous id, as shared with you.")
    erasure_id: uuid.UUID = Field(description="Our erasure record's id: quote it when you confirm the erasure.")


class SharingConsentEndedPayload(PartnerEventPayload):
    participant_id: uuid.UUID = Field(description="The participant's pseudonymous id, as shared with you.")
    reason: Literal["withdrawn", "expired"] = Field(description="Why the consent ended.")
    effective_on: dt.date = Field(description="From this day on, nothing shared under that consent may be used.")


@dataclass(frozen=True)
class PartnerEventType:
    """One type of the published catalogue: its name, what it means, and the model of its `data`."""

    name: str
    description: str
    payload: type[PartnerEventPayload]

    def json_schema(self) -> dict[str, Any]:
        return self.payload.model_json_schema(mode="serialization")


_PROJECT_TRANSITIONS: dict[str, str] = {
    "proposal_submitted": "The students submitted the project's proposal for their supervisor's review.",
    "changes_requested": "The supervisor asked the students to change the proposal.",
    "approved": "The supervisor approved the proposal (governance must still be cleared before delivery).",
    "rejected": "The supervisor rejected the proposal.",
    "governance_cleared": "The project's governance was cleared: it may be delivered.",
    "delivery_started": "The students started delivering the project.",
    "evaluation_started": "Delivery is over; the students are evaluating the project.",
    "submitted": "The students submitted the project; the lead partner is asked to verify what was delivered.",
    "showcased": "The project was presented at the showcase.",
    "assessed": "The project's assessment is complete.",
    "closed": "The project was closed.",
    "withdrawn": "The project was withdrawn.",
    "paused": "The project was paused.",
    "reopened": "The paused project was reopened.",
}


def _types() -> dict[str, PartnerEventType]:
    types = [
        PartnerEventType(
            "project.created.v1", "A project naming your organisation as a partner was started.", ProjectCreatedPayload
        ),
        *(
            PartnerEventType(f"project.{verb}.v1", description, ProjectStateChangedPayload)
            for verb, description in _PROJECT_TRANSITIONS.items()
        ),
        PartnerEventType(
            "project.verification_requested.v1",
            "Your organisation is asked to confirm what the project delivered; your contact receives a link.",
            ProjectVerificationPayload,
        ),
        PartnerEventType(
            "project.verified.v1", "Your organisation confirmed what the project delivered.", ProjectVerificationPayload
        ),
        PartnerEventType(
            "project.disputed.v1", "Your organisation disputed what the project delivered.", ProjectVerificationPayload
        ),
        PartnerEventType(
            "agreement.added.v1", "An agreement with your organisation was recorded (as a draft).", AgreementPayload
        ),
        PartnerEventType("agreement.updated.v1", "An agreement's kind or dates changed.", AgreementPayload),
        PartnerEventType("agreement.activated.v1", "An agreement was signed and is in force.", AgreementPayload),
        PartnerEventType(
            "agreement.terminated.v1", "An agreement was ended early, or a draft abandoned.", AgreementPayload
        ),
        PartnerEventType(
            "session.planned.v1", "A health-education session was planned at your school.", SessionPlannedPayload
        ),
        PartnerEventType(
            "session.delivered.v1", "A session at your school was taught (counts only).", SessionDeliveredPayload
        ),
        PartnerEventType("session.cancelled.v1", "A session at your school will not take place.", SessionPayload),
        PartnerEventType(
            "participant.erasure_requested.v1",
            "A participant whose data was shared with you was erased: erase what you hold about them.",
            ErasureRequestedPayload,
        ),
        PartnerEventType(
            "participant.sharing_consent_ended.v1",
            "A participant's consent to share their data with you was withdrawn or expired: stop using it.",
            SharingConsentEndedPayload,
        ),
    ]
    return {event_type.name: event_type for event_type in types}


CATALOGUE: Mapping[str, PartnerEventType] = MappingProxyType(_types())
"""Every partner event type, by name: what endpoints subscribe to and what `GET /webhooks/event-types` publishes."""


# --- the projection: an internal event -> what each partner concerned may see ----------------------------------------

SHARING_SCOPE = "partner_sharing"  # the consent scope under which outreach shares a participant's data with partners


@dataclass(frozen=True)
class Known:
    """What this service remembers that an event does not carry: the project's title (from its creation), the
    partner a session's school is linked to."""

    project_title: str | None = None
    school_partner_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Draft:
    """One partner event to publish, before it is numbered: `fields` is its payload less `partner_id`, `sequence`
    and `occurred_at`, which the service layer adds."""

    partner_id: uuid.UUID
    event_type: str
    fields: Mapping[str, Any]

    def payload(self, *, sequence: int, occurred_at: dt.datetime) -> dict[str, Any]:
        """The `data` to publish, validated against the catalogue's model, as JSON-ready values."""
        model = CATALOGUE[self.event_type].payload
        built = model(partner_id=self.partner_id, sequence=sequence, occurred_at=occurred_at, **self.fields)
        return built.model_dump(mode="json")


def _project(facts: projects.ProjectFacts, title: str | None) -> dict[str, Any]:
    return {"project_id": facts.project_id, "cohort_id": facts.cohort_id, "title": title}


def _to_project_partners(facts: projects.ProjectFacts, event_type: str, fields: dict[str, Any]) -> list[Draft]:
    """One draft per partner of the project (each once, however often listed), saying whether it is the lead."""
    seen: dict[uuid.UUID, None] = dict.fromkeys(facts.partner_ids)
    lead = facts.partner_ids[0] if facts.partner_ids else None
    return [Draft(partner, event_type, {**fields, "lead": partner == lead}) for partner in seen]


def drafts(event: EventPayload, known: Known) -> list[Draft]:
    """The partner events an internal event makes (none for most): the per-type allow-list of what a partner may
    see. Only the fields named here leave; a partner gets only events about itself."""
    match event:
        case projects.ProjectCreatedV1():
            fields = {**_project(event, event.title), "topic": event.topic, "state": "draft"}
            return _to_project_partners(event, "project.created.v1", fields)
        case projects.ProjectTransitionV1():
            verb = event.event_type.split(".")[2]
            fields = {
                **_project(event, known.project_title),
                "from_state": event.from_state,
                "to_state": event.to_state,
            }
            return _to_project_partners(event, f"project.{verb}.v1", fields)
        case projects.ProjectVerificationRequestedV1():
            # Only the partner asked, not every partner of the project.
            lead = bool(event.partner_ids) and event.partner_ids[0] == event.partner_id
            fields = {**_project(event, known.project_title), "verification_id": None, "lead": lead}
            return [Draft(event.partner_id, "project.verification_requested.v1", fields)]
        case projects.ProjectVerifiedV1() | projects.ProjectDisputedV1():
            # Projects asks the lead partner (only) to verify: the answer is its own.
            if not event.partner_ids:
                return []
            verb = event.event_type.split(".")[2]
            fields = {**_project(event, known.project_title), "verification_id": event.verification_id, "lead": True}
            return [Draft(event.partner_ids[0], f"project.{verb}.v1", fields)]
        case (
            partners.PartnerAgreementAddedV1()
            | partners.PartnerAgreementUpdatedV1()
            | partners.PartnerAgreementActivatedV1()
            | partners.PartnerAgreementTerminatedV1()
        ):
            verb = event.event_type.split(".")[2]
            fields = {
                "agreement_id": event.agreement_id,
                "kind": event.kind.value,
                "status": event.status.value,
                "starts_on": event.starts_on,
                "ends_on": event.ends_on,
            }
            return [Draft(event.partner_id, f"agreement.{verb}.v1", fields)]
        case primary.SessionPlannedV1() | primary.SessionDeliveredV1() | primary.SessionCancelledV1():
            if known.school_partner_id is None:
                return []
            return [Draft(known.school_partner_id, f"session.{event.event_type.split('.')[2]}.v1", _session(event))]
        case erasure.PartnerErasureNoticeRequestedV1():
            fields = {"participant_id": event.participant_id, "erasure_id": event.erasure_id}
            return [Draft(event.partner_id, "participant.erasure_requested.v1", fields)]
        case consent.ConsentWithdrawnV1() if event.scope == SHARING_SCOPE:
            return _sharing_ended(event, "withdrawn", event.withdrawn_on)
        case consent.ConsentExpiredV1() if event.scope == SHARING_SCOPE:
            return _sharing_ended(event, "expired", event.expires_on + dt.timedelta(days=1))  # it held through that day
    return []


def _sharing_ended(event: consent.ConsentV1, reason: str, effective_on: dt.date) -> list[Draft]:
    fields = {"participant_id": event.participant_id, "reason": reason, "effective_on": effective_on}
    return [
        Draft(partner, "participant.sharing_consent_ended.v1", fields) for partner in dict.fromkeys(event.partner_ids)
    ]


def _session(event: primary.SessionV1) -> dict[str, Any]:
    fields: dict[str, Any] = {"session_id": event.session_id, "term_id": event.term_id, "urn": event.urn}
    if isinstance(event, primary.SessionPlannedV1 | primary.SessionDeliveredV1):
        fields |= {
            "date": event.date,
            "year_group": event.year_group.value,
            "key_stage": event.key_stage.value,
            "topic_id": event.topic_id,
        }
    if isinstance(event, primary.SessionDeliveredV1):
        fields |= {"pupils": event.pupils, "classes": event.classes}
    return fields


# The internal events `drafts` reads: the reaction validates `data` into these before projecting it.
_SOURCES: tuple[type[EventPayload], ...] = (
    projects.ProjectCreatedV1,
    *projects.TRANSITION_EVENTS.values(),
    projects.ProjectVerificationRequestedV1,
    projects.ProjectVerifiedV1,
    projects.ProjectDisputedV1,
    partners.PartnerAgreementAddedV1,
    partners.PartnerAgreementUpdatedV1,
    partners.PartnerAgreementActivatedV1,
    partners.PartnerAgreementTerminatedV1,
    primary.SessionPlannedV1,
    primary.SessionDeliveredV1,
    primary.SessionCancelledV1,
    erasure.PartnerErasureNoticeRequestedV1,
    consent.ConsentWithdrawnV1,
    consent.ConsentExpiredV1,
)
SOURCES: Mapping[str, type[EventPayload]] = MappingProxyType({source.event_type: source for source in _SOURCES})


# --- which partner a school is ---------------------------------------------------------------------------------------

URN_PATTERN = r"^[0-9]{6}$"  # a school's URN in Get Information About Schools


@dataclass(frozen=True)
class SchoolLink:
    """A school (by URN) is this partner organisation: its sessions' events go to that partner. Names are as last
    published by outreach and projects (None if not seen)."""

    urn: str
    partner_id: uuid.UUID
    linked_at: dt.datetime
    school_name: str | None = None
    partner_name: str | None = None
