"""Publishing outbox rows to RabbitMQ: persistent, mandatory, with publisher confirms.

The relay owns this connection and reconnects it itself after any failure, so there is exactly one
place that decides when a row counts as published: the broker's confirm for that message.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange, DeliveryMode
from aiormq import spec

from medic.shared.broker_connection import address_of, connect
from medic.shared.logging import get_logger
from medic.shared.topology import Topology, declare_event_exchanges

log = get_logger(__name__)


@dataclass(frozen=True)
class OutgoingEvent:
    event_id: uuid.UUID
    event_type: str
    body: bytes
    correlation_id: uuid.UUID | None = None


class PublishNotConfirmed(Exception):
    pass


class EventPublisher(Protocol):
    async def publish(self, events: Sequence[OutgoingEvent]) -> list[BaseException | None]:
        """Publish in order; one result per event: None once confirmed, else why it was not."""

    async def reset(self) -> None:
        """Drop the connection after a failure; the next publish reconnects."""

    async def close(self) -> None: ...


class RabbitEventPublisher:
    def __init__(self, urls: str | Sequence[str], topology: Topology, *, timeout_s: float = 10.0) -> None:
        """`urls`: the broker's address, or its nodes' (each connect starts at a random one and fails over)."""
        self._urls = (urls,) if isinstance(urls, str) else tuple(urls)
        self._topology = topology
        self._timeout_s = timeout_s
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        # Several batches may publish at once (the relay pipelines them): one of them connects, the others wait.
        self._connecting = asyncio.Lock()

    async def _ensure_channel(self) -> tuple[aiormq.Channel, str]:
        """The open confirm channel (the underlying aiormq one) and the events exchange's name."""
        async with self._connecting:
            if self._exchange is None or self._channel is None or self._channel.is_closed:
                await self._connect()
            assert self._channel is not None and self._exchange is not None
            return cast(aiormq.Channel, await self._channel.get_underlay_channel()), self._exchange.name

    async def _connect(self) -> None:
        await self.reset()
        self._connection = await connect(self._urls, timeout_s=self._timeout_s)
        # on_return_raises: an unroutable event fails its publish instead of being confirmed silently.
        self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        await declare_event_exchanges(self._channel, self._topology)
        self._exchange = await self._channel.get_exchange(self._topology.events_exchange.name, ensure=False)
        log.info("publisher.connected", broker=address_of(self._connection))

    async def publish(self, events: Sequence[OutgoingEvent]) -> list[BaseException | None]:
        # The underlying aiormq channel with wait=False: aio-pika's Exchange.publish holds the channel lock
        # until each frame is written, one event-loop pass per message; this only waits for the confirms.
        channel, exchange = await self._ensure_channel()

        async def publish_one(event: OutgoingEvent) -> None:
            confirmation = await channel.basic_publish(
                event.body,
                exchange=exchange,
                routing_key=event.event_type,
                mandatory=True,  # with on_return_raises, an unroutable event fails instead of being confirmed
                wait=False,
                properties=spec.Basic.Properties(
                    message_id=str(event.event_id),
                    correlation_id=str(event.correlation_id) if event.correlation_id else None,
                    message_type=event.event_type,
                    content_type="application/json",
                    delivery_mode=int(DeliveryMode.PERSISTENT),
                ),
            )
            if not isinstance(confirmation, spec.Basic.Ack):
                raise PublishNotConfirmed(f"broker answered {type(confirmation).__name__}")

        tasks = [asyncio.ensure_future(publish_one(event)) for event in events]
        if not tasks:
            return []
        try:
            _, unconfirmed = await asyncio.wait(tasks, timeout=self._timeout_s)
        except asyncio.CancelledError:
            for task in tasks:  # none is left running, nor its outcome unread
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        for task in unconfirmed:
            task.cancel()
        await asyncio.gather(*unconfirmed, return_exceptions=True)
        results: list[BaseException | None] = [
            TimeoutError("no confirm within the publish timeout") if task in unconfirmed else task.exception()
            for task in tasks
        ]
        # A channel that stopped confirming, or a connection or channel that broke mid-batch, is not trusted
        # again: reconnect on the next publish. A return or a nack is the broker's answer about one message.
        broken = (error for error in results if error is not None)
        if any(not isinstance(error, aiormq.exceptions.PublishError | PublishNotConfirmed) for error in broken):
            await self.reset()
        return results

    async def reset(self) -> None:
        connection, self._connection, self._channel, self._exchange = self._connection, None, None, None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):  # it is being thrown away after a failure
                await connection.close()

    async def close(self) -> None:
        await self.reset()
