"""HTTP API: WATCCH participants' consents. Coordinators only (participants have no login).

The wording of each scope is published as numbered versions, never edited. A consent given or withdrawn is a new
record in the participant's history; the state on a day (`?as_of=`, default today) is the record as it stood at the
end of that day, judged on it. An unknown participant is 404.
"""

import uuid
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.consent import ConsentScope, InvalidConsent
from medic.outreach.service_layer import consent as handlers
from medic.outreach.settings import OutreachSettings
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from
from medic.shared.http_fields import IsoDate

from .consent_models import (
    ConsentIn,
    ConsentsOut,
    PermissionsOut,
    RecordOut,
    TextIn,
    TextOut,
    WithdrawalIn,
    answering_errors,
    responses,
)
from .dependencies import now, today, unit_of_work

router = APIRouter(tags=["consent"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
ParticipantId = Annotated[uuid.UUID, Path(description="The participant's pseudonymous id")]
AsOf = Annotated[
    IsoDate | None,
    Query(description="The record as it stood at the end of this day, judged on it (default: today); not after "
          "today", examples=["2026-03-14"]),
]  # fmt: skip


def _settings(request: Request) -> OutreachSettings:
    settings: OutreachSettings = request.app.state.settings
    return settings


def _day(request: Request, as_of: date | None) -> date:
    current = today(request)
    if as_of is not None and as_of > current:
        raise InvalidConsent("as_of", "the record can be read as of today or a day before, not after")
    return as_of or current


@router.post(
    "/consent/texts",
    status_code=status.HTTP_201_CREATED,
    summary="Publish a new version of a scope's consent wording",
    description="Numbered 1, 2, ... per scope; never edited afterwards (a change is the next version).",
    responses=responses(409, 422),
)
async def publish_text(request: Request, body: TextIn, uow: UnitOfWork, caller: Coordinator) -> TextOut:
    with answering_errors():
        published = await handlers.publish_text(
            uow, body.scope, body.text, now=now(request), published_by=caller.subject
        )
    return TextOut.of(published)


@router.get("/consent/texts", summary="The published consent wording, by scope and version")
async def list_texts(
    uow: UnitOfWork, _: Coordinator, scope: Annotated[ConsentScope | None, Query(examples=["research"])] = None
) -> list[TextOut]:
    return [TextOut.of(t) for t in await handlers.list_texts(uow, scope)]


@router.post(
    "/participants/{participant_id}/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Record a consent given (by the participant, or a parent or guardian)",
    description="Expires by default at the end of the participant's cycle. Publishes `outreach.consent.given.v1` "
    "(ids, scope, party, partners, dates; never the wording).",
    responses=responses(404, 409, 422),
)
async def record_consent(
    request: Request, participant_id: ParticipantId, body: ConsentIn, uow: UnitOfWork, caller: Coordinator
) -> RecordOut:
    with answering_errors():
        event = await handlers.record_consent(
            uow, participant_id, body.command(), now=now(request), today=today(request),
            recorded_by=caller.subject, correlation_id=correlation_id_from(request),
        )  # fmt: skip
    return RecordOut.of(event)


@router.post(
    "/participants/{participant_id}/consents/withdrawals",
    status_code=status.HTTP_201_CREATED,
    summary="Record a consent withdrawn: it takes effect at once",
    description="For partner sharing, one partner or (omitted) every partner. Publishes "
    "`outreach.consent.withdrawn.v1`; from then on the research extract leaves the participant out, and "
    "photographs and sharing with the partners stop.",
    responses=responses(404, 409, 422),
)
async def withdraw_consent(
    request: Request, participant_id: ParticipantId, body: WithdrawalIn, uow: UnitOfWork, caller: Coordinator
) -> RecordOut:
    with answering_errors():
        event = await handlers.withdraw_consent(
            uow, participant_id, body.command(), now=now(request), today=today(request),
            recorded_by=caller.subject, correlation_id=correlation_id_from(request),
        )  # fmt: skip
    return RecordOut.of(event)


@router.get(
    "/participants/{participant_id}/consents",
    summary="A participant's consents on a day, scope by scope, with every unmet condition",
    responses=responses(404, 409),
)
async def get_consents(
    request: Request, participant_id: ParticipantId, uow: UnitOfWork, _: Coordinator, as_of: AsOf = None
) -> ConsentsOut:
    with answering_errors():
        state = await handlers.consent_state(
            uow, participant_id, _day(request, as_of), ZoneInfo(_settings(request).primary_timezone), as_of=True
        )  # fmt: skip
    return ConsentsOut.of(state)


@router.get(
    "/participants/{participant_id}/consents/history",
    summary="Every consent record of a participant, in the order recorded",
    responses=responses(404),
)
async def get_history(participant_id: ParticipantId, uow: UnitOfWork, _: Coordinator) -> list[RecordOut]:
    with answering_errors():
        return [RecordOut.of(e) for e in await handlers.history(uow, participant_id)]


@router.get(
    "/participants/{participant_id}/permissions",
    summary="What may be done with a participant on a day: photographs, partner sharing (with whom), research",
    responses=responses(404, 409),
)
async def get_permissions(
    request: Request, participant_id: ParticipantId, uow: UnitOfWork, _: Coordinator, as_of: AsOf = None
) -> PermissionsOut:
    with answering_errors():
        state = await handlers.consent_state(
            uow, participant_id, _day(request, as_of), ZoneInfo(_settings(request).primary_timezone), as_of=True
        )  # fmt: skip
    return PermissionsOut.of(state)
