"""Consuming events: each envelope is applied exactly once, inside one unit of work.

`EventConsumer.handle` records the event id in the inbox and runs the handler for the event's type in
the same transaction, then commits; FastStream acks only after that returns. Failures are dealt with by
`DeliveryPolicy` (delivery.py). `ConsumerBroker` wires both to a FastStream broker on the service queue.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aio_pika
import structlog
from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, RabbitBroker

from medic.shared.delivery import DeliveryPolicy, PoisonMessage
from medic.shared.events import EventPayload, RawEnvelope
from medic.shared.logging import get_logger
from medic.shared.settings import ServiceSettings
from medic.shared.topology import ALL_EVENTS, Topology, declare_consumer
from medic.shared.uow import UnitOfWork

log = get_logger(__name__)

EventHandler = Callable[[Any, RawEnvelope, UnitOfWork], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """How to handle one event type: validate `data` as `payload_type` (None keeps the dict), then handle."""

    payload_type: type[EventPayload] | None
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

    def _subscription_for(self, event_type: str) -> Subscription:
        subscription = self._subscriptions.get(event_type) or self._subscriptions.get(ALL_EVENTS)
        if subscription is None:
            raise PoisonMessage(f"no handler for event type {event_type!r}")
        return subscription

    async def handle(self, envelope: RawEnvelope) -> bool:
        """Apply one event exactly once; returns False for a duplicate that changed nothing."""
        structlog.contextvars.bind_contextvars(correlation_id=str(envelope.correlationid))
        subscription = self._subscription_for(envelope.type)
        payload: Any = envelope.data
        if subscription.payload_type is not None:
            payload = subscription.payload_type.model_validate(envelope.data)
        async with self._uow_factory() as uow:
            first = await uow.first_delivery(consumer=self.name, event_id=envelope.id, event_type=envelope.type)
            if not first:
                log.info("event.duplicate_ignored")
                return False
            await subscription.handler(payload, envelope, uow)
            await uow.commit()
        log.info("event.handled")
        return True


class ConsumerBroker:
    """A FastStream broker consuming one service's queue through an `EventConsumer`."""

    def __init__(self, consumer: EventConsumer, settings: ServiceSettings, *, description: str) -> None:
        self.consumer = consumer
        self.settings = settings
        self.topology = Topology(settings.broker_namespace)
        policy = DeliveryPolicy(consumer.name, self.topology, max_attempts=settings.consumer_max_attempts)
        self.broker = RabbitBroker(
            settings.rabbitmq_url,
            middlewares=[policy],
            # A plain stdlib logger, so FastStream's lines go through our JSON formatter and redaction
            # (by default it installs its own text handler). Its per-message lines go to DEBUG:
            # `event.handled` and the failure outcomes are logged at INFO and above by us.
            logger=logging.getLogger("faststream.access.rabbit"),
            # Retries are published on this channel: a return (no retry queue) must fail the publish, so
            # the message is dead-lettered instead of acked and lost.
            default_channel=Channel(publisher_confirms=True, on_return_raises=True),
            log_level=logging.DEBUG,
            graceful_timeout=10,
        )
        policy.broker = self.broker
        queue = self.topology.consumer_queue(
            consumer.name, delivery_limit=settings.queue_delivery_limit, binding=consumer.event_types[0]
        )

        @self.broker.subscriber(
            queue,
            exchange=self.topology.events_exchange,
            channel=Channel(prefetch_count=settings.consumer_prefetch),
            ack_policy=AckPolicy.REJECT_ON_ERROR,
            title=f"{queue.name}:consume",
            description=description,
        )
        async def consume(envelope: RawEnvelope) -> None:
            await consumer.handle(envelope)

    async def declare(self) -> None:
        """Declare the queues and every binding (FastStream binds only the first event type)."""
        connection = await aio_pika.connect(self.settings.rabbitmq_url, timeout=10)
        async with connection:
            await declare_consumer(
                await connection.channel(),
                self.topology,
                self.consumer.name,
                event_types=self.consumer.event_types,
                delivery_limit=self.settings.queue_delivery_limit,
                retry_delay_ms=self.settings.consumer_retry_delay_ms,
            )

    async def start(self) -> None:
        await self.declare()
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()
