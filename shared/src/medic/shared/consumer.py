"""Applying events exactly once: each batch of envelopes inside one unit of work.

`EventConsumer` parses envelopes into their contracts and applies a batch in one transaction: one multi-row
inbox insert tells which events are new, and only those are handled. The AMQP side, which takes messages
off the queue in batches and settles them, is `ConsumerBroker` (consumer_broker.py).
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from medic.shared.delivery import PoisonMessage
from medic.shared.events import EventPayload, RawEnvelope
from medic.shared.topology import ALL_EVENTS
from medic.shared.uow import UnitOfWork

EventHandler = Callable[[Any, RawEnvelope, UnitOfWork], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """How to handle one event type: validate `data` as `payload_type` (None keeps the dict), then handle."""

    payload_type: type[EventPayload] | None
    handler: EventHandler


@dataclass(frozen=True)
class ParsedEvent:
    envelope: RawEnvelope
    payload: Any  # the contract instance, or the dict for a catch-all subscription
    handler: EventHandler


class EventConsumer:
    def __init__(
        self,
        name: str,
        uow_factory: Callable[[], UnitOfWork],
        subscriptions: Mapping[str, Subscription],
    ) -> None:
        self.name = name
        self._uow_factory = uow_factory
        self._subscriptions = dict(subscriptions)

    @property
    def event_types(self) -> list[str]:
        return list(self._subscriptions)

    @property
    def subscriptions(self) -> Mapping[str, Subscription]:
        """Event type (or `#` for every event) -> how it is handled; also what the AsyncAPI document lists."""
        return dict(self._subscriptions)

    def parse(self, envelope: RawEnvelope) -> ParsedEvent:
        """Validate the payload against its contract; raises a POISON error for what no retry can fix."""
        subscription = self._subscriptions.get(envelope.type) or self._subscriptions.get(ALL_EVENTS)
        if subscription is None:
            raise PoisonMessage(f"no handler for event type {envelope.type!r}")
        payload: Any = envelope.data
        if subscription.payload_type is not None:
            payload = subscription.payload_type.model_validate(envelope.data)
        return ParsedEvent(envelope, payload, subscription.handler)

    async def handle(self, envelope: RawEnvelope) -> bool:
        """Apply one event exactly once; returns False for a duplicate that changed nothing."""
        return await self.apply([self.parse(envelope)]) == 1

    async def apply(self, events: Sequence[ParsedEvent]) -> int:
        """Apply parsed events in order, in one transaction, each at most once; returns how many were new.

        Raises whatever a handler or the database raised, having changed nothing.
        """
        async with self._uow_factory() as uow:
            new = await uow.first_deliveries(
                consumer=self.name, events=[(event.envelope.id, event.envelope.type) for event in events]
            )
            applied = 0
            for event in events:
                if event.envelope.id not in new:
                    continue
                new.discard(event.envelope.id)  # an id twice in one batch is applied once
                structlog.contextvars.bind_contextvars(
                    event_id=str(event.envelope.id),
                    event_type=event.envelope.type,
                    correlation_id=str(event.envelope.correlationid),
                )
                await event.handler(event.payload, event.envelope, uow)
                applied += 1
            await uow.commit()
        return applied

    async def purge_inbox(self, *, older_than: timedelta) -> int:
        """Forget deliveries older than the retention period: no redelivery or retry can be that late."""
        async with self._uow_factory() as uow:
            purged = await uow.forget_deliveries(consumer=self.name, before=datetime.now(UTC) - older_than)
            await uow.commit()
        return purged
