"""Webhook delivery operations on one endpoint: test, resend, recover, replay, pause, resume, summary, attempts.

A partner user acts on its own organisation's endpoints (another's is 404, as if it did not exist); a coordinator on
any. Message ids are the `webhook-id` receivers see (`msg_` + 32 hex digits).
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.adapters.webhook_deliveries_repository import StoredAttempt
from medic.notifications.domain.webhook_delivery import MESSAGE_ID_PREFIX, message_id_text
from medic.notifications.domain.webhook_endpoints import EndpointConflict, EndpointNotFound, InvalidEndpoint
from medic.notifications.entrypoints.http.dependencies import unit_of_work
from medic.notifications.service_layer import webhook_operations
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http_fields import Rfc3339DateTime

router = APIRouter(prefix="/webhooks/endpoints/{endpoint_id}", tags=["webhook delivery"])

Caller = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.PARTNER))]
Uow = Annotated[NotificationsUnitOfWork, Depends(unit_of_work)]
EndpointId = Annotated[uuid.UUID, Path(description="The endpoint's id")]
MessageId = Annotated[
    str,
    Path(
        description="The message's `webhook-id`, as your receiver saw it",
        pattern=rf"^{MESSAGE_ID_PREFIX}[0-9a-f]{{32}}$",
        examples=["msg_2b1f0c3a9d8e4f5a8b7c6d5e4f3a2b1c"],
    ),
]
Before = Annotated[int | None, Query(ge=1, description="The `next_before` of the previous page")]
Limit = Annotated[int, Query(ge=1, le=webhook_operations.MAX_ATTEMPTS_PAGE)]

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such endpoint (or message) of yours"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "Not possible in the endpoint's state; says why"}}


def _only(principal: Principal) -> uuid.UUID | None:
    """The partner the caller is limited to; None for a coordinator."""
    if principal.has(Role.COORDINATOR):
        return None
    return principal.organisation_id or uuid.UUID(int=0)  # a partner token always names one; no id is 0


def _message_uuid(message_id: str) -> uuid.UUID:
    return uuid.UUID(hex=message_id.removeprefix(MESSAGE_ID_PREFIX))


def _errors(error: Exception) -> HTTPException:
    if isinstance(error, EndpointNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(error))
    if isinstance(error, EndpointConflict):
        return HTTPException(status.HTTP_409_CONFLICT, str(error))
    if isinstance(error, InvalidEndpoint):
        return HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", error.field], "msg": str(error), "type": "value_error"}],
        )
    raise error


class Queued(BaseModel):
    message_id: str | None = Field(default=None, description="The `webhook-id` of the message queued")
    queued: int = Field(description="Deliveries queued")


class RecoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: Rfc3339DateTime = Field(
        description="Re-send every delivery that failed at or after this time (<= 14 days ago)",
        examples=["2026-12-06T09:00:00Z"],
    )


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_types: list[Annotated[str, Field(max_length=200)]] = Field(
        min_length=1, max_length=100, description="Among the endpoint's event types", examples=[["project.approved.v1"]]
    )
    since: Rfc3339DateTime = Field(
        description="Messages stored at or after this time (<= 14 days ago)", examples=["2026-12-06T09:00:00Z"]
    )


class EndpointStateOut(BaseModel):
    id: uuid.UUID
    enabled: bool
    paused: bool


class AttemptOut(BaseModel):
    id: int
    message_id: str = Field(description="The `webhook-id`")
    attempted_at: datetime
    outcome: Literal["succeeded", "failed", "timed_out", "throttled", "gone", "refused"]
    status_code: int | None
    duration_ms: float
    response_excerpt: str | None = Field(description="At most 1 kB of the response body")
    error: str | None

    @classmethod
    def of(cls, attempt: StoredAttempt) -> "AttemptOut":
        return cls(
            id=attempt.id,
            message_id=message_id_text(attempt.message_id.hex),
            attempted_at=attempt.attempted_at,
            outcome=attempt.outcome,  # one of Outcome's values, stored as text
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            response_excerpt=attempt.response_excerpt,
            error=attempt.error,
        )


class AttemptPageOut(BaseModel):
    items: list[AttemptOut]
    next_before: int | None = Field(description="Pass as `before` for older attempts; null on the last page")


class SummaryOut(BaseModel):
    endpoint_id: uuid.UUID
    enabled: bool
    paused: bool
    disabled_reason: str | None
    window_hours: float = Field(description="Attempts, success rate and latency are over this recent window")
    attempts: int
    succeeded: int
    success_rate: float | None = Field(description="Succeeded / attempts; null without attempts")
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    backlog: int = Field(description="Deliveries waiting (or in flight)")
    failing_since: datetime | None = Field(description="The first failure since the last success; null if healthy")
    last_success_at: datetime | None
    last_error: AttemptOut | None


@router.post(
    "/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a test event (`webhook.test.v1`) to the endpoint",
    responses=NOT_FOUND | CONFLICT,
)
async def send_test(endpoint_id: EndpointId, uow: Uow, principal: Caller) -> Queued:
    try:
        message_id = await webhook_operations.send_test(uow, endpoint_id, only=_only(principal))
    except (EndpointNotFound, EndpointConflict) as error:
        raise _errors(error) from None
    return Queued(message_id=message_id, queued=1)


@router.post(
    "/messages/{message_id}/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send one message to the endpoint again, from its first attempt",
    responses=NOT_FOUND | CONFLICT,
)
async def resend(endpoint_id: EndpointId, message_id: MessageId, uow: Uow, principal: Caller) -> Queued:
    try:
        await webhook_operations.resend(uow, endpoint_id, _message_uuid(message_id), only=_only(principal))
    except (EndpointNotFound, EndpointConflict) as error:
        raise _errors(error) from None
    return Queued(message_id=message_id, queued=1)


@router.post(
    "/recover",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Re-send every delivery to the endpoint that failed since a time",
    responses=NOT_FOUND | CONFLICT,
)
async def recover(endpoint_id: EndpointId, body: RecoverIn, uow: Uow, principal: Caller) -> Queued:
    try:
        queued = await webhook_operations.recover(uow, endpoint_id, body.since, only=_only(principal))
    except (EndpointNotFound, EndpointConflict, InvalidEndpoint) as error:
        raise _errors(error) from None
    return Queued(queued=queued)


@router.post(
    "/replay",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send the endpoint every message of some types since a time (again, or for the first time)",
    responses=NOT_FOUND | CONFLICT,
)
async def replay(endpoint_id: EndpointId, body: ReplayIn, uow: Uow, principal: Caller) -> Queued:
    try:
        queued = await webhook_operations.replay(uow, endpoint_id, body.event_types, body.since, only=_only(principal))
    except (EndpointNotFound, EndpointConflict, InvalidEndpoint) as error:
        raise _errors(error) from None
    return Queued(queued=queued)


async def _set_paused(
    endpoint_id: uuid.UUID, paused: bool, uow: NotificationsUnitOfWork, principal: Principal
) -> EndpointStateOut:
    try:
        endpoint = await webhook_operations.set_paused(uow, endpoint_id, paused, only=_only(principal))
    except (EndpointNotFound, EndpointConflict) as error:
        raise _errors(error) from None
    return EndpointStateOut(id=endpoint.id, enabled=endpoint.enabled, paused=endpoint.paused)


@router.post(
    "/pause",
    summary="Hold the endpoint's deliveries (they keep being queued) until it is resumed",
    responses=NOT_FOUND | CONFLICT,
)
async def pause(endpoint_id: EndpointId, uow: Uow, principal: Caller) -> EndpointStateOut:
    return await _set_paused(endpoint_id, True, uow, principal)


@router.post("/resume", summary="Send the endpoint's held deliveries again", responses=NOT_FOUND | CONFLICT)
async def resume(endpoint_id: EndpointId, uow: Uow, principal: Caller) -> EndpointStateOut:
    return await _set_paused(endpoint_id, False, uow, principal)


@router.get("/summary", summary="Delivery health of the endpoint", responses=NOT_FOUND)
async def summary(endpoint_id: EndpointId, uow: Uow, principal: Caller) -> SummaryOut:
    try:
        found = await webhook_operations.summary(uow, endpoint_id, only=_only(principal))
    except EndpointNotFound as error:
        raise _errors(error) from None
    return SummaryOut(
        endpoint_id=found.endpoint.id,
        enabled=found.endpoint.enabled,
        paused=found.endpoint.paused,
        disabled_reason=found.endpoint.disabled_reason,
        window_hours=found.window_hours,
        attempts=found.attempts,
        succeeded=found.succeeded,
        success_rate=found.success_rate,
        latency_p50_ms=found.latency_p50_ms,
        latency_p95_ms=found.latency_p95_ms,
        backlog=found.backlog,
        failing_since=found.health.failing_since,
        last_success_at=found.health.last_success_at,
        last_error=AttemptOut.of(found.last_error) if found.last_error else None,
    )


@router.get("/attempts", summary="Every attempt to the endpoint, newest first", responses=NOT_FOUND)
async def endpoint_attempts(
    endpoint_id: EndpointId, uow: Uow, principal: Caller, before: Before = None, limit: Limit = 50
) -> AttemptPageOut:
    return await _attempts(uow, endpoint_id, principal, None, before, limit)


@router.get(
    "/messages/{message_id}/attempts", summary="Every attempt of one message to the endpoint", responses=NOT_FOUND
)
async def message_attempts(
    endpoint_id: EndpointId,
    message_id: MessageId,
    uow: Uow,
    principal: Caller,
    before: Before = None,
    limit: Limit = 50,
) -> AttemptPageOut:
    return await _attempts(uow, endpoint_id, principal, _message_uuid(message_id), before, limit)


async def _attempts(
    uow: NotificationsUnitOfWork,
    endpoint_id: uuid.UUID,
    principal: Principal,
    message_id: uuid.UUID | None,
    before: int | None,
    limit: int,
) -> AttemptPageOut:
    try:
        page = await webhook_operations.attempts(
            uow, endpoint_id, only=_only(principal), message_id=message_id, before=before, limit=limit
        )
    except EndpointNotFound as error:
        raise _errors(error) from None
    return AttemptPageOut(items=[AttemptOut.of(a) for a in page.items], next_before=page.next_before)
