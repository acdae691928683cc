"""The directory of adult contacts that emails go to, built from events. No I/O here.

Supervisors, students and partner contacts come from projects' `projects.contact_address.*` events (the only events
carrying names and addresses); coordinators are a setting (a team mailbox is usual). Children are never in it: a
WATCCH applicant is never emailed, their offers reach the coordinators. Names and addresses here are personal data:
never log them.

Events may arrive out of order (a redelivery after a later change): every record keeps the time (`as_of`) of the
event it came from, and an older event never overwrites a newer one. A removed contact keeps only a tombstone (its
ids and the time), so a late `set` cannot bring the address back.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from medic.shared.contracts.projects.contacts import ContactKind

__all__ = [
    "OFFER_REMINDER_BEFORE",
    "Contact",
    "ContactKind",
    "GroupMembers",
    "OfferState",
    "ProjectCard",
    "Recipient",
    "WatcchOffer",
    "coordinators_from",
    "offer_reminder_at",
]


@dataclass(frozen=True)
class Recipient:
    """Someone to email: an address, and the name to greet them by if known."""

    email: str
    name: str | None = None


@dataclass(frozen=True)
class Contact:
    kind: ContactKind
    contact_id: uuid.UUID
    email: str | None  # None once removed
    display_name: str | None
    partner_id: uuid.UUID | None
    primary: bool
    as_of: datetime
    removed_at: datetime | None = None

    @property
    def recipient(self) -> Recipient | None:
        return Recipient(self.email, self.display_name) if self.email is not None and self.removed_at is None else None


@dataclass(frozen=True)
class GroupMembers:
    """A group as its latest `projects.group.*` event has it: whom its project's emails go to."""

    group_id: uuid.UUID
    name: str
    student_ids: frozenset[uuid.UUID]
    supervisor_ids: frozenset[uuid.UUID]
    as_of: datetime


@dataclass(frozen=True)
class ProjectCard:
    """What an email about a project names: its title (from `projects.project.created.v1`; None if that event was
    never seen) and the group whose members are written to."""

    project_id: uuid.UUID
    group_id: uuid.UUID
    title: str | None
    lead_partner_id: uuid.UUID | None
    as_of: datetime


class OfferState(StrEnum):
    PENDING = "pending"  # the reminder is still to go
    REMINDED = "reminded"  # it went
    CLOSED = "closed"  # accepted, declined, withdrawn, expired or erased first: no reminder


# How long before a WATCCH offer lapses the coordinators are reminded (half the offer's life if it is shorter).
OFFER_REMINDER_BEFORE = timedelta(hours=48)


def offer_reminder_at(offered_at: datetime, expires_at: datetime) -> datetime:
    lifetime = max(expires_at - offered_at, timedelta(0))
    return expires_at - min(OFFER_REMINDER_BEFORE, lifetime / 2)


@dataclass(frozen=True)
class WatcchOffer:
    """A place offered on WATCCH, by pseudonymous ids only (the applicant is a child: nothing else is kept)."""

    application_id: uuid.UUID
    cycle_id: uuid.UUID
    participant_id: uuid.UUID  # kept only so that the participant's erasure removes the row
    expires_at: datetime
    remind_at: datetime
    state: OfferState
    as_of: datetime


def coordinators_from(setting: str) -> tuple[Recipient, ...]:
    """The coordinators' addresses from `NOTIFICATIONS_COORDINATOR_EMAILS` (comma-separated), each once."""
    seen: dict[str, Recipient] = {}
    for part in setting.split(","):
        address = part.strip().lower()
        if address and address not in seen:
            seen[address] = Recipient(address, None)
    return tuple(seen.values())
