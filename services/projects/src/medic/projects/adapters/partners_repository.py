"""Reading and writing community partners, each with its contacts and agreements, as one aggregate."""

import builtins
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.orm_partners import partner_agreements, partner_contacts, partners
from medic.projects.domain.partners import Agreement, Contact, Partner, PartnerAlreadyRegistered
from medic.shared.contracts.projects.partners import AgreementKind, AgreementStatus, PartnerKind


class ConcurrentPartnerChange(Exception):
    """Someone else changed the partner between our read and our write."""


class PartnerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, partner: Partner) -> None:
        try:
            await self._connection.execute(insert(partners).values(**_partner_row(partner)))
        except IntegrityError as error:  # a concurrent registration of the same name won the race
            raise PartnerAlreadyRegistered(f"a partner named {partner.name!r} is already registered") from error
        await self._insert_children(partner)

    async def save(self, partner: Partner, *, read_revision: int) -> None:
        """Write a changed partner read at `read_revision`; ConcurrentPartnerChange if that is no longer current."""
        if partner.revision == read_revision:
            return  # nothing changed
        try:
            result = await self._connection.execute(
                update(partners)
                .where(partners.c.id == partner.id, partners.c.revision == read_revision)
                .values(**_partner_row(partner))
            )
        except IntegrityError as error:  # the new name was taken meanwhile
            raise PartnerAlreadyRegistered(f"a partner named {partner.name!r} is already registered") from error
        if result.rowcount != 1:
            raise ConcurrentPartnerChange(partner.id)
        # The row update above holds the partner; its few children are simply written again.
        await self._connection.execute(delete(partner_contacts).where(partner_contacts.c.partner_id == partner.id))
        await self._connection.execute(delete(partner_agreements).where(partner_agreements.c.partner_id == partner.id))
        await self._insert_children(partner)

    async def _insert_children(self, partner: Partner) -> None:
        if partner.contacts:
            await self._connection.execute(
                insert(partner_contacts), [_contact_row(partner.id, c) for c in partner.contacts]
            )
        if partner.agreements:
            await self._connection.execute(
                insert(partner_agreements), [_agreement_row(partner.id, a) for a in partner.agreements]
            )

    async def exists_named(self, name_key: str, *, other_than: uuid.UUID | None = None) -> bool:
        query = select(partners.c.id).where(partners.c.name_key == name_key)
        if other_than is not None:
            query = query.where(partners.c.id != other_than)
        return (await self._connection.execute(query)).first() is not None

    async def get(self, partner_id: uuid.UUID) -> Partner | None:
        found = await self._load(select(partners).where(partners.c.id == partner_id))
        return found[0] if found else None

    async def list(
        self, *, limit: int, offset: int, archived: bool | None = False, only: uuid.UUID | None = None
    ) -> Sequence[Partner]:
        """Oldest first. `archived`: True only archived, False only not archived, None both. `only`: that partner."""
        query = select(partners).order_by(partners.c.registered_at, partners.c.id).limit(limit).offset(offset)
        if archived is not None:
            query = query.where(partners.c.archived_at.is_not(None) if archived else partners.c.archived_at.is_(None))
        if only is not None:
            query = query.where(partners.c.id == only)
        return await self._load(query)

    async def _load(self, query: Any) -> builtins.list[Partner]:
        found = [_to_partner(row._mapping) for row in await self._connection.execute(query)]
        if not found:
            return []
        by_id = {p.id: p for p in found}
        contacts: dict[uuid.UUID, list[Contact]] = defaultdict(list)
        rows = await self._connection.execute(
            select(partner_contacts)
            .where(partner_contacts.c.partner_id.in_(by_id))
            .order_by(partner_contacts.c.added_at, partner_contacts.c.id)
        )
        for row in rows:
            contacts[row.partner_id].append(_to_contact(row._mapping))
        agreements: dict[uuid.UUID, list[Agreement]] = defaultdict(list)
        rows = await self._connection.execute(
            select(partner_agreements)
            .where(partner_agreements.c.partner_id.in_(by_id))
            .order_by(partner_agreements.c.added_at, partner_agreements.c.id)
        )
        for row in rows:
            agreements[row.partner_id].append(_to_agreement(row._mapping))
        for partner in found:
            partner.contacts = contacts[partner.id]
            partner.agreements = agreements[partner.id]
        return found


def _partner_row(partner: Partner) -> dict[str, Any]:
    return {
        "id": partner.id,
        "name": partner.name,
        "name_key": partner.name_key,
        "kind": partner.kind.value,
        "areas_of_work": list(partner.areas_of_work),
        "registered_at": partner.registered_at,
        "archived_at": partner.archived_at,
        "revision": partner.revision,
    }


def _contact_row(partner_id: uuid.UUID, contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "partner_id": partner_id,
        "name": contact.name,
        "email": contact.email,
        "role": contact.role,
        "is_primary": contact.primary,
        "added_at": contact.added_at,
    }


def _agreement_row(partner_id: uuid.UUID, agreement: Agreement) -> dict[str, Any]:
    return {
        "id": agreement.id,
        "partner_id": partner_id,
        "kind": agreement.kind.value,
        "starts_on": agreement.starts_on,
        "ends_on": agreement.ends_on,
        "status": agreement.stored_status.value,
        "added_at": agreement.added_at,
    }


def _to_partner(row: Any) -> Partner:
    return Partner(
        id=row["id"],
        name=row["name"],
        kind=PartnerKind(row["kind"]),
        areas_of_work=tuple(row["areas_of_work"]),
        registered_at=row["registered_at"],
        archived_at=row["archived_at"],
        revision=row["revision"],
    )


def _to_contact(row: Any) -> Contact:
    return Contact(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        role=row["role"],
        primary=row["is_primary"],
        added_at=row["added_at"],
    )


def _to_agreement(row: Any) -> Agreement:
    return Agreement(
        id=row["id"],
        kind=AgreementKind(row["kind"]),
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        stored_status=AgreementStatus(row["status"]),
        added_at=row["added_at"],
    )
