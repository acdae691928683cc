"""Domain events: facts inside the projects service, past tense. Handlers turn them into integration events."""

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class DomainEvent:
    pass


@dataclass(frozen=True)
class PartnerRegistered(DomainEvent):
    partner_id: uuid.UUID
