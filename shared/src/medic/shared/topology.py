"""RabbitMQ topology as code.

    <ns>.events                 durable topic exchange; routing key = event type
    <ns>.dead-letter            durable direct exchange for messages no consumer could handle
    <ns>.<service>.events       quorum queue per consuming service, bound by event type
    <ns>.<service>.retry        quorum queue holding a failed message for a delay, then back to .events
    <ns>.<service>.dead-letter  quorum queue, bound to the dead-letter exchange, for ops to inspect

Retries go through the delay queue rather than `nack(requeue=True)`: RabbitMQ 4.3 stopped counting
nacks toward `x-delivery-limit`, so a requeueing consumer could loop for ever. The delivery limit stays
as the safety net for crashes and lost connections mid-handling. Every quorum queue dead-letters
at-least-once (which needs `x-overflow=reject-publish`); all of this works on RabbitMQ 3.10 and 4.x.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel
from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

ALL_EVENTS = "#"


@dataclass(frozen=True)
class Topology:
    namespace: str = "medic"

    @property
    def events_exchange(self) -> RabbitExchange:
        return RabbitExchange(f"{self.namespace}.events", type=ExchangeType.TOPIC, durable=True)

    @property
    def dead_letter_exchange(self) -> RabbitExchange:
        return RabbitExchange(f"{self.namespace}.dead-letter", type=ExchangeType.DIRECT, durable=True)

    def consumer_queue_name(self, service: str) -> str:
        return f"{self.namespace}.{service}.events"

    def retry_queue_name(self, service: str) -> str:
        return f"{self.namespace}.{service}.retry"

    def dead_letter_queue_name(self, service: str) -> str:
        return f"{self.namespace}.{service}.dead-letter"

    def consumer_queue(self, service: str, *, delivery_limit: int, binding: str = ALL_EVENTS) -> RabbitQueue:
        name = self.consumer_queue_name(service)
        return RabbitQueue(
            name,
            queue_type=QueueType.QUORUM,
            routing_key=binding,
            arguments={
                "x-delivery-limit": delivery_limit,
                "x-dead-letter-exchange": self.dead_letter_exchange.name,
                "x-dead-letter-routing-key": name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )

    def retry_queue(self, service: str, *, delay_ms: int) -> RabbitQueue:
        # Expired messages go back through the default exchange straight to the consumer queue.
        return RabbitQueue(
            self.retry_queue_name(service),
            queue_type=QueueType.QUORUM,
            arguments={
                "x-message-ttl": delay_ms,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.consumer_queue_name(service),
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )

    def dead_letter_queue(self, service: str) -> RabbitQueue:
        name = self.dead_letter_queue_name(service)
        return RabbitQueue(name, queue_type=QueueType.QUORUM, routing_key=self.consumer_queue_name(service))


async def _declare_exchange(channel: AbstractChannel, exchange: RabbitExchange) -> aio_pika.abc.AbstractExchange:
    return await channel.declare_exchange(exchange.name, type=exchange.type.value, durable=exchange.durable)


async def _declare_queue(channel: AbstractChannel, queue: RabbitQueue) -> aio_pika.abc.AbstractQueue:
    arguments: dict[str, Any] = dict(queue.arguments or {})
    return await channel.declare_queue(queue.name, durable=True, arguments=arguments)


async def declare_event_exchanges(channel: AbstractChannel, topology: Topology) -> None:
    """What a publisher needs: the events exchange (and the dead-letter one, so queues can point at it)."""
    await _declare_exchange(channel, topology.events_exchange)
    await _declare_exchange(channel, topology.dead_letter_exchange)


async def declare_consumer(
    channel: AbstractChannel,
    topology: Topology,
    service: str,
    *,
    event_types: Sequence[str],
    delivery_limit: int,
    retry_delay_ms: int,
) -> aio_pika.abc.AbstractQueue:
    """Declare a consuming service's queues and bind its queue to each event type it handles; returns it.

    Idempotent: RabbitMQ accepts a re-declaration with the same arguments, and the consumer declares them
    again after every reconnect.
    """
    await declare_event_exchanges(channel, topology)
    events = await channel.get_exchange(topology.events_exchange.name, ensure=False)
    dead_letter = await channel.get_exchange(topology.dead_letter_exchange.name, ensure=False)

    queue = await _declare_queue(channel, topology.consumer_queue(service, delivery_limit=delivery_limit))
    for event_type in event_types:
        await queue.bind(events, routing_key=event_type)
    await _declare_queue(channel, topology.retry_queue(service, delay_ms=retry_delay_ms))
    dlq = await _declare_queue(channel, topology.dead_letter_queue(service))
    await dlq.bind(dead_letter, routing_key=topology.consumer_queue_name(service))
    return queue


async def delete_namespace(channel: AbstractChannel, topology: Topology, services: Sequence[str]) -> None:
    """Remove every queue and exchange of a namespace: for tests and benchmarks that made their own."""
    for service in services:
        for name in (
            topology.consumer_queue_name(service),
            topology.retry_queue_name(service),
            topology.dead_letter_queue_name(service),
        ):
            await channel.queue_delete(name)
    await channel.exchange_delete(topology.events_exchange.name)
    await channel.exchange_delete(topology.dead_letter_exchange.name)
