from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_partners import known_partners
from medic.outreach.domain.model import KnownPartner
from medic.shared.contracts.projects import PartnerKind


class KnownPartnerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def upsert(self, partner: KnownPartner) -> None:
        insert = pg_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        values = {
            "id": partner.id,
            "name": partner.name,
            "kind": partner.kind.value,
            "areas_of_work": list(partner.areas_of_work),
            "registered_at": partner.registered_at,
        }
        statement = insert(known_partners).values(values)
        statement = statement.on_conflict_do_update(index_elements=["id"], set_=values)
        await self._connection.execute(statement)

    async def list(self, *, limit: int, offset: int) -> Sequence[KnownPartner]:
        query = (
            select(known_partners)
            .order_by(known_partners.c.registered_at, known_partners.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [
            KnownPartner(
                id=row.id,
                name=row.name,
                kind=PartnerKind(row.kind),
                areas_of_work=tuple(row.areas_of_work),
                registered_at=row.registered_at,
            )
            for row in await self._connection.execute(query)
        ]
