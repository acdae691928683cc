"""HTTP API: partner webhook endpoints and their signing secrets.

Who may do what: a partner user (role `partner`, the token naming its organisation) manages its own organisation's
endpoints, and any other organisation's endpoint is 404; a coordinator manages every partner's, naming the partner
when registering one. A signing secret is in the answer twice only: when the endpoint is registered, and when its
secret is rotated. It is never readable again (rotate to get a new one).
"""

import uuid
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.partner_events import CATALOGUE
from medic.notifications.domain.webhook_endpoints import (
    KEEP,
    MAX_DESCRIPTION_LENGTH,
    MAX_RATE_LIMIT_PER_S,
    EndpointChanges,
    EndpointConflict,
    EndpointNotFound,
    InvalidEndpoint,
    Keep,
    WebhookEndpoint,
)
from medic.notifications.entrypoints.http.dependencies import unit_of_work
from medic.notifications.service_layer import webhook_endpoints as endpoints
from medic.notifications.service_layer.webhook_endpoints import EndpointPolicy, NewEndpoint
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http_fields import NO_CONTROL_CHARACTERS, NOT_TEXT
from medic.shared.openapi import ErrorOut, FieldErrorsOut

router = APIRouter(tags=["webhook endpoints"])

T = TypeVar("T")
UnitOfWork = Annotated[NotificationsUnitOfWork, Depends(unit_of_work)]
Manager = Annotated[Principal, Depends(require_roles(Role.COORDINATOR, Role.PARTNER))]

EXAMPLE_URL = "https://hooks.riverside.example/medic"
EXAMPLE_TYPES = ["project.approved.v1", "session.delivered.v1"]
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f]+$"

Url = Annotated[
    str,
    Field(
        max_length=2048,
        pattern=URL_PATTERN,
        description="Where deliveries are POSTed: `https://` (plain `http://` only where the service allows it, for "
        "local development). No credentials or fragment in it. Its host must resolve to public addresses only.",
        examples=[EXAMPLE_URL],
    ),
]
Description = Annotated[
    str,
    Field(max_length=MAX_DESCRIPTION_LENGTH, pattern=NO_CONTROL_CHARACTERS, examples=["Our CRM's intake hook"]),
]
EventTypes = Annotated[
    list[Annotated[str, Field(json_schema_extra={"enum": sorted(CATALOGUE)})]],
    Field(
        min_length=1,
        max_length=len(CATALOGUE),
        description="The partner event types to receive, each once (the catalogue: `GET /webhooks/event-types`).",
        examples=[EXAMPLE_TYPES],
        json_schema_extra={"uniqueItems": True},
    ),
]
RateLimit = Annotated[int, Field(ge=1, le=MAX_RATE_LIMIT_PER_S), NOT_TEXT]

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such endpoint visible to the caller"}
}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": FieldErrorsOut,
        "description": "A field is invalid: e.g. an event type not in the catalogue, or a URL that is not https or "
        "whose host resolves to an address that is not public (loopback, private, link-local, metadata...)",
    }
}


# Requests


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: uuid.UUID | None = Field(
        default=None,
        examples=["7d9f3c2e-5b1a-4c8e-9f00-2a6b8c1d4e5f"],
        description="The partner organisation: coordinators must name it; a partner user's is its own (naming "
        "another organisation is a 404)",
    )
    url: Url
    description: Description = ""
    event_types: EventTypes
    enabled: bool = Field(default=True, strict=True, examples=[True])
    rate_limit_per_s: RateLimit | None = Field(
        default=None, examples=[10], description="At most this many deliveries a second to it; null: no limit"
    )


