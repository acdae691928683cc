"""HTTP API: WATCCH participants' progression outcomes (applied, offered, enrolled on a healthcare course).

Coordinators only. Participants appear by their pseudonymous id; an unknown participant is 404.
"""

import datetime as dt
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.outcomes import RecordOutcome
from medic.outreach.service_layer import outcomes as handlers
from medic.outreach.settings import OutreachSettings
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from .dependencies import unit_of_work
from .outcome_models import OutcomeIn, OutcomeOut, answering_errors, responses

router = APIRouter(tags=["outcomes"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]


def _today(request: Request) -> dt.date:
    settings: OutreachSettings = request.app.state.settings
    return dt.datetime.now(ZoneInfo(settings.primary_timezone)).date()


@router.post(
    "/participants/{participant_id}/outcomes",
    status_code=status.HTTP_201_CREATED,
    summary="Record a participant's progression outcome",
    description="Publishes `outreach.outcome.recorded.v1` (ids, stage, course type, year of entry, source).",
    responses=responses(404, 409, 422),
)
async def record_outcome(
    request: Request, participant_id: uuid.UUID, body: OutcomeIn, uow: UnitOfWork, _: Coordinator
) -> OutcomeOut:
    command = RecordOutcome(
        participant_id=participant_id, correlation_id=correlation_id_from(request), **body.model_dump()
    )
    with answering_errors():
        return OutcomeOut.of(await handlers.record_outcome(command, uow, today=_today(request)))


@router.get(
    "/participants/{participant_id}/outcomes",
    summary="A participant's progression outcomes, oldest first",
    responses=responses(404),
)
async def list_outcomes(participant_id: uuid.UUID, uow: UnitOfWork, _: Coordinator) -> list[OutcomeOut]:
    with answering_errors():
        return [OutcomeOut.of(o) for o in await handlers.outcomes_of(participant_id, uow)]
