"""Outreach's view of the community partners registered by the projects service. No I/O here."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from medic.shared.contracts.projects import PartnerKind


@dataclass(frozen=True)
class KnownPartner:
    """A partner as outreach knows it: enough to offer it to schools and WATCCH, no contact details."""

    id: uuid.UUID
    name: str
    kind: PartnerKind
    areas_of_work: tuple[str, ...]
    registered_at: datetime
