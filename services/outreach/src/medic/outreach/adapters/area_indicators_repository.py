"""Area-indicator lookups and the participants' area indicators, on the tables of `orm_area_indicators`."""

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_area_indicators import (
    area_lookup_editions,
    area_lookup_values,
    participant_area_indicators,
    participant_areas,
    postcode_areas,
)
from medic.outreach.domain.area_indicators import AreaIndicatorValue, Areas, Edition, Geography
from medic.outreach.domain.indicators import AreaMeasure
from medic.shared.contracts.outreach.indicators import AreaDataset
from medic.shared.db import lock_until_commit

IN_LIST = 500  # bounded IN lists
# Any fixed 64-bit key, the same in every process: one load of lookup files at a time, whichever replica runs it.
LOOKUP_LOAD_LOCK = 0x6D6564696C6B7570


def _edition(row: Any) -> Edition:
    return Edition(
        dataset=AreaDataset(row.dataset),
        edition=row.edition,
        geography=Geography(row.geography),
        file=row.file,
        rows=row.rows,
        loaded_at=row.loaded_at,
    )


def _areas(row: Any) -> Areas:
    return Areas(lsoa11=row.lsoa11, msoa11=row.msoa11, lsoa21=row.lsoa21, msoa21=row.msoa21)


def _chunks(items: Sequence[Any], size: int = IN_LIST) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class AreaIndicatorRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # Editions and lookup rows

    async def lock_loading(self) -> None:
        """Until this transaction ends, no other load of lookup files runs (two replicas starting together on a
        fresh database both load the samples: the second then finds each edition loaded). SQLite has one writer."""
        await lock_until_commit(self._connection, LOOKUP_LOAD_LOCK)

    async def editions(self) -> list[Edition]:
        query = select(area_lookup_editions).order_by(area_lookup_editions.c.dataset, area_lookup_editions.c.edition)
        return [_edition(row) for row in await self._connection.execute(query)]

    async def edition(self, dataset: AreaDataset, edition: str) -> Edition | None:
        query = select(area_lookup_editions).where(
            area_lookup_editions.c.dataset == dataset.value, area_lookup_editions.c.edition == edition
        )
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _edition(row)

    async def record_edition(self, edition: Edition) -> None:
        await self._connection.execute(
            insert(area_lookup_editions).values(
                dataset=edition.dataset.value,
                edition=edition.edition,
                geography=edition.geography.value,
                file=edition.file,
                rows=edition.rows,
                loaded_at=edition.loaded_at,
            )
        )

    async def clear_postcodes(self) -> None:
        await self._connection.execute(delete(postcode_areas))

    async def known_postcodes(self, postcodes: Collection[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(postcodes)):
            query = select(postcode_areas.c.postcode).where(postcode_areas.c.postcode.in_(chunk))
            found.update((await self._connection.execute(query)).scalars())
        return found

    async def add_postcodes(self, rows: Sequence[tuple[str, Areas]]) -> None:
        if rows:
            await self._connection.execute(
                insert(postcode_areas),
                [
                    {"postcode": p, "lsoa11": a.lsoa11, "msoa11": a.msoa11, "lsoa21": a.lsoa21, "msoa21": a.msoa21}
                    for p, a in rows
                ],
            )

    async def add_values(
        self, dataset: AreaDataset, edition: str, rows: Sequence[tuple[str, AreaMeasure, int]]
    ) -> None:
        if rows:
            await self._connection.execute(
                insert(area_lookup_values),
                [
                    {"dataset": dataset.value, "edition": edition, "area_code": c, "measure": m.value, "value": v}
                    for c, m, v in rows
                ],
            )

    async def areas_of(self, postcode: str) -> Areas | None:
        query = select(postcode_areas).where(postcode_areas.c.postcode == postcode)
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _areas(row)

    async def looked_up(
        self, codes: Collection[str], editions: Collection[Edition]
    ) -> dict[tuple[str, str, str], dict[AreaMeasure, int]]:
        """Values of `editions` for the area `codes`, keyed by (dataset, edition, area code)."""
        found: dict[tuple[str, str, str], dict[AreaMeasure, int]] = {}
        if not editions:
            return found
        which = or_(
            *(
                and_(area_lookup_values.c.dataset == e.dataset.value, area_lookup_values.c.edition == e.edition)
                for e in editions
            )
        )
        for chunk in _chunks(sorted(codes)):
            query = select(area_lookup_values).where(area_lookup_values.c.area_code.in_(chunk), which)
            for row in await self._connection.execute(query):
                found.setdefault((row.dataset, row.edition, row.area_code), {})[AreaMeasure(row.measure)] = row.value
        return found

    # Participants

    async def set_participant_areas(self, participant_id: uuid.UUID, areas: Areas, *, now: datetime) -> None:
        await self._connection.execute(
            delete(participant_areas).where(participant_areas.c.participant_id == participant_id)
        )
        await self._connection.execute(
            insert(participant_areas).values(
                participant_id=participant_id,
                lsoa11=areas.lsoa11,
                msoa11=areas.msoa11,
                lsoa21=areas.lsoa21,
                msoa21=areas.msoa21,
                resolved_at=now,
            )
        )

    async def participant_areas(self, *, after: uuid.UUID | None, limit: int) -> list[tuple[uuid.UUID, Areas]]:
        """Participants with stored areas, in id order, the `limit` after `after` (keyset pages)."""
        query = select(participant_areas).order_by(participant_areas.c.participant_id).limit(limit)
        if after is not None:
            query = query.where(participant_areas.c.participant_id > after)
        return [(row.participant_id, _areas(row)) for row in await self._connection.execute(query)]

    async def areas_for(self, participant_id: uuid.UUID) -> Areas | None:
        query = select(participant_areas).where(participant_areas.c.participant_id == participant_id)
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _areas(row)

    async def forget_values(self, participant_id: uuid.UUID) -> None:
        await self._connection.execute(
            delete(participant_area_indicators).where(participant_area_indicators.c.participant_id == participant_id)
        )

    async def add_participant_values(self, values: Mapping[uuid.UUID, Sequence[AreaIndicatorValue]]) -> None:
        rows = [
            {
                "participant_id": participant_id,
                "dataset": v.dataset,
                "edition": v.edition,
                "measure": v.measure.value,
                "value": v.value,
                "derived_at": v.derived_at,
            }
            for participant_id, found in values.items()
            for v in found
        ]
        if rows:
            await self._connection.execute(insert(participant_area_indicators), rows)

    async def values_for(self, participant_id: uuid.UUID) -> list[AreaIndicatorValue]:
        """Every value stored for the participant, of every edition, by dataset, edition and measure."""
        table = participant_area_indicators
        query = (
            select(table)
            .where(table.c.participant_id == participant_id)
            .order_by(table.c.dataset, table.c.edition, table.c.measure)
        )
        return [
            AreaIndicatorValue(
                measure=AreaMeasure(row.measure),
                value=row.value,
                dataset=row.dataset,
                edition=row.edition,
                derived_at=row.derived_at,
            )
            for row in await self._connection.execute(query)
        ]
