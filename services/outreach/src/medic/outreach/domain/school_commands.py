"""Commands about schools. `None` in a change means "leave as it is"."""

import uuid
from dataclasses import dataclass

from medic.outreach.domain.schools import ContactRole
from medic.shared.contracts.outreach import SchoolPhase


@dataclass(frozen=True)
class RegisterSchool:
    urn: str
    laestab: str
    name: str
    phase: SchoolPhase
    local_authority_name: str
    postcode: str
    state_funded: bool
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class ChangeSchool:
    urn: str
    correlation_id: uuid.UUID
    laestab: str | None = None
    name: str | None = None
    phase: SchoolPhase | None = None
    local_authority_name: str | None = None
    postcode: str | None = None
    state_funded: bool | None = None


@dataclass(frozen=True)
class SetContact:
    urn: str
    name: str
    email: str
    role: ContactRole


@dataclass(frozen=True)
class ImportSchools:
    text: str
    correlation_id: uuid.UUID
