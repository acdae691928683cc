from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_schools import school_contacts, schools
from medic.outreach.domain.schools import Contact, ContactRole, School
from medic.shared.contracts.outreach import SchoolPhase


@dataclass(frozen=True)
class SchoolFilter:
    phase: SchoolPhase | None = None
    local_authority_code: str | None = None
    state_funded: bool | None = None


def _values(school: School) -> dict[str, Any]:
    return {
        "local_authority_code": school.local_authority_code,
        "establishment_number": school.establishment_number,
        "name": school.name,
        "phase": school.phase.value,
        "local_authority_name": school.local_authority_name,
        "postcode": school.postcode,
        "state_funded": school.state_funded,
    }


def _school(row: Row[Any]) -> School:
    return School(
        urn=row.urn,
        local_authority_code=row.local_authority_code,
        establishment_number=row.establishment_number,
        name=row.name,
        phase=SchoolPhase(row.phase),
        local_authority_name=row.local_authority_name,
        postcode=row.postcode,
        state_funded=row.state_funded,
    )


class SchoolRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, school: School, *, now: datetime) -> None:
        await self._connection.execute(insert(schools).values(urn=school.urn, registered_at=now, **_values(school)))

    async def update(self, school: School) -> None:
        await self._connection.execute(update(schools).where(schools.c.urn == school.urn).values(**_values(school)))

    async def get(self, urn: str) -> School | None:
        row = (await self._connection.execute(select(schools).where(schools.c.urn == urn))).one_or_none()
        return None if row is None else _school(row)

    async def by_urn(self, urns: Collection[str]) -> dict[str, School]:
        found: dict[str, School] = {}
        ordered = sorted(urns)
        for start in range(0, len(ordered), 500):  # bounded IN lists
            query = select(schools).where(schools.c.urn.in_(ordered[start : start + 500]))
            found.update({row.urn: _school(row) for row in await self._connection.execute(query)})
        return found

    async def list(self, where: SchoolFilter, *, limit: int, offset: int) -> Sequence[School]:
        query = select(schools).order_by(schools.c.urn).limit(limit).offset(offset)
        if where.phase is not None:
            query = query.where(schools.c.phase == where.phase.value)
        if where.local_authority_code is not None:
            query = query.where(schools.c.local_authority_code == where.local_authority_code)
        if where.state_funded is not None:
            query = query.where(schools.c.state_funded == where.state_funded)
        return [_school(row) for row in await self._connection.execute(query)]

    async def contacts(self, urns: Collection[str]) -> dict[str, Contact]:
        query = select(school_contacts).where(school_contacts.c.urn.in_(list(urns)))
        return {
            row.urn: Contact(name=row.name, email=row.email, role=ContactRole(row.role))
            for row in await self._connection.execute(query)
        }

    async def set_contact(self, urn: str, contact: Contact) -> None:
        await self._connection.execute(delete(school_contacts).where(school_contacts.c.urn == urn))
        await self._connection.execute(
            insert(school_contacts).values(urn=urn, name=contact.name, email=contact.email, role=contact.role.value)
        )
