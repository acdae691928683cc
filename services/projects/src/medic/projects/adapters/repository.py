import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.orm import partners
from medic.projects.domain.model import Partner, PartnerAlreadyRegistered
from medic.shared.contracts.projects import PartnerKind


class PartnerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, partner: Partner) -> None:
        try:
            await self._connection.execute(
                insert(partners).values(
                    id=partner.id,
                    name=partner.name,
                    name_key=partner.name_key,
                    kind=partner.kind.value,
                    contact_email=partner.contact_email,
                    areas_of_work=list(partner.areas_of_work),
                    registered_at=partner.registered_at,
                )
            )
        except IntegrityError as error:  # a concurrent registration of the same name won the race
            raise PartnerAlreadyRegistered(f"a partner named {partner.name!r} is already registered") from error

    async def exists_named(self, name_key: str) -> bool:
        query = select(partners.c.id).where(partners.c.name_key == name_key)
        return (await self._connection.execute(query)).first() is not None

    async def get(self, partner_id: uuid.UUID) -> Partner | None:
        row = (await self._connection.execute(select(partners).where(partners.c.id == partner_id))).first()
        return _to_partner(row._mapping) if row else None

    async def list(self, *, limit: int, offset: int) -> Sequence[Partner]:
        query = select(partners).order_by(partners.c.registered_at, partners.c.id).limit(limit).offset(offset)
        return [_to_partner(row._mapping) for row in await self._connection.execute(query)]


def _to_partner(row: Any) -> Partner:
    return Partner(
        id=row["id"],
        name=row["name"],
        kind=PartnerKind(row["kind"]),
        contact_email=row["contact_email"],
        areas_of_work=tuple(row["areas_of_work"]),
        registered_at=row["registered_at"],
    )
