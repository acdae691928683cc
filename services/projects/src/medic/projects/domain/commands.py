"""Commands: what a caller asks the projects service to do, in the imperative.

For the fields of an edit, None means "leave as it is".
"""

import uuid
from dataclasses import dataclass
from datetime import date

from medic.shared.contracts.projects.partners import AgreementKind, AgreementStatus, PartnerKind


@dataclass(frozen=True)
class RegisterPartner:
    name: str
    kind: PartnerKind
    contact_email: str
    areas_of_work: list[str]
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class UpdatePartner:
    partner_id: uuid.UUID
    name: str | None
    kind: PartnerKind | None
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class ReplaceAreasOfWork:
    partner_id: uuid.UUID
    areas_of_work: list[str]
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class ArchivePartner:
    partner_id: uuid.UUID
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class UnarchivePartner:
    partner_id: uuid.UUID
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class AddContact:
    partner_id: uuid.UUID
    name: str
    email: str
    role: str
    primary: bool
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class EditContact:
    partner_id: uuid.UUID
    contact_id: uuid.UUID
    name: str | None
    email: str | None
    role: str | None
    primary: bool | None
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class RemoveContact:
    partner_id: uuid.UUID
    contact_id: uuid.UUID
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class AddAgreement:
    partner_id: uuid.UUID
    kind: AgreementKind
    starts_on: date
    ends_on: date
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class EditAgreement:
    partner_id: uuid.UUID
    agreement_id: uuid.UUID
    kind: AgreementKind | None
    starts_on: date | None
    ends_on: date | None
    status: AgreementStatus | None
    correlation_id: uuid.UUID
