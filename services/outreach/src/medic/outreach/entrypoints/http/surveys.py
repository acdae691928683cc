"""HTTP API: versioned pre/post questionnaires, participants' responses, and the pre/post change per item.

Coordinators only. Participants appear by their pseudonymous id only; answers are never published.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.survey_commands import CorrectVersion, CreateQuestionnaire, PublishVersion, RecordResponse
from medic.outreach.service_layer import surveys as handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from .dependencies import unit_of_work
from .survey_models import (
    ItemChangeOut,
    QuestionnaireIn,
    QuestionnaireOut,
    ResponseIn,
    ResponseOut,
    SurveyChangeOut,
    VersionIn,
    VersionOut,
    answering_errors,
    responses,
)

router = APIRouter(tags=["surveys"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
PUBLISHED = "Publishes `outreach.survey.questionnaire_version_published.v1` (ids, version, item count)."


@router.post(
    "/surveys/questionnaires",
    status_code=status.HTTP_201_CREATED,
    summary="Create a questionnaire with its first version",
    description=PUBLISHED,
    responses=responses(409, 422),
)
async def create_questionnaire(
    request: Request, body: QuestionnaireIn, uow: UnitOfWork, _: Coordinator
) -> QuestionnaireOut:
    items = tuple(i.item() for i in body.items)
    command = CreateQuestionnaire(body.name, items, correlation_id_from(request))
    with answering_errors():
        return QuestionnaireOut.of(await handlers.create_questionnaire(command, uow))


@router.get("/surveys/questionnaires", summary="Questionnaires, by name, with their versions")
async def list_questionnaires(
    uow: UnitOfWork,
    _: Coordinator,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[QuestionnaireOut]:
    return [QuestionnaireOut.of(v) for v in await handlers.list_questionnaires(uow, limit=limit, offset=offset)]


@router.get("/surveys/questionnaires/{questionnaire_id}", summary="A questionnaire", responses=responses(404))
async def get_questionnaire(questionnaire_id: uuid.UUID, uow: UnitOfWork, _: Coordinator) -> QuestionnaireOut:
    with answering_errors():
        return QuestionnaireOut.of(await handlers.get_questionnaire(questionnaire_id, uow))


@router.post(
    "/surveys/questionnaires/{questionnaire_id}/versions",
    status_code=status.HTTP_201_CREATED,
    summary="Publish the next version (how a used version's items change)",
    description="A code the questionnaire used before keeps its statement; a changed statement takes a new code. "
    + PUBLISHED,
    responses=responses(404, 409, 422),
)
async def publish_version(
    request: Request, questionnaire_id: uuid.UUID, body: VersionIn, uow: UnitOfWork, _: Coordinator
) -> VersionOut:
    command = PublishVersion(questionnaire_id, tuple(i.item() for i in body.items), correlation_id_from(request))
    with answering_errors():
        return VersionOut.of(await handlers.publish_version(command, uow))


@router.get(
    "/surveys/questionnaires/{questionnaire_id}/versions/{version}",
    summary="A version's items, and how many responses it has",
    responses=responses(404),
)
async def get_version(
    questionnaire_id: uuid.UUID, version: Annotated[int, Path(ge=1, le=10_000)], uow: UnitOfWork, _: Coordinator
) -> VersionOut:
    with answering_errors():
        return VersionOut.of(await handlers.get_version(questionnaire_id, version, uow))


@router.put(
    "/surveys/questionnaires/{questionnaire_id}/versions/{version}",
    summary="Correct the items of a version nobody has answered",
    description="409 once the version has a response: publish a new version instead. "
    + PUBLISHED
    + " (again, only if the items changed)",
    responses=responses(404, 409, 422),
)
async def correct_version(
    request: Request,
    questionnaire_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=10_000)],
    body: VersionIn,
    uow: UnitOfWork,
    _: Coordinator,
) -> VersionOut:
    items = tuple(i.item() for i in body.items)
    command = CorrectVersion(questionnaire_id, version, items, correlation_id_from(request))
    with answering_errors():
        return VersionOut.of(await handlers.correct_version(command, uow))


@router.post(
    "/surveys/responses",
    status_code=status.HTTP_201_CREATED,
    summary="Record a participant's pre or post response",
    description="One per participant, version and kind: a second is 409 (never replaced). The participant is "
    "enrolled in the cycle or completed it. Publishes `outreach.survey.response_recorded.v1` (ids and kind, no "
    "answers).",
    responses=responses(404, 409, 422),
)
async def record_response(request: Request, body: ResponseIn, uow: UnitOfWork, _: Coordinator) -> ResponseOut:
    command = RecordResponse(
        questionnaire_id=body.questionnaire_id,
        version=body.version,
        participant_id=body.participant_id,
        cycle_id=body.cycle_id,
        activity_id=body.activity_id,
        kind=body.kind,
        answers=body.answers,
        correlation_id=correlation_id_from(request),
    )
    with answering_errors():
        return ResponseOut.of(await handlers.record_response(command, uow))


@router.get(
    "/participants/{participant_id}/survey-responses",
    summary="A participant's responses with their answers",
    responses=responses(404),
)
async def participant_responses(participant_id: uuid.UUID, uow: UnitOfWork, _: Coordinator) -> list[ResponseOut]:
    with answering_errors():
        return [ResponseOut.of(r) for r in await handlers.participant_responses(participant_id, uow)]


@router.get(
    "/surveys/questionnaires/{questionnaire_id}/cycles/{cycle_id}/change",
    summary="The pre/post change per item over a cycle",
    description="Per item: participants answering pre, post and both (`n`); the pre and post means over the `n` "
    "who answered both, and post minus pre. Exact counts: no rounding or suppression here (the impact report "
    "applies disclosure control).",
    responses=responses(404),
)
async def survey_change(
    questionnaire_id: uuid.UUID, cycle_id: uuid.UUID, uow: UnitOfWork, _: Coordinator
) -> SurveyChangeOut:
    with answering_errors():
        rows = await handlers.survey_change(uow, cycle_id, questionnaire_id)
    return SurveyChangeOut(
        questionnaire_id=questionnaire_id, cycle_id=cycle_id, items=[ItemChangeOut.of(r) for r in rows]
    )
