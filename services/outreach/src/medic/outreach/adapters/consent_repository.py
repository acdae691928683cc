"""The consent area's storage: the published wording, and the few facts about a participant consent depends on.

The consents themselves are in the history (`uow.history`, `Stream.CONSENT`). A participant's date of birth is read
here, one value at a time, only to decide whether a parent's or guardian's consent is needed; it is never written
to the history, an event or a log.
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_consent import consent_texts
from medic.outreach.adapters.orm_partners import known_partners
from medic.outreach.adapters.orm_watcch import (
    personal_details,
    watcch_applications,
    watcch_cycles,
)
from medic.outreach.domain.consent import ConsentScope, ConsentText


def _text(row: Row[Any]) -> ConsentText:
    return ConsentText(ConsentScope(row.scope), row.version, row.text, row.published_at, row.published_by)


class ConsentRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # --- the wording ------------------------------------------------------------------------------------------

    async def publish_text(self, scope: ConsentScope, text: str, *, now: datetime, by: str) -> ConsentText:
        """The scope's next version (the primary key refuses a second writer taking the same number)."""
        c = consent_texts.c
        latest = (await self._connection.execute(select(func.max(c.version)).where(c.scope == scope.value))).scalar()
        version = (latest or 0) + 1
        await self._connection.execute(
            insert(consent_texts).values(scope=scope.value, version=version, text=text, published_at=now,
                                         published_by=by)
        )  # fmt: skip
        return ConsentText(scope, version, text, now, by)

    async def texts(self, scope: ConsentScope | None = None) -> Sequence[ConsentText]:
        c = consent_texts.c
        query = select(consent_texts).order_by(c.scope, c.version)
        if scope is not None:
            query = query.where(c.scope == scope.value)
        return [_text(row) for row in await self._connection.execute(query)]

    async def text_published(self, scope: ConsentScope, version: int) -> bool:
        c = consent_texts.c
        query = select(c.version).where((c.scope == scope.value) & (c.version == version))
        return (await self._connection.execute(query)).first() is not None

    # --- what consent depends on ----------------------------------------------------------------------------------

    async def participant_exists(self, participant_id: uuid.UUID) -> bool:
        """A participant outreach knows and has not erased (erasure deletes the personal details)."""
        c = personal_details.c
        query = select(c.participant_id).where(c.participant_id == participant_id)
        return (await self._connection.execute(query)).first() is not None

    async def date_of_birth(self, participant_id: uuid.UUID) -> date | None:
        """Only to decide whether a guardian's consent is needed; None once erased."""
        c = personal_details.c
        query = select(c.date_of_birth).where(c.participant_id == participant_id)
        born: date | None = (await self._connection.execute(query)).scalar()
        return born

    async def dates_of_birth(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, date]:
        """As `date_of_birth`, for many (the research extract)."""
        if not ids:
            return {}
        c = personal_details.c
        query = select(c.participant_id, c.date_of_birth).where(c.participant_id.in_(list(ids)))
        return {row.participant_id: row.date_of_birth for row in await self._connection.execute(query)}

    async def cycle_ends_on(self, participant_id: uuid.UUID) -> date | None:
        """The last day of the programme of the participant's cycle (through their application; the latest, if
        ever more than one)."""
        a, cy = watcch_applications.c, watcch_cycles.c
        query = (
            select(func.max(cy.programme_ends_on))
            .select_from(watcch_applications.join(watcch_cycles, a.cycle_id == cy.id))
            .where(a.participant_id == participant_id)
        )
        ends: date | None = (await self._connection.execute(query)).scalar()
        return ends

    async def known_partner_ids(self, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        if not ids:
            return set()
        query = select(known_partners.c.id).where(known_partners.c.id.in_(list(ids)))
        return set((await self._connection.execute(query)).scalars())
