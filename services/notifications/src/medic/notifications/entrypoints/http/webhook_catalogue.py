"""The published catalogue of partner event types: what an endpoint may subscribe to, and each type's `data` schema.

Public on purpose: it documents the API, like the OpenAPI and AsyncAPI documents, holds nothing about anyone, and
a partner's developer building a receiver may have no account of their own.
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from medic.notifications.domain.partner_events import CATALOGUE, PARTNER_EVENT_TYPE_PATTERN, PartnerEventType

router = APIRouter(tags=["webhooks"])

ENVELOPE = (
    'Each delivery\'s body is the Standard Webhooks shape `{"type": <name>, "timestamp": <when it occurred>, '
    '"data": <the payload below>}`, signed in the `webhook-id`, `webhook-timestamp` and `webhook-signature` '
    "headers. Every `data` carries `partner_id`, `occurred_at` and `sequence` (per partner, strictly increasing "
    "across all types: order by it)."
)


class EventTypeOut(BaseModel):
    name: str = Field(description="The type, as endpoints subscribe to it and as the body's `type`.")
    description: str
    data_schema: dict[str, Any] = Field(description="JSON Schema (2020-12) of the body's `data`.")

    @classmethod
    def of(cls, event_type: PartnerEventType) -> "EventTypeOut":
        return cls(name=event_type.name, description=event_type.description, data_schema=event_type.json_schema())


class CatalogueOut(BaseModel):
    items: list[EventTypeOut]


# Built once: the catalogue is fixed at import.
_TYPES = {name: EventTypeOut.of(event_type) for name, event_type in sorted(CATALOGUE.items())}


@router.get(
    "/webhooks/event-types",
    summary="The partner event types an endpoint may subscribe to",
    description="Every type, by name, with what it means and the JSON Schema of its `data`. " + ENVELOPE,
)
async def list_event_types() -> CatalogueOut:
    return CatalogueOut(items=list(_TYPES.values()))


@router.get(
    "/webhooks/event-types/{name}",
    summary="One partner event type",
    description="What it means and the JSON Schema of its `data`; 404 for a name not in the catalogue. " + ENVELOPE,
    responses={404: {"description": "No such event type"}},
)
async def get_event_type(
    name: Annotated[str, Path(max_length=100, pattern=PARTNER_EVENT_TYPE_PATTERN, examples=["project.approved.v1"])],
) -> EventTypeOut:
    found = _TYPES.get(name)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no partner event type {name!r}: see GET /webhooks/event-types")
    return found
