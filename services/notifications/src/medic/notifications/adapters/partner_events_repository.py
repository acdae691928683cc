"""State the partner projection keeps: project titles, partners and schools as published, school links, and each
partner's message sequence."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.notifications.adapters.orm_partner_events import (
    partner_event_partners,
    partner_event_projects,
    partner_event_schools,
    partner_event_sequences,
    partner_school_links,
)
from medic.notifications.domain.partner_events import SchoolLink


class PartnerEventsRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert

    async def next_sequence(self, partner_id: uuid.UUID) -> int:
        """The partner's next message number, 1 first. One statement: the row stays locked until commit, so
        concurrent transactions number one after the other and a rollback gives its numbers back."""
        upsert = (
            self._insert(partner_event_sequences)
            .values(partner_id=partner_id, last_sequence=1)
            .on_conflict_do_update(
                index_elements=["partner_id"], set_={"last_sequence": partner_event_sequences.c.last_sequence + 1}
            )
            .returning(partner_event_sequences.c.last_sequence)
        )
        return int((await self._connection.execute(upsert)).scalar_one())

    async def remember_project(self, project_id: uuid.UUID, title: str) -> None:
        statement = self._insert(partner_event_projects).values(project_id=project_id, title=title)
        await self._connection.execute(
            statement.on_conflict_do_update(index_elements=["project_id"], set_={"title": statement.excluded.title})
        )

    async def project_title(self, project_id: uuid.UUID) -> str | None:
        query = select(partner_event_projects.c.title).where(partner_event_projects.c.project_id == project_id)
        title: str | None = (await self._connection.execute(query)).scalar_one_or_none()
        return title

    async def remember_partner(self, partner_id: uuid.UUID, *, name: str, revision: int) -> None:
        """Keep the newest profile: an update older than the one held (redelivered, or overtaken) changes nothing."""
        c = partner_event_partners.c
        statement = self._insert(partner_event_partners).values(partner_id=partner_id, name=name, revision=revision)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=["partner_id"],
                set_={"name": statement.excluded.name, "revision": revision},
                where=c.revision < statement.excluded.revision,
            )
        )

    async def partner_name(self, partner_id: uuid.UUID) -> str | None:
        query = select(partner_event_partners.c.name).where(partner_event_partners.c.partner_id == partner_id)
        name: str | None = (await self._connection.execute(query)).scalar_one_or_none()
        return name

    async def remember_school(self, urn: str, name: str) -> None:
        statement = self._insert(partner_event_schools).values(urn=urn, name=name)
        await self._connection.execute(
            statement.on_conflict_do_update(index_elements=["urn"], set_={"name": statement.excluded.name})
        )

    async def school_name(self, urn: str) -> str | None:
        query = select(partner_event_schools.c.name).where(partner_event_schools.c.urn == urn)
        name: str | None = (await self._connection.execute(query)).scalar_one_or_none()
        return name

    async def link_school(self, urn: str, partner_id: uuid.UUID, at: datetime) -> None:
        """Link the school to the partner (moving it from any other)."""
        statement = self._insert(partner_school_links).values(urn=urn, partner_id=partner_id, linked_at=at)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=["urn"],
                set_={"partner_id": statement.excluded.partner_id, "linked_at": statement.excluded.linked_at},
            )
        )

    async def unlink_school(self, urn: str) -> bool:
        result = await self._connection.execute(delete(partner_school_links).where(partner_school_links.c.urn == urn))
        return result.rowcount == 1

    async def school_partner(self, urn: str) -> uuid.UUID | None:
        query = select(partner_school_links.c.partner_id).where(partner_school_links.c.urn == urn)
        partner_id: uuid.UUID | None = (await self._connection.execute(query)).scalar_one_or_none()
        return partner_id

    async def school_links(
        self, *, urn: str | None = None, partner_id: uuid.UUID | None = None
    ) -> Sequence[SchoolLink]:
        """The links (of one school, of one partner, or all), by URN, with the names last published."""
        links, schools, partners = partner_school_links.c, partner_event_schools.c, partner_event_partners.c
        query = (
            select(
                links.urn,
                links.partner_id,
                links.linked_at,
                schools.name.label("school"),
                partners.name.label("partner"),
            )
            .select_from(
                partner_school_links.outerjoin(partner_event_schools, schools.urn == links.urn).outerjoin(
                    partner_event_partners, partners.partner_id == links.partner_id
                )
            )
            .order_by(links.urn)
        )
        if urn is not None:
            query = query.where(links.urn == urn)
        if partner_id is not None:
            query = query.where(links.partner_id == partner_id)
        return [_link(row._mapping) for row in await self._connection.execute(query)]


def _link(row: Any) -> SchoolLink:
    return SchoolLink(
        urn=row["urn"],
        partner_id=row["partner_id"],
        linked_at=row["linked_at"],
        school_name=row["school"],
        partner_name=row["partner"],
    )
