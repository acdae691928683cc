"""Events about community partners, published by the projects service."""

import uuid
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from medic.shared.events import EventPayload


class PartnerKind(StrEnum):
    """What kind of organisation a community partner is."""

    CHARITY = "charity"
    SCHOOL = "school"
    OUTREACH_TEAM = "outreach_team"
    NETWORK = "network"
    COMMUNITY_GROUP = "community_group"
    NHS_SERVICE = "nhs_service"


class PartnerRegisteredV1(EventPayload):
    """A community partner was registered. Carries no contact details: those stay in projects."""

    event_type: ClassVar[str] = "projects.partner.registered.v1"
    source: ClassVar[str] = "/services/projects"

    partner_id: uuid.UUID = Field(description="The partner's id, the same in every event about it.")
    name: str = Field(min_length=1, max_length=200, description="The partner organisation's name.")
    kind: PartnerKind = Field(description="What kind of organisation the partner is.")
    areas_of_work: list[str] = Field(
        default_factory=list, max_length=20, description="What the partner works on, e.g. `food poverty`."
    )


class AgreementKind(StrEnum):
    """What a written agreement with a partner covers."""

    PARTNERSHIP_MOU = "partnership_mou"
    DATA_SHARING = "data_sharing"


class AgreementStatus(StrEnum):
    """Where an agreement stands. `expired` is never set: an active agreement reads expired after its end date."""

    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"


# Field factories: each model gets a field of its own.
def _partner_id() -> Any:
    return Field(description="The partner's id, the same in every event about it.")


def _revision() -> Any:
    return Field(
        ge=1,
        description="The partner's revision after the change: it grows with every change to the partner, its "
        "contacts and agreements, so a consumer can ignore an event older than one it has applied.",
    )


class PartnerUpdatedV1(EventPayload):
    """A partner's public profile (name, kind, areas of work) changed; carries the whole profile after the change."""

    event_type: ClassVar[str] = "projects.partner.updated.v1"
    source: ClassVar[str] = "/services/projects"

    partner_id: uuid.UUID = _partner_id()
    revision: int = _revision()
    name: str = Field(min_length=1, max_length=200, description="The partner organisation's name.")
    kind: PartnerKind = Field(description="What kind of organisation the partner is.")
    areas_of_work: list[str] = Field(
        default_factory=list, max_length=20, description="What the partner works on, e.g. `food poverty`."
    )


class PartnerArchivedV1(EventPayload):
    """A partner was archived: hidden from the default lists, and no new projects may name it."""

    event_type: ClassVar[str] = "projects.partner.archived.v1"
    source: ClassVar[str] = "/services/projects"

    partner_id: uuid.UUID = _partner_id()
    revision: int = _revision()


class PartnerUnarchivedV1(EventPayload):
    """An archived partner was brought back."""

    event_type: ClassVar[str] = "projects.partner.unarchived.v1"
    source: ClassVar[str] = "/services/projects"

    partner_id: uuid.UUID = _partner_id()
    revision: int = _revision()


def _contact_id() -> Any:
    return Field(description="The contact's id. Names and addresses stay in projects: look them up there.")


def _primary() -> Any:
    return Field(description="Whether this is the partner's primary contact (one per partner that has contacts).")


class PartnerContactAddedV1(EventPayload):
    """A contact person was added to a partner. Carries no name or address."""

    event_type: ClassVar[str] = "projects.partner_contact.added.v1"
    source: ClassVar[str] = "/services/projects"

    partner_id: uuid.UUID = _partner_id()
    revision: int = _revision()
    contact_id: uuid.UUID = _contact_id()
    primary: bool = _primary()


class PartnerContactUpdatedV1(EventPayload):
    """A partner's contact changed (details or primary flag; when the primary moves, both contacts get one).
    Carries no name or address."""

    event_type: ClassVar[str] = "projects.partner_contact.updated.v1"
    source: ClassVar[str] = "/services/projects"

    partner_id: uuid.UUID = _partner_id()
    revision: int = _revision()
    contact_id: uuid.UUID = _contact_id()
    primary: bool = _primary()


class PartnerContactRemovedV1(EventPayload):
    """A contact was removed from a partner."""

    event_type: ClassVar[str] = "projects.partner_contact.removed.v1"
    source: ClassVar[str] = "/services/projects"

    partner_id: uuid.UUID = _partner_id()
    revision: int = _revision()
    contact_id: uuid.UUID = _contact_id()


class _AgreementEvent(EventPayload):
    partner_id: uuid.UUID = _partner_id()
    revision: int = _revision()
    agreement_id: uuid.UUID = Field(description="The agreement's id, the same in every event about it.")
    kind: AgreementKind = Field(description="What the agreement covers.")
    starts_on: date = Field(description="First day the agreement is in force.")
    ends_on: date = Field(description="Last day the agreement is in force (after `starts_on`).")
    status: AgreementStatus = Field(description="Its status after the change, as of the day of the change.")


class PartnerAgreementAddedV1(_AgreementEvent):
    """An agreement with a partner was recorded (as a draft)."""

    event_type: ClassVar[str] = "projects.partner_agreement.added.v1"
    source: ClassVar[str] = "/services/projects"


class PartnerAgreementUpdatedV1(_AgreementEvent):
    """An agreement's kind or dates changed (a renewal moves `ends_on`)."""

    event_type: ClassVar[str] = "projects.partner_agreement.updated.v1"
    source: ClassVar[str] = "/services/projects"


class PartnerAgreementActivatedV1(_AgreementEvent):
    """An agreement was signed and is active until its end date."""

    event_type: ClassVar[str] = "projects.partner_agreement.activated.v1"
    source: ClassVar[str] = "/services/projects"


class PartnerAgreementTerminatedV1(_AgreementEvent):
    """An agreement was ended early, or a draft abandoned."""

    event_type: ClassVar[str] = "projects.partner_agreement.terminated.v1"
    source: ClassVar[str] = "/services/projects"


PUBLISHED: tuple[type[EventPayload], ...] = (
    PartnerRegisteredV1,
    PartnerUpdatedV1,
    PartnerArchivedV1,
    PartnerUnarchivedV1,
    PartnerContactAddedV1,
    PartnerContactUpdatedV1,
    PartnerContactRemovedV1,
    PartnerAgreementAddedV1,
    PartnerAgreementUpdatedV1,
    PartnerAgreementActivatedV1,
    PartnerAgreementTerminatedV1,
)
