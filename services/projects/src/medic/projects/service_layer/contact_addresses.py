"""The adults' addresses projects publishes for the notifications directory (`projects.contact_address.*`).

Each is staged in the same unit of work as the change that caused it, after that change's own event. These are
the only events with a name and an email address in them (see medic.shared.contracts.projects.contacts).
"""

import uuid

from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.partners import Contact
from medic.projects.domain.setup import Student, Supervisor
from medic.shared.contracts.projects.contacts import ContactAddressRemovedV1, ContactAddressSetV1, ContactKind
from medic.shared.events import Envelope


def supervisor_address(supervisor: Supervisor) -> ContactAddressSetV1:
    return ContactAddressSetV1(
        contact_id=supervisor.id, kind=ContactKind.SUPERVISOR, email=supervisor.email, display_name=supervisor.name
    )


def student_address(student: Student) -> ContactAddressSetV1:
    return ContactAddressSetV1(
        contact_id=student.id, kind=ContactKind.STUDENT, email=student.email, display_name=student.name
    )


def partner_contact_address(partner_id: uuid.UUID, contact: Contact) -> ContactAddressSetV1:
    return ContactAddressSetV1(
        contact_id=contact.id,
        kind=ContactKind.PARTNER_CONTACT,
        partner_id=partner_id,
        primary=contact.primary,
        email=contact.email,
        display_name=contact.name,  # None for the contact a registration's `contact_email` made
    )


def partner_contact_removed(contact_id: uuid.UUID) -> ContactAddressRemovedV1:
    return ContactAddressRemovedV1(contact_id=contact_id, kind=ContactKind.PARTNER_CONTACT)


def subject_of(payload: ContactAddressSetV1 | ContactAddressRemovedV1) -> str:
    """The address's own subject (never the person's other subjects: the ops log's erasure matches on those)."""
    return f"contacts/{payload.kind.value}/{payload.contact_id}"


async def publish_address(
    uow: ProjectsUnitOfWork, payload: ContactAddressSetV1 | ContactAddressRemovedV1, correlation_id: uuid.UUID
) -> None:
    await uow.publish(Envelope.wrap(payload, subject=subject_of(payload), correlation_id=correlation_id))
