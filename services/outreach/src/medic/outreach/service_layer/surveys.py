"""Use cases about surveys: questionnaires and their versions, responses, and the pre/post change per item for a
cycle (`survey_change`, which the impact report reads). One unit of work each; events in the outbox in the same
transaction.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.survey_commands import CorrectVersion, CreateQuestionnaire, PublishVersion, RecordResponse
from medic.outreach.domain.surveys import (
    ContradictoryInput,
    Item,
    ItemChange,
    Questionnaire,
    Response,
    SurveyConflict,
    SurveyNotFound,
    Version,
    already_answered,
    check_answers,
    check_items,
    item_changes,
)
from medic.outreach.domain.watcch import State
from medic.shared.contracts.outreach.surveys import QuestionnaireVersionPublishedV1, SurveyResponseRecordedV1
from medic.shared.events import Envelope, EventPayload

# Whose responses count for a cycle: participants enrolled in it, or who completed it.
TAKING_PART = frozenset({State.ENROLLED, State.COMPLETED})


@dataclass(frozen=True)
class QuestionnaireView:
    questionnaire: Questionnaire
    versions: Sequence[Version]


async def _publish(uow: OutreachUnitOfWork, payload: EventPayload, subject: str, correlation_id: uuid.UUID) -> None:
    await uow.publish(Envelope.wrap(payload, subject=subject, correlation_id=correlation_id))


async def _published(uow: OutreachUnitOfWork, version: Version, correlation_id: uuid.UUID) -> None:
    payload = QuestionnaireVersionPublishedV1(
        questionnaire_id=version.questionnaire_id, version=version.number, items=len(version.items)
    )
    await _publish(uow, payload, f"questionnaires/{version.questionnaire_id}", correlation_id)


async def _questionnaire(uow: OutreachUnitOfWork, questionnaire_id: uuid.UUID, *, lock: bool = False) -> Questionnaire:
    found = await uow.surveys.questionnaire(questionnaire_id, lock=lock)
    if found is None:
        raise SurveyNotFound(f"no questionnaire {questionnaire_id}")
    return found


async def _version(uow: OutreachUnitOfWork, questionnaire_id: uuid.UUID, number: int, *, lock: bool = False) -> Version:
    await _questionnaire(uow, questionnaire_id)
    found = await uow.surveys.version(questionnaire_id, number, lock=lock)
    if found is None:
        raise SurveyNotFound(f"questionnaire {questionnaire_id} has no version {number}")
    return found


async def create_questionnaire(command: CreateQuestionnaire, uow: OutreachUnitOfWork) -> QuestionnaireView:
    """A questionnaire with its first version, published."""
    questionnaire = Questionnaire.create(command.name)
    version = Version(questionnaire.id, 1, check_items(command.items))
    async with uow:
        now = datetime.now(UTC)
        await uow.surveys.add_questionnaire(questionnaire, now=now)
        await uow.surveys.add_version(version, now=now)
        await _published(uow, version, command.correlation_id)
        await uow.commit()
    return QuestionnaireView(questionnaire, [version])


async def publish_version(command: PublishVersion, uow: OutreachUnitOfWork) -> Version:
    """The next version: codes the questionnaire used before keep their statements."""
    async with uow:
        await _questionnaire(uow, command.questionnaire_id, lock=True)
        known = await uow.surveys.known_items(command.questionnaire_id)
        number = await uow.surveys.latest_number(command.questionnaire_id) + 1
        version = Version(command.questionnaire_id, number, check_items(command.items, known))
        await uow.surveys.add_version(version, now=datetime.now(UTC))
        await _published(uow, version, command.correlation_id)
        await uow.commit()
    return version


async def correct_version(command: CorrectVersion, uow: OutreachUnitOfWork) -> Version:
    """Other items for a version nobody has answered; a used version is 409."""
    async with uow:
        before = await _version(uow, command.questionnaire_id, command.version, lock=True)
        known = await uow.surveys.known_items(command.questionnaire_id, besides=command.version)
        after = before.corrected(command.items, known)
        if after.items != before.items:
            await uow.surveys.replace_items(after, now=datetime.now(UTC))
            await _published(uow, after, command.correlation_id)
            await uow.commit()
    return after


async def get_questionnaire(questionnaire_id: uuid.UUID, uow: OutreachUnitOfWork) -> QuestionnaireView:
    async with uow:
        questionnaire = await _questionnaire(uow, questionnaire_id)
        return QuestionnaireView(questionnaire, await uow.surveys.versions(questionnaire_id))


async def list_questionnaires(uow: OutreachUnitOfWork, *, limit: int, offset: int) -> Sequence[QuestionnaireView]:
    async with uow:
        found = await uow.surveys.questionnaires(limit=limit, offset=offset)
        return [QuestionnaireView(q, await uow.surveys.versions(q.id)) for q in found]


async def get_version(questionnaire_id: uuid.UUID, number: int, uow: OutreachUnitOfWork) -> Version:
    async with uow:
        return await _version(uow, questionnaire_id, number)


async def record_response(command: RecordResponse, uow: OutreachUnitOfWork) -> Response:
    """One response per participant, version and kind: a second is 409 (a recorded response is never replaced).
    The participant takes part in the cycle (enrolled or completed); an activity, if named, is of that cycle."""
    async with uow:
        version = await _version(uow, command.questionnaire_id, command.version, lock=True)
        answers = check_answers(version, command.answers)
        if await uow.watcch.cycle(command.cycle_id) is None:
            raise SurveyNotFound(f"no WATCCH cycle {command.cycle_id}")
        if not await uow.watcch.participant_exists(command.participant_id):
            raise SurveyNotFound(f"no participant {command.participant_id}")
        if command.activity_id is not None:
            activity = await uow.activities.get(command.activity_id)
            if activity is None:
                raise SurveyNotFound(f"no activity {command.activity_id}")
            if activity.cycle_id != command.cycle_id:
                raise ContradictoryInput(("activity_id",), "the activity belongs to another cycle")
        state = await uow.watcch.application_state(command.participant_id, command.cycle_id)
        if state not in TAKING_PART:
            raise SurveyConflict("only participants enrolled in the cycle (or who completed it) answer its surveys")
        existing = await uow.surveys.response_of(
            version.questionnaire_id, version.number, command.participant_id, command.kind
        )
        if existing is not None:
            raise SurveyConflict(already_answered(command.kind, version.number))
        response = Response(
            id=uuid.uuid4(),
            questionnaire_id=version.questionnaire_id,
            version=version.number,
            participant_id=command.participant_id,
            cycle_id=command.cycle_id,
            activity_id=command.activity_id,
            kind=command.kind,
            answers=answers,
            recorded_at=datetime.now(UTC),
        )
        await uow.surveys.add_response(response)
        payload = SurveyResponseRecordedV1(
            response_id=response.id,
            questionnaire_id=response.questionnaire_id,
            version=response.version,
            participant_id=response.participant_id,
            cycle_id=response.cycle_id,
            activity_id=response.activity_id,
            kind=response.kind,
        )
        await _publish(uow, payload, f"participants/{response.participant_id}", command.correlation_id)
        await uow.commit()
    return response


async def participant_responses(participant_id: uuid.UUID, uow: OutreachUnitOfWork) -> Sequence[Response]:
    async with uow:
        if not await uow.watcch.participant_exists(participant_id):
            raise SurveyNotFound(f"no participant {participant_id}")
        return await uow.surveys.responses(participant_id)


async def survey_change(uow: OutreachUnitOfWork, cycle_id: uuid.UUID, questionnaire_id: uuid.UUID) -> list[ItemChange]:
    """Per item of the questionnaire (the newest version's order, then items only earlier versions had): how many
    answered pre, post and both (`n`), the pre and post means over the `n` who answered both, and the change (post
    minus pre). Counts exact, means not rounded (Decimal): rounding and suppression are the report's."""
    async with uow:
        await _questionnaire(uow, questionnaire_id)
        if await uow.watcch.cycle(cycle_id) is None:
            raise SurveyNotFound(f"no WATCCH cycle {cycle_id}")
        items: dict[str, Item] = {}
        for version in reversed(await uow.surveys.versions(questionnaire_id)):
            for item in version.items:
                items.setdefault(item.code, item)
        return item_changes(list(items.values()), await uow.surveys.answers(questionnaire_id, cycle_id))