class EndpointPatch(BaseModel):
    """Fields left out stay as they are; null leaves them too, except `rate_limit_per_s`, where null removes it."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = Field(default=None, examples=["https://hooks.riverside.example/medic/v2"])
    description: Description | None = Field(default=None, examples=["Our CRM's new intake hook"])
    event_types: EventTypes | None = Field(default=None, examples=[["project.approved.v1"]])
    enabled: bool | None = Field(
        default=None,
        strict=True,
        examples=[True],
        description="false disables it (nothing is sent); true enables it again, also after delivery disabled it",
    )
    rate_limit_per_s: RateLimit | None = Field(default=None, examples=[5], description="null removes the limit")


# Responses


class EndpointOut(BaseModel):
    id: uuid.UUID
    partner_id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    paused: bool = Field(description="Deliveries wait while paused (see the endpoint's pause and resume operations)")
    rate_limit_per_s: int | None
    disabled_reason: str | None = Field(
        description="Why it is disabled: by its owner, or by delivery (410 Gone, or failing too long); null if enabled"
    )
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None
    previous_secret_signs_until: datetime | None = Field(
        description="After a rotation, messages are signed with the old secret too, until then; null otherwise"
    )

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> "EndpointOut":
        return cls(
            id=endpoint.id,
            partner_id=endpoint.partner_id,
            url=endpoint.url,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            enabled=endpoint.enabled,
            paused=endpoint.paused,
            rate_limit_per_s=endpoint.rate_limit_per_s,
            disabled_reason=endpoint.disabled_reason,
            disabled_at=endpoint.disabled_at,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
            secret_rotated_at=endpoint.secret_rotated_at,
            previous_secret_signs_until=endpoint.previous_secrets_sign_until(endpoints.now()),
        )


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(
        description="The signing secret (Standard Webhooks `whsec_...`): shown only now. Keep it safe; verify each "
        "delivery's `webhook-signature` with it.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class SecretOut(BaseModel):
    endpoint_id: uuid.UUID
    secret: str = Field(description="The new signing secret: shown only now.")
    previous_secret_signs_until: datetime | None = Field(
        description="Until then every message is signed with the old secret too (null: the old one stopped at once)"
    )


# Who may see what


def _only(principal: Principal) -> uuid.UUID | None:
    """The one partner whose endpoints the caller may manage, or None for all (coordinators)."""
    if principal.has(Role.COORDINATOR):
        return None
    return principal.organisation_id or uuid.UUID(int=0)  # a partner token always names one; no partner's id is 0


def _policy(request: Request) -> EndpointPolicy:
    policy: EndpointPolicy = request.app.state.webhook_endpoint_policy
    return policy


Policy = Annotated[EndpointPolicy, Depends(_policy)]


def _field_error(field: str, message: str, status_code: int) -> HTTPException:
    """The same shape FastAPI gives validation errors, so clients read one format."""
    return HTTPException(status_code, [{"loc": ["body", field], "msg": message, "type": "value_error"}])


async def _refusals(call: Awaitable[T]) -> T:
    try:
        return await call
    except EndpointNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such endpoint") from None
    except InvalidEndpoint as error:
        raise _field_error(error.field, str(error), status.HTTP_422_UNPROCESSABLE_CONTENT) from None
    except EndpointConflict as error:
        raise _field_error("partner_id", str(error), status.HTTP_409_CONFLICT) from None


# Routes


@router.post(
    "/webhooks/endpoints",
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook endpoint",
    description="Answers with the endpoint's signing secret, shown this once. The URL's host is resolved and refused "
    "if any address it resolves to is not public; it is checked again at every delivery.",
    responses={
        **NOT_FOUND,
        **INVALID,
        409: {"model": FieldErrorsOut, "description": "The partner has the most endpoints allowed"},
    },
)
async def register_endpoint(
    body: EndpointIn, uow: UnitOfWork, principal: Manager, policy: Policy
) -> EndpointCreatedOut:
    only = _only(principal)
    partner_id = body.partner_id if body.partner_id is not None else only
    if partner_id is None:
        raise _field_error("partner_id", "a coordinator names the partner", status.HTTP_422_UNPROCESSABLE_CONTENT)
    if only is not None and partner_id != only:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such partner")
    new = NewEndpoint(
        partner_id=partner_id,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        enabled=body.enabled,
        rate_limit_per_s=body.rate_limit_per_s,
    )
    created = await _refusals(endpoints.register(uow, new, policy))
    return EndpointCreatedOut(**EndpointOut.of(created.endpoint).model_dump(), secret=created.secret)


@router.get(
    "/webhooks/endpoints",
    summary="List webhook endpoints, oldest first",
    description="A partner user gets its own organisation's; a coordinator every partner's, or one partner's with "
    "`partner_id`.",
    responses=NOT_FOUND,
)
async def list_endpoints(
    uow: UnitOfWork,
    principal: Manager,
    partner_id: Annotated[uuid.UUID | None, Query(description="Only this partner's endpoints")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[EndpointOut]:
    only = _only(principal)
    if only is not None and partner_id is not None and partner_id != only:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such partner")
    found = await endpoints.find(uow, partner_id=only or partner_id, limit=limit, offset=offset)
    return [EndpointOut.of(endpoint) for endpoint in found]


@router.get("/webhooks/endpoints/{endpoint_id}", summary="A webhook endpoint (never its secret)", responses=NOT_FOUND)
async def get_endpoint(endpoint_id: uuid.UUID, uow: UnitOfWork, principal: Manager) -> EndpointOut:
    return EndpointOut.of(await _refusals(endpoints.get(uow, endpoint_id, only=_only(principal))))


@router.patch(
    "/webhooks/endpoints/{endpoint_id}",
    summary="Change a webhook endpoint",
    description="A new URL is checked as at registration. Enabling an endpoint that delivery disabled (410 Gone, or "
    "failing too long) sends to it again.",
    responses={**NOT_FOUND, **INVALID},
)
async def update_endpoint(
    endpoint_id: uuid.UUID, body: EndpointPatch, uow: UnitOfWork, principal: Manager, policy: Policy
) -> EndpointOut:
    rate_limit: int | Keep | None = body.rate_limit_per_s if "rate_limit_per_s" in body.model_fields_set else KEEP
    changes = EndpointChanges(
        url=body.url,
        description=body.description,
        event_types=tuple(body.event_types) if body.event_types is not None else None,
        enabled=body.enabled,
        rate_limit_per_s=rate_limit,
    )
    updated = await _refusals(endpoints.update(uow, endpoint_id, changes, only=_only(principal), policy=policy))
    return EndpointOut.of(updated)


@router.delete(
    "/webhooks/endpoints/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook endpoint",
    description="Nothing more is sent to it; its secrets are deleted.",
    responses=NOT_FOUND,
)
async def delete_endpoint(endpoint_id: uuid.UUID, uow: UnitOfWork, principal: Manager) -> Response:
    await _refusals(endpoints.delete(uow, endpoint_id, only=_only(principal)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhooks/endpoints/{endpoint_id}/secret/rotate",
    summary="Rotate an endpoint's signing secret",
    description="Answers with the new secret, shown this once. Every message is signed with the new secret and, "
    "until `previous_secret_signs_until` (WEBHOOK_SECRET_OVERLAP_S, 24 h by default), the old one too: a receiver "
    "that verifies with either keeps working while it switches.",
    responses=NOT_FOUND,
)
async def rotate_secret(endpoint_id: uuid.UUID, uow: UnitOfWork, principal: Manager, policy: Policy) -> SecretOut:
    rotated = await _refusals(endpoints.rotate_secret(uow, endpoint_id, only=_only(principal), policy=policy))
    return SecretOut(
        endpoint_id=rotated.endpoint.id,
        secret=rotated.secret,
        previous_secret_signs_until=rotated.endpoint.previous_secrets_sign_until(endpoints.now()),
    )
