"""Commands: what a caller asks the projects service to do, in the imperative."""

import uuid
from dataclasses import dataclass

from medic.shared.contracts.projects import PartnerKind


@dataclass(frozen=True)
class RegisterPartner:
    name: str
    kind: PartnerKind
    contact_email: str
    areas_of_work: list[str]
    correlation_id: uuid.UUID
