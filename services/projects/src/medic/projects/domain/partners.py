"""Community partners: the organisations that co-design and receive Community Action Projects. No I/O here.

A `Partner` is one aggregate: its profile, its contacts and its agreements change together, and every change
raises the partner's `revision` (what the repository checks to refuse a lost update) and records a domain event.

Rules chosen here (the README's partner section documents them):
- Contacts: a partner with contacts has exactly one primary contact. The first contact becomes primary; making
  another primary moves the flag; removing the primary hands it to the longest-standing remaining contact; a
  primary contact cannot be un-flagged except by making another one primary. Addresses are unique per partner.
  The registration's `contact_email` becomes the first, primary contact, with no name until someone adds one.
- Agreements start as drafts. draft -> active (signed; refused once its end date has passed), draft ->
  terminated (abandoned), active -> terminated (ended early). `expired` is never stored: an active agreement
  reads expired from the day after its end date, and moving its end date on renews it. A draft may change
  anything; an active (or expired) agreement only its end date; a terminated one nothing.
"""

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from medic.shared.contracts.projects.partners import AgreementKind, AgreementStatus, PartnerKind

from .events import (
    AgreementActivated,
    AgreementAdded,
    AgreementTerminated,
    AgreementUpdated,
    ContactAdded,
    ContactRemoved,
    ContactUpdated,
    DomainEvent,
    PartnerArchived,
    PartnerRegistered,
    PartnerUnarchived,
    PartnerUpdated,
)

MAX_AREAS_OF_WORK = 20
MAX_CONTACTS = 20
MAX_AGREEMENTS = 50


class InvalidPartner(ValueError):
    """Bad input about a field (a 422)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class PartnerConflict(Exception):
    """A request the partner's current state refuses (a 409); `field` names what it is about."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class PartnerAlreadyRegistered(PartnerConflict):
    def __init__(self, message: str) -> None:
        super().__init__("name", message)


class ArchiveStateConflict(Exception):
    """Archiving an archived partner, or unarchiving one that is not (a 409)."""


class ContactNotFound(LookupError):
    pass


class AgreementNotFound(LookupError):
    pass


def normalise_name(name: str, field_name: str = "name") -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidPartner(field_name, "must have something besides spaces")
    return name


def normalise_areas(areas_of_work: list[str]) -> tuple[str, ...]:
    """Keep the first spelling of each area, drop blanks and case-insensitive repeats."""
    areas: dict[str, str] = {}
    for area in (" ".join(a.split()) for a in areas_of_work):
        if area:
            areas.setdefault(area.casefold(), area)
    if len(areas) > MAX_AREAS_OF_WORK:
        raise InvalidPartner("areas_of_work", f"at most {MAX_AREAS_OF_WORK} areas of work")
    return tuple(areas.values())


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class Contact:
    id: uuid.UUID
    name: str | None  # None: not known yet (the contact came from a registration's `contact_email`)
    email: str
    role: str  # free text, e.g. "volunteer coordinator"; "" when none was given
    primary: bool
    added_at: datetime


@dataclass(frozen=True)
class Agreement:
    id: uuid.UUID
    kind: AgreementKind
    starts_on: date
    ends_on: date
    stored_status: AgreementStatus  # draft, active or terminated; see `status_on`
    added_at: datetime

    def status_on(self, today: date) -> AgreementStatus:
        if self.stored_status is AgreementStatus.ACTIVE and self.ends_on < today:
            return AgreementStatus.EXPIRED
        return self.stored_status


def _check_dates(starts_on: date, ends_on: date, changed: str) -> None:
    if ends_on <= starts_on:
        raise InvalidPartner(changed, "an agreement ends after it starts")


