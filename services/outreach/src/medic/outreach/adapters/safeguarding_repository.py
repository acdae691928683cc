"""The safeguarding area's storage: who is registered, their name (apart), the certificate hashes, and the timers'
keys. The record itself is the history (`uow.history`, Stream.SAFEGUARDING)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_safeguarding import dbs_certificates, safeguarding_people, safeguarding_person_names


@dataclass(frozen=True)
class Person:
    person_id: str
    registered_at: datetime
    left_on: date | None
    erased_at: datetime | None


@dataclass(frozen=True)
class Certificate:
    check_id: uuid.UUID
    number_hmac: str
    last_four: str


class SafeguardingRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # --- people ---------------------------------------------------------------------------------------------------

    async def add_person(self, person_id: str, full_name: str, *, now: datetime) -> bool:
        """Registers a person; False (and nothing written) if they are registered already."""
        insert_ = pg_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert_(safeguarding_people)
            .values(person_id=person_id, registered_at=now)
            .on_conflict_do_nothing(index_elements=["person_id"])
            .returning(safeguarding_people.c.person_id)
        )
        if (await self._connection.execute(statement)).first() is None:
            return False
        await self._connection.execute(
            insert(safeguarding_person_names).values(person_id=person_id, full_name=full_name)
        )
        return True

    async def person(self, person_id: str) -> Person | None:
        query = select(safeguarding_people).where(safeguarding_people.c.person_id == person_id)
        row = (await self._connection.execute(query)).first()
        return None if row is None else Person(row.person_id, row.registered_at, row.left_on, row.erased_at)

    async def people(self, *, limit: int, offset: int) -> Sequence[Person]:
        c = safeguarding_people.c
        query = select(safeguarding_people).order_by(c.person_id).limit(limit).offset(offset)
        return [
            Person(r.person_id, r.registered_at, r.left_on, r.erased_at) for r in await self._connection.execute(query)
        ]

    async def full_name(self, person_id: str) -> str | None:
        c = safeguarding_person_names.c
        name: str | None = (
            await self._connection.execute(select(c.full_name).where(c.person_id == person_id))
        ).scalar()
        return name

    async def set_left_on(self, person_id: str, left_on: date | None) -> None:
        c = safeguarding_people.c
        await self._connection.execute(
            update(safeguarding_people).where(c.person_id == person_id).values(left_on=left_on)
        )

    async def left_before(self, day: date) -> list[str]:
        """People whose leaving date is before `day` and whose details are not erased yet."""
        c = safeguarding_people.c
        query = (
            select(c.person_id)
            .where(c.left_on.is_not(None) & (c.left_on < day) & c.erased_at.is_(None))
            .order_by(c.person_id)
        )
        return list((await self._connection.execute(query)).scalars())

    async def erased(self) -> dict[str, datetime]:
        """Each person whose personal details were erased, and when (the timers and reports leave them out)."""
        c = safeguarding_people.c
        query = select(c.person_id, c.erased_at).where(c.erased_at.is_not(None))
        return {row.person_id: row.erased_at for row in await self._connection.execute(query)}

    async def erase_personal_details(self, person_id: str, *, now: datetime) -> tuple[int, int]:
        """Deletes the name and every certificate hash and last four; marks the person erased. Returns (names,
        certificates) deleted."""
        names = await self._connection.execute(
            delete(safeguarding_person_names).where(safeguarding_person_names.c.person_id == person_id)
        )
        certificates = await self._connection.execute(
            delete(dbs_certificates).where(dbs_certificates.c.person_id == person_id)
        )
        c = safeguarding_people.c
        await self._connection.execute(
            update(safeguarding_people).where((c.person_id == person_id) & c.erased_at.is_(None)).values(erased_at=now)
        )
        return names.rowcount, certificates.rowcount

    # --- certificates -----------------------------------------------------------------------------------------------

    async def add_certificate(
        self, check_id: uuid.UUID, person_id: str, number_hmac: str, last_four: str, *, now: datetime
    ) -> None:
        await self._connection.execute(
            insert(dbs_certificates).values(
                check_id=check_id, person_id=person_id, number_hmac=number_hmac, last_four=last_four, recorded_at=now
            )
        )

    async def certificate(self, check_id: uuid.UUID) -> Certificate | None:
        c = dbs_certificates.c
        row = (await self._connection.execute(select(dbs_certificates).where(c.check_id == check_id))).first()
        return None if row is None else Certificate(row.check_id, row.number_hmac, row.last_four)

    async def last_fours(self, person_id: str) -> dict[uuid.UUID, str]:
        c = dbs_certificates.c
        query = select(c.check_id, c.last_four).where(c.person_id == person_id)
        return {row.check_id: row.last_four for row in await self._connection.execute(query)}
