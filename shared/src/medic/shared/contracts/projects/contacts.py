"""Adults' email addresses for the notifications service's directory, and the verification mail's link.

These are the only events that carry personal data (a name and an email address) or a credential (a verification
link's token). They exist so that notifications can email the adults the programme works with (supervisors,
students, partner contacts; never a child) without calling projects for every message. Rules for every consumer:
use them for that directory and those emails only; never log them, never publish them on, never put them in an
error message. The notifications ops event log keeps only the ids (`contact_id`, `kind`, `partner_id`); the link
crosses the bus once, in `projects.verification_link.mail_requested.v1`, and the notifications service keeps it only
until its email is sent. The two that carry them are `personal_data`: projects' outbox deletes their rows within
about a minute of publishing them, not after the outbox's retention.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Self

from pydantic import Field, model_validator

from medic.shared.events import EventPayload

_SOURCE = "/services/projects"


class ContactKind(StrEnum):
    """Who an address belongs to. `contact_id` is the supervisor's, student's or partner contact's own id."""

    SUPERVISOR = "supervisor"
    STUDENT = "student"
    PARTNER_CONTACT = "partner_contact"


class ContactAddressSetV1(EventPayload):
    """An adult's email address and display name as they now are: published when the supervisor, student or
    partner contact is registered or added, and whenever their name, address (or, for a partner contact, primary
    flag) changes, in the same transaction as the change's own event."""

    event_type: ClassVar[str] = "projects.contact_address.set.v1"
    source: ClassVar[str] = _SOURCE
    personal_data: ClassVar[bool] = True

    contact_id: uuid.UUID = Field(description="The supervisor's, student's or partner contact's id.")
    kind: ContactKind = Field(description="Whose id `contact_id` is.")
    partner_id: uuid.UUID | None = Field(
        default=None, description="The partner a partner contact belongs to (null for supervisors and students)."
    )
    primary: bool = Field(
        default=False, description="Whether this is the partner's primary contact (false for the other kinds)."
    )
    email: str = Field(min_length=3, max_length=320, description="Personal data: never log it.")
    display_name: str | None = Field(
        default=None,
        max_length=200,
        description="The name to greet them by; null when not known. Personal data: never log it.",
    )

    @model_validator(mode="after")
    def _partner_contacts_name_their_partner(self) -> Self:
        """A partner contact names its partner (whom endpoint-failure emails reach); no one else does."""
        if (self.kind is ContactKind.PARTNER_CONTACT) != (self.partner_id is not None):
            raise ValueError("`partner_id` is set for a partner contact, and only for one")
        if self.primary and self.kind is not ContactKind.PARTNER_CONTACT:
            raise ValueError("only a partner contact is a partner's primary contact")
        return self


class ContactAddressRemovedV1(EventPayload):
    """An address may no longer be used: the partner contact was removed (consumers delete what they hold)."""

    event_type: ClassVar[str] = "projects.contact_address.removed.v1"
    source: ClassVar[str] = _SOURCE

    contact_id: uuid.UUID = Field(description="The supervisor's, student's or partner contact's id.")
    kind: ContactKind = Field(description="Whose id `contact_id` is.")


class VerificationMailRequestedV1(EventPayload):
    """Email this verification link to the partner contact: published with
    `projects.project.verification_link_issued.v1`, in the same transaction. `link` holds the token, the link's
    only credential: it is on the bus this once, for the email, and must never be logged or kept after sending."""

    event_type: ClassVar[str] = "projects.verification_link.mail_requested.v1"
    source: ClassVar[str] = _SOURCE
    personal_data: ClassVar[bool] = True

    verification_id: uuid.UUID = Field(description="The link's id (as in `verification_link_issued`).")
    project_id: uuid.UUID = Field(description="The project to verify.")
    partner_id: uuid.UUID = Field(description="The partner asked.")
    contact_id: uuid.UUID = Field(description="The partner contact to email (a `partner_contact` address).")
    link: str = Field(min_length=1, max_length=2000, description="The link to open. A credential: never log it.")
    expires_at: datetime = Field(description="When the link stops working.")


PUBLISHED: tuple[type[EventPayload], ...] = (ContactAddressSetV1, ContactAddressRemovedV1, VerificationMailRequestedV1)