@dataclass
class Partner:
    id: uuid.UUID
    name: str
    kind: PartnerKind
    areas_of_work: tuple[str, ...]
    registered_at: datetime
    archived_at: datetime | None = None
    revision: int = 1
    contacts: list[Contact] = field(default_factory=list)  # in the order they were added
    agreements: list[Agreement] = field(default_factory=list)  # in the order they were added
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
        partner = cls(
            id=uuid.uuid4(),
            name=normalise_name(name),
            kind=kind,
            areas_of_work=normalise_areas(areas_of_work),
            registered_at=now,
        )
        partner.contacts.append(
            Contact(
                id=uuid.uuid4(), name=None, email=normalise_email(contact_email), role="", primary=True, added_at=now
            )
        )
        partner.events.append(PartnerRegistered(partner_id=partner.id))
        return partner

    @property
    def name_key(self) -> str:
        """What two registrations of the same partner share, however the name was typed."""
        return self.name.casefold()

    @property
    def archived(self) -> bool:
        """An archived partner is hidden from the default lists and may not be named by new projects."""
        return self.archived_at is not None

    @property
    def primary_contact(self) -> Contact | None:
        return next((c for c in self.contacts if c.primary), None)

    def _changed(self, event: DomainEvent) -> None:
        self.events.append(event)

    def _bump(self) -> None:
        """Once per command that changes something, before its events (they carry the new revision)."""
        self.revision += 1

    # The profile

    def update(self, *, name: str | None = None, kind: PartnerKind | None = None) -> None:
        """Rename or reclassify; None leaves a field as it is. Nothing changes, nothing is recorded."""
        new_name = normalise_name(name) if name is not None else self.name
        new_kind = kind if kind is not None else self.kind
        if (new_name, new_kind) == (self.name, self.kind):
            return
        self.name, self.kind = new_name, new_kind
        self._bump()
        self._changed(PartnerUpdated(partner_id=self.id))

    def replace_areas_of_work(self, areas_of_work: list[str]) -> None:
        areas = normalise_areas(areas_of_work)
        if areas == self.areas_of_work:
            return
        self.areas_of_work = areas
        self._bump()
        self._changed(PartnerUpdated(partner_id=self.id))

    def archive(self, now: datetime) -> None:
        if self.archived:
            raise ArchiveStateConflict("the partner is already archived")
        self.archived_at = now
        self._bump()
        self._changed(PartnerArchived(partner_id=self.id))

    def unarchive(self) -> None:
        if not self.archived:
            raise ArchiveStateConflict("the partner is not archived")
        self.archived_at = None
        self._bump()
        self._changed(PartnerUnarchived(partner_id=self.id))

    # Contacts

    def contact(self, contact_id: uuid.UUID) -> Contact:
        for contact in self.contacts:
            if contact.id == contact_id:
                return contact
        raise ContactNotFound(contact_id)

    def _check_address_free(self, email: str, contact_id: uuid.UUID | None = None) -> None:
        if any(c.email == email and c.id != contact_id for c in self.contacts):
            raise PartnerConflict("email", "another contact of this partner has that address")

    def add_contact(self, *, name: str, email: str, role: str, primary: bool, now: datetime) -> Contact:
        if len(self.contacts) >= MAX_CONTACTS:
            raise PartnerConflict("email", f"a partner has at most {MAX_CONTACTS} contacts")
        email = normalise_email(email)
        self._check_address_free(email)
        contact = Contact(
            id=uuid.uuid4(),
            name=normalise_name(name),
            email=email,
            role=" ".join(role.split()),
            primary=primary or self.primary_contact is None,
            added_at=now,
        )
        self._bump()
        if contact.primary:
            self._take_primary_from_others(contact.id)
        self.contacts.append(contact)
        self._changed(ContactAdded(partner_id=self.id, contact_id=contact.id))
        return contact

    def edit_contact(
        self,
        contact_id: uuid.UUID,
        *,
        name: str | None = None,
        email: str | None = None,
        role: str | None = None,
        primary: bool | None = None,
    ) -> Contact:
        """None leaves a field as it is."""
        current = self.contact(contact_id)
        edited = current
        if name is not None:
            edited = replace(edited, name=normalise_name(name))
        if email is not None:
            edited = replace(edited, email=normalise_email(email))
            self._check_address_free(edited.email, contact_id)
        if role is not None:
            edited = replace(edited, role=" ".join(role.split()))
        if primary is not None:
            if current.primary and not primary:
                raise PartnerConflict("primary", "a partner keeps one primary contact: make another contact primary")
            edited = replace(edited, primary=primary)
        if edited == current:
            return current
        self._bump()
        if edited.primary and not current.primary:
            self._take_primary_from_others(contact_id)
        self.contacts = [edited if c.id == contact_id else c for c in self.contacts]
        self._changed(ContactUpdated(partner_id=self.id, contact_id=contact_id))
        return edited

    def remove_contact(self, contact_id: uuid.UUID) -> None:
        removed = self.contact(contact_id)
        self._bump()
        self.contacts = [c for c in self.contacts if c.id != contact_id]
        self._changed(ContactRemoved(partner_id=self.id, contact_id=contact_id))
        if removed.primary and self.contacts:
            heir = self.contacts[0]
            self.contacts[0] = replace(heir, primary=True)
            self._changed(ContactUpdated(partner_id=self.id, contact_id=heir.id))

    def _take_primary_from_others(self, new_primary: uuid.UUID) -> None:
        for index, contact in enumerate(self.contacts):
            if contact.primary and contact.id != new_primary:
                self.contacts[index] = replace(contact, primary=False)
                self._changed(ContactUpdated(partner_id=self.id, contact_id=contact.id))

    # Agreements

    def agreement(self, agreement_id: uuid.UUID) -> Agreement:
        for agreement in self.agreements:
            if agreement.id == agreement_id:
                return agreement
        raise AgreementNotFound(agreement_id)

    def add_agreement(self, *, kind: AgreementKind, starts_on: date, ends_on: date, now: datetime) -> Agreement:
        _check_dates(starts_on, ends_on, "ends_on")
        if len(self.agreements) >= MAX_AGREEMENTS:
            raise PartnerConflict("kind", f"a partner has at most {MAX_AGREEMENTS} agreements")
        agreement = Agreement(
            id=uuid.uuid4(),
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            stored_status=AgreementStatus.DRAFT,
            added_at=now,
        )
        self._bump()
        self.agreements.append(agreement)
        self._changed(AgreementAdded(partner_id=self.id, agreement_id=agreement.id))
        return agreement

    def edit_agreement(
        self,
        agreement_id: uuid.UUID,
        *,
        today: date,
        kind: AgreementKind | None = None,
        starts_on: date | None = None,
        ends_on: date | None = None,
        status: AgreementStatus | None = None,
    ) -> Agreement:
        """Change terms first, then move to `status`; None leaves a field as it is. All or nothing."""
        current = self.agreement(agreement_id)
        edited = _edit_terms(current, kind=kind, starts_on=starts_on, ends_on=ends_on)
        terms_changed = edited != current
        target = status if status is not None else edited.status_on(today)
        if target != edited.status_on(today):
            edited = replace(edited, stored_status=_transition(edited, target, today))
        if edited == current:
            return current
        self._bump()
        self.agreements = [edited if a.id == agreement_id else a for a in self.agreements]
        if terms_changed:
            self._changed(AgreementUpdated(partner_id=self.id, agreement_id=agreement_id))
        if edited.stored_status != current.stored_status:
            event = AgreementActivated if edited.stored_status is AgreementStatus.ACTIVE else AgreementTerminated
            self._changed(event(partner_id=self.id, agreement_id=agreement_id))
        return edited


