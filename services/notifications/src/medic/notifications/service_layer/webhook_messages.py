"""Queue a partner event for every endpoint of that partner which wants it.

The message is stored once per (partner, event type, event), always, even when no endpoint wants it yet: a replay
or a later subscription can send it. Its body is the Standard Webhooks shape `{"type", "timestamp", "data"}`, fixed
here as bytes: every attempt to every endpoint sends exactly these bytes. `timestamp` is when the event occurred; the
`webhook-timestamp` header is the moment of each attempt (signed afresh, so a retry hours later is not refused as
stale by the receiver's 5-minute tolerance). `webhook-id` is `msg_` + the message's id, the same on every attempt
and to every endpoint: the receiver's idempotency key.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

import pydantic_core

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.adapters.webhook_deliveries_repository import StoredMessage
from medic.notifications.domain.webhook_delivery import message_id_text

# Message ids derive from (partner, type, event): an event published twice to a partner is one message.
MESSAGE_NAMESPACE = uuid.UUID("6d0e8f0a-58b1-4c3b-9a43-7f3c1d2e9b01")


def message_uuid(partner_id: uuid.UUID, event_type: str, event_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(MESSAGE_NAMESPACE, f"{partner_id}/{event_type}/{event_id}")


def body(event_type: str, occurred_at: datetime, payload: dict[str, Any]) -> str:
    """The raw JSON body (compact; UUIDs and datetimes as JSON strings)."""
    document = {"type": event_type, "timestamp": occurred_at.astimezone(UTC), "data": payload}
    return pydantic_core.to_json(document).decode()


async def publish_to_partner(
    uow: NotificationsUnitOfWork,
    partner_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
    *,
    event_id: uuid.UUID,
    occurred_at: datetime,
) -> str:
    """Store the message and one delivery per endpoint subscribed to `event_type` (paused ones too: they hold it);
    the dispatcher is woken once the caller commits. Returns the `webhook-id`. Publishing the same event again
    changes nothing."""
    now = datetime.now(UTC)
    message = StoredMessage(
        id=message_uuid(partner_id, event_type, event_id),
        partner_id=partner_id,
        event_type=event_type,
        event_id=event_id,
        occurred_at=occurred_at,
        created_at=now,
    )
    if await uow.webhook_deliveries.add_message(message, body(event_type, occurred_at, payload)):
        endpoints = await uow.webhook_endpoints.subscribed(partner_id, event_type)
        if await uow.webhook_deliveries.add_deliveries(message.id, endpoints, now):
            uow.after_commit(uow.wake_webhook_dispatcher)
    return message_id_text(message.id.hex)


async def send_to_endpoint(
    uow: NotificationsUnitOfWork,
    endpoint_id: uuid.UUID,
    partner_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
) -> str:
    """A one-off message to one endpoint whatever it subscribes to (the test event). Returns the `webhook-id`."""
    now = datetime.now(UTC)
    message = StoredMessage(
        id=uuid.uuid4(), partner_id=partner_id, event_type=event_type, event_id=uuid.uuid4(), occurred_at=now,
        created_at=now,
    )  # fmt: skip
    await uow.webhook_deliveries.add_message(message, body(event_type, now, payload))
    await uow.webhook_deliveries.add_deliveries(message.id, [endpoint_id], now)
    uow.after_commit(uow.wake_webhook_dispatcher)
    return message_id_text(message.id.hex)
