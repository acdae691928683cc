"""Domain events: facts inside the projects service, past tense. Handlers turn them into integration events."""

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class DomainEvent:
    pass


@dataclass(frozen=True)
class PartnerEvent(DomainEvent):
    partner_id: uuid.UUID


@dataclass(frozen=True)
class PartnerRegistered(PartnerEvent):
    pass


@dataclass(frozen=True)
class PartnerUpdated(PartnerEvent):
    """Name, kind or areas of work changed."""


@dataclass(frozen=True)
class PartnerArchived(PartnerEvent):
    pass


@dataclass(frozen=True)
class PartnerUnarchived(PartnerEvent):
    pass


@dataclass(frozen=True)
class ContactAdded(PartnerEvent):
    contact_id: uuid.UUID


@dataclass(frozen=True)
class ContactUpdated(PartnerEvent):
    contact_id: uuid.UUID


@dataclass(frozen=True)
class ContactRemoved(PartnerEvent):
    contact_id: uuid.UUID


@dataclass(frozen=True)
class AgreementAdded(PartnerEvent):
    agreement_id: uuid.UUID


@dataclass(frozen=True)
class AgreementUpdated(PartnerEvent):
    """Kind or dates changed."""

    agreement_id: uuid.UUID


@dataclass(frozen=True)
class AgreementActivated(PartnerEvent):
    agreement_id: uuid.UUID


@dataclass(frozen=True)
class AgreementTerminated(PartnerEvent):
    agreement_id: uuid.UUID