def _edit_terms(
    agreement: Agreement, *, kind: AgreementKind | None, starts_on: date | None, ends_on: date | None
) -> Agreement:
    edited = replace(
        agreement,
        kind=kind if kind is not None else agreement.kind,
        starts_on=starts_on if starts_on is not None else agreement.starts_on,
        ends_on=ends_on if ends_on is not None else agreement.ends_on,
    )
    if edited == agreement:
        return agreement
    if agreement.stored_status is AgreementStatus.TERMINATED:
        changed = next(f for f in ("kind", "starts_on", "ends_on") if getattr(edited, f) != getattr(agreement, f))
        raise PartnerConflict(changed, "a terminated agreement is kept as it was")
    if agreement.stored_status is AgreementStatus.ACTIVE:
        for fixed in ("kind", "starts_on"):
            if getattr(edited, fixed) != getattr(agreement, fixed):
                raise PartnerConflict(fixed, "a signed agreement changes only its end date: record a new agreement")
    _check_dates(edited.starts_on, edited.ends_on, "starts_on" if ends_on is None else "ends_on")
    return edited


# The statuses each stored status may be moved to by hand.
ALLOWED_TRANSITIONS: dict[AgreementStatus, frozenset[AgreementStatus]] = {
    AgreementStatus.DRAFT: frozenset({AgreementStatus.ACTIVE, AgreementStatus.TERMINATED}),
    AgreementStatus.ACTIVE: frozenset({AgreementStatus.TERMINATED}),
    AgreementStatus.TERMINATED: frozenset(),
}


def _transition(agreement: Agreement, target: AgreementStatus, today: date) -> AgreementStatus:
    """The stored status after moving `agreement` to `target` today, or PartnerConflict on field `status`."""
    now_reads = agreement.status_on(today)
    if target is AgreementStatus.EXPIRED:
        raise PartnerConflict("status", f"an agreement expires after its end date; this one is {now_reads}")
    if now_reads is AgreementStatus.EXPIRED:
        raise PartnerConflict("status", "the agreement has expired: move its end date on to renew it")
    if target not in ALLOWED_TRANSITIONS[agreement.stored_status]:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[agreement.stored_status])) or "none"
        raise PartnerConflict("status", f"a {now_reads} agreement cannot become {target} (allowed: {allowed})")
    if target is AgreementStatus.ACTIVE and agreement.ends_on < today:
        raise PartnerConflict("status", "the agreement's end date has passed: move it on before activating")
    return target
