"""Reading and writing questionnaires, their versions and items, and responses with their answers.

A version's row is locked (`version(..., lock=True)`) by whatever reads whether it is used before acting on it:
correcting its items and recording a response, so a correction never slips in beside a first response. A new
version locks its questionnaire's row, so two new versions never take the same number.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_surveys import (
    survey_answers,
    survey_items,
    survey_questionnaires,
    survey_responses,
    survey_versions,
)
from medic.outreach.domain.surveys import (
    Answer,
    Item,
    Questionnaire,
    Response,
    SurveyConflict,
    Version,
    already_answered,
)
from medic.shared.contracts.outreach.surveys import ResponseKind


class SurveyRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # --- questionnaires and versions ---------------------------------------------------------------------------

    async def add_questionnaire(self, questionnaire: Questionnaire, *, now: datetime) -> None:
        await self._connection.execute(
            insert(survey_questionnaires).values(id=questionnaire.id, name=questionnaire.name, created_at=now)
        )

    async def questionnaire(self, questionnaire_id: uuid.UUID, *, lock: bool = False) -> Questionnaire | None:
        query = select(survey_questionnaires).where(survey_questionnaires.c.id == questionnaire_id)
        if lock:
            query = query.with_for_update()
        row = (await self._connection.execute(query)).first()
        return None if row is None else Questionnaire(row.id, row.name)

    async def questionnaires(self, *, limit: int, offset: int) -> Sequence[Questionnaire]:
        query = select(survey_questionnaires).order_by(survey_questionnaires.c.name, survey_questionnaires.c.id)
        rows = await self._connection.execute(query.limit(limit).offset(offset))
        return [Questionnaire(row.id, row.name) for row in rows]

    async def add_version(self, version: Version, *, now: datetime) -> None:
        await self._connection.execute(
            insert(survey_versions).values(
                questionnaire_id=version.questionnaire_id, version=version.number, published_at=now, updated_at=now
            )
        )
        await self._write_items(version)

    async def replace_items(self, version: Version, *, now: datetime) -> None:
        await self._connection.execute(
            delete(survey_items).where(
                survey_items.c.questionnaire_id == version.questionnaire_id,
                survey_items.c.version == version.number,
            )
        )
        await self._write_items(version)
        await self._connection.execute(
            update(survey_versions)
            .where(
                survey_versions.c.questionnaire_id == version.questionnaire_id,
                survey_versions.c.version == version.number,
            )
            .values(updated_at=now)
        )

    async def _write_items(self, version: Version) -> None:
        rows = [
            {
                "questionnaire_id": version.questionnaire_id,
                "version": version.number,
                "position": position,
                "code": item.code,
                "text": item.text,
            }
            for position, item in enumerate(version.items)
        ]
        await self._connection.execute(insert(survey_items), rows)

    async def latest_number(self, questionnaire_id: uuid.UUID) -> int:
        query = select(func.max(survey_versions.c.version)).where(
            survey_versions.c.questionnaire_id == questionnaire_id
        )
        return int((await self._connection.execute(query)).scalar_one() or 0)

    async def version(self, questionnaire_id: uuid.UUID, number: int, *, lock: bool = False) -> Version | None:
        query = select(survey_versions.c.version).where(
            survey_versions.c.questionnaire_id == questionnaire_id, survey_versions.c.version == number
        )
        if lock:
            query = query.with_for_update()
        if (await self._connection.execute(query)).first() is None:
            return None
        items_query = (
            select(survey_items.c.code, survey_items.c.text)
            .where(survey_items.c.questionnaire_id == questionnaire_id, survey_items.c.version == number)
            .order_by(survey_items.c.position)
        )
        items = tuple(Item(row.code, row.text) for row in await self._connection.execute(items_query))
        used = select(func.count()).where(
            survey_responses.c.questionnaire_id == questionnaire_id, survey_responses.c.version == number
        )
        responses = int((await self._connection.execute(used)).scalar_one())
        return Version(questionnaire_id, number, items, responses)

    async def versions(self, questionnaire_id: uuid.UUID) -> Sequence[Version]:
        query = (
            select(survey_versions.c.version)
            .where(survey_versions.c.questionnaire_id == questionnaire_id)
            .order_by(survey_versions.c.version)
        )
        numbers = [row.version for row in await self._connection.execute(query)]
        found = [await self.version(questionnaire_id, number) for number in numbers]
        return [v for v in found if v is not None]

    async def known_items(self, questionnaire_id: uuid.UUID, *, besides: int | None = None) -> dict[str, str]:
        """Code -> text over the questionnaire's versions (all but `besides`)."""
        query = select(survey_items.c.code, survey_items.c.text).where(
            survey_items.c.questionnaire_id == questionnaire_id
        )
        if besides is not None:
            query = query.where(survey_items.c.version != besides)
        return {row.code: row.text for row in await self._connection.execute(query)}

    # --- responses ---------------------------------------------------------------------------------------------

    async def add_response(self, response: Response) -> None:
        try:
            await self._connection.execute(
                insert(survey_responses).values(
                    id=response.id,
                    questionnaire_id=response.questionnaire_id,
                    version=response.version,
                    participant_id=response.participant_id,
                    cycle_id=response.cycle_id,
                    activity_id=response.activity_id,
                    kind=response.kind.value,
                    recorded_at=response.recorded_at,
                )
            )
        except IntegrityError as error:  # a concurrent response of the same kind won the race (the unit of work
            # rolls back)
            raise SurveyConflict(already_answered(response.kind, response.version)) from error
        await self._connection.execute(
            insert(survey_answers),
            [{"response_id": response.id, "item_code": c, "value": v} for c, v in response.answers.items()],
        )

    async def response_of(
        self, questionnaire_id: uuid.UUID, version: int, participant_id: uuid.UUID, kind: ResponseKind
    ) -> uuid.UUID | None:
        query = select(survey_responses.c.id).where(
            survey_responses.c.questionnaire_id == questionnaire_id,
            survey_responses.c.version == version,
            survey_responses.c.participant_id == participant_id,
            survey_responses.c.kind == kind.value,
        )
        found: uuid.UUID | None = (await self._connection.execute(query)).scalar_one_or_none()
        return found

    async def responses(self, participant_id: uuid.UUID) -> Sequence[Response]:
        """The participant's responses with their answers, oldest first."""
        query = (
            select(survey_responses)
            .where(survey_responses.c.participant_id == participant_id)
            .order_by(survey_responses.c.recorded_at, survey_responses.c.id)
        )
        rows = list(await self._connection.execute(query))
        answers: dict[uuid.UUID, dict[str, int]] = {row.id: {} for row in rows}
        if rows:
            answer_rows = await self._connection.execute(
                select(survey_answers).where(survey_answers.c.response_id.in_(list(answers)))
            )
            for answer in answer_rows:
                answers[answer.response_id][answer.item_code] = int(answer.value)
        return [
            Response(
                id=row.id,
                questionnaire_id=row.questionnaire_id,
                version=row.version,
                participant_id=row.participant_id,
                cycle_id=row.cycle_id,
                activity_id=row.activity_id,
                kind=ResponseKind(row.kind),
                answers=answers[row.id],
                recorded_at=row.recorded_at,
            )
            for row in rows
        ]

    async def answers(self, questionnaire_id: uuid.UUID, cycle_id: uuid.UUID) -> Sequence[Answer]:
        """Every answer to any version of the questionnaire in responses counted for the cycle."""
        query = (
            select(
                survey_responses.c.participant_id,
                survey_responses.c.kind,
                survey_responses.c.recorded_at,
                survey_answers.c.item_code,
                survey_answers.c.value,
            )
            .join(survey_answers, survey_answers.c.response_id == survey_responses.c.id)
            .where(survey_responses.c.questionnaire_id == questionnaire_id, survey_responses.c.cycle_id == cycle_id)
        )
        return [
            Answer(row.participant_id, ResponseKind(row.kind), row.recorded_at, row.item_code, int(row.value))
            for row in await self._connection.execute(query)
        ]
