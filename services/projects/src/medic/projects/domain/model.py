"""Community partners: the organisations that co-design and receive Community Action Projects. No I/O here."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from medic.shared.contracts.projects import PartnerKind

from .events import DomainEvent, PartnerRegistered

MAX_AREAS_OF_WORK = 20


class InvalidPartner(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class PartnerAlreadyRegistered(Exception):
    field = "name"


@dataclass
class Partner:
    id: uuid.UUID
    name: str
    kind: PartnerKind
    contact_email: str
    areas_of_work: tuple[str, ...]
    registered_at: datetime
    events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def register(
        cls,
        *,
        name: str,
        kind: PartnerKind,
        contact_email: str,
        areas_of_work: list[str],
        now: datetime,
    ) -> "Partner":
        name = " ".join(name.split())
        if not name:
            raise InvalidPartner("name", "a partner needs a name")
        # Keep the first spelling of each area, drop blanks and case-insensitive repeats.
        areas: dict[str, str] = {}
        for area in (" ".join(a.split()) for a in areas_of_work):
            if area:
                areas.setdefault(area.casefold(), area)
        if len(areas) > MAX_AREAS_OF_WORK:
            raise InvalidPartner("areas_of_work", f"at most {MAX_AREAS_OF_WORK} areas of work")
        partner = cls(
            id=uuid.uuid4(),
            name=name,
            kind=kind,
            contact_email=contact_email.strip().lower(),
            areas_of_work=tuple(areas.values()),
            registered_at=now,
        )
        partner.events.append(PartnerRegistered(partner_id=partner.id))
        return partner

    @property
    def name_key(self) -> str:
        """What two registrations of the same partner share, however the name was typed."""
        return self.name.casefold()
