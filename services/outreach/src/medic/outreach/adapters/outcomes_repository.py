import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_outcomes import progression_outcomes
from medic.outreach.domain.outcomes import ALREADY_RECORDED, Outcome, OutcomeConflict
from medic.shared.contracts.outreach.outcomes import CourseType, OutcomeSource, OutcomeStage


def _outcome(row: Row[Any]) -> Outcome:
    return Outcome(
        id=row.id,
        participant_id=row.participant_id,
        stage=OutcomeStage(row.stage),
        course_type=CourseType(row.course_type),
        entry_year=row.entry_year,
        source=OutcomeSource(row.source),
        occurred_on=row.occurred_on,
    )


class OutcomeRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, outcome: Outcome, *, now: datetime) -> None:
        try:
            await self._connection.execute(
                insert(progression_outcomes).values(
                    id=outcome.id,
                    participant_id=outcome.participant_id,
                    stage=outcome.stage.value,
                    course_type=outcome.course_type.value,
                    entry_year=outcome.entry_year,
                    source=outcome.source.value,
                    occurred_on=outcome.occurred_on,
                    recorded_at=now,
                )
            )
        except IntegrityError as error:  # a concurrent request recorded the same fact from the same source first
            # (uq_progression_outcomes_fact; the unit of work rolls back): the same 409 as when it was seen before
            raise OutcomeConflict(ALREADY_RECORDED) from error

    async def find(self, outcome: Outcome) -> Outcome | None:
        """The recorded outcome with the same participant, stage, course type, year of entry and source."""
        c = progression_outcomes.c
        query = select(progression_outcomes).where(
            (c.participant_id == outcome.participant_id)
            & (c.stage == outcome.stage.value)
            & (c.course_type == outcome.course_type.value)
            & (c.entry_year == outcome.entry_year)
            & (c.source == outcome.source.value)
        )
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _outcome(row)

    async def of_participant(self, participant_id: uuid.UUID) -> Sequence[Outcome]:
        c = progression_outcomes.c
        query = (
            select(progression_outcomes)
            .where(c.participant_id == participant_id)
            .order_by(c.occurred_on, c.entry_year, c.stage, c.course_type, c.source)
        )
        return [_outcome(row) for row in await self._connection.execute(query)]

    async def of_participants(self, participant_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Outcome]]:
        found: dict[uuid.UUID, list[Outcome]] = {p: [] for p in participant_ids}
        ordered = sorted(participant_ids)
        c = progression_outcomes.c
        for start in range(0, len(ordered), 500):  # bounded IN lists
            query = (
                select(progression_outcomes)
                .where(c.participant_id.in_(ordered[start : start + 500]))
                .order_by(c.occurred_on, c.entry_year, c.stage, c.course_type, c.source)
            )
            for row in await self._connection.execute(query):
                found[row.participant_id].append(_outcome(row))
        return found
