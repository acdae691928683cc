"""Use cases about schools: register, change, set the contact, read. One unit of work each."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from medic.outreach.adapters.schools_repository import SchoolFilter
from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.school_commands import ChangeSchool, RegisterSchool, SetContact
from medic.outreach.domain.schools import Contact, School, SchoolConflict, SchoolNotFound
from medic.shared.contracts.outreach import SchoolRegisteredV1, SchoolUpdatedV1, SchoolV1
from medic.shared.events import Envelope


@dataclass(frozen=True)
class SchoolView:
    school: School
    contact: Contact | None


def school_event(kind: type[SchoolV1], school: School) -> SchoolV1:
    """The register's facts only: the contact is never published."""
    return kind(
        urn=school.urn,
        laestab=school.laestab,
        name=school.name,
        phase=school.phase,
        local_authority_code=school.local_authority_code,
        local_authority_name=school.local_authority_name,
        state_funded=school.state_funded,
    )


async def publish_school(
    uow: OutreachUnitOfWork,
    kind: type[SchoolV1],
    school: School,
    correlation_id: uuid.UUID,
) -> None:
    await uow.publish(
        Envelope.wrap(school_event(kind, school), subject=f"schools/{school.urn}", correlation_id=correlation_id)
    )


async def register_school(command: RegisterSchool, uow: OutreachUnitOfWork) -> SchoolView:
    school = School.create(
        urn=command.urn,
        laestab=command.laestab,
        name=command.name,
        phase=command.phase,
        local_authority_name=command.local_authority_name,
        postcode=command.postcode,
        state_funded=command.state_funded,
    )
    async with uow:
        if await uow.schools.get(school.urn) is not None:
            raise SchoolConflict("urn", f"a school with the URN {school.urn} is already registered")
        await uow.schools.add(school, now=datetime.now(UTC))
        await publish_school(uow, SchoolRegisteredV1, school, command.correlation_id)
        await uow.commit()
    return SchoolView(school, None)


async def change_school(command: ChangeSchool, uow: OutreachUnitOfWork) -> SchoolView:
    """A change that changes nothing publishes nothing."""
    async with uow:
        before = await uow.schools.get(command.urn)
        if before is None:
            raise SchoolNotFound(command.urn)
        after = before.changed(
            laestab=command.laestab,
            name=command.name,
            phase=command.phase,
            local_authority_name=command.local_authority_name,
            postcode=command.postcode,
            state_funded=command.state_funded,
        )
        if after != before:
            await uow.schools.update(after)
            await publish_school(uow, SchoolUpdatedV1, after, command.correlation_id)
        contact = (await uow.schools.contacts([after.urn])).get(after.urn)
        await uow.commit()
    return SchoolView(after, contact)


async def set_contact(command: SetContact, uow: OutreachUnitOfWork) -> SchoolView:
    """Replaces the school's contact. Nothing is published: the contact is personal data kept here."""
    contact = Contact.create(name=command.name, email=command.email, role=command.role)
    async with uow:
        school = await uow.schools.get(command.urn)
        if school is None:
            raise SchoolNotFound(command.urn)
        await uow.schools.set_contact(school.urn, contact)
        await uow.commit()
    return SchoolView(school, contact)


async def get_school(urn: str, uow: OutreachUnitOfWork) -> SchoolView:
    async with uow:
        school = await uow.schools.get(urn)
        if school is None:
            raise SchoolNotFound(urn)
        return SchoolView(school, (await uow.schools.contacts([urn])).get(urn))


async def list_schools(
    where: SchoolFilter, uow: OutreachUnitOfWork, *, limit: int, offset: int
) -> Sequence[SchoolView]:
    async with uow:
        found = await uow.schools.list(where, limit=limit, offset=offset)
        contacts = await uow.schools.contacts([s.urn for s in found])
    return [SchoolView(s, contacts.get(s.urn)) for s in found]
