"""Taking a service's events off its queue in batches, and settling each message exactly once.

`ConsumerBroker` consumes on an aio-pika connection. It takes what has arrived, up to
`CONSUMER_BATCH_SIZE` (under load it lets a batch fill for up to `CONSUMER_BATCH_WAIT_MS`), and hands it to
the `EventConsumer` (consumer.py), which applies it in one transaction. A committed batch is acked with one
multiple-ack at most `ACK_EVERY_S` later. When a batch fails, its messages are applied one by one, so a
failing message is retried or dead-lettered by `DeliveryPolicy` (delivery.py) on its own and its neighbours
are delayed once at most: a message that failed before is always applied alone.

The connection is supervised here rather than by aio-pika's robust connection, whose recovery was seen to
stall for good when the broker restarted under load: when the connection or a channel closes, or the broker
cancels the consumer (its queue was deleted), the supervisor drops the connection, connects again with
backoff (to any of the broker's nodes, RABBITMQ_URLS: a lost node's consumers move to the others), declares
the queues and bindings again and consumes again, logging each step. Messages still
buffered from a channel that has closed are dropped here: the broker redelivers them, and the inbox absorbs
any that were applied.
"""

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue, DeliveryMode

from medic.shared.broker_connection import address_of, connect
from medic.shared.consumer import EventConsumer, ParsedEvent
from medic.shared.delivery import Delivery, DeliveryPolicy, PoisonMessage, attempts_of, describe
from medic.shared.events import RawEnvelope
from medic.shared.logging import get_logger
from medic.shared.pace import ArrivalPace
from medic.shared.settings import ServiceSettings
from medic.shared.topology import Topology, declare_consumer

log = get_logger(__name__)

PURGE_EVERY_S = 3600.0
# Acks are not urgent once the batch is committed (a redelivery is absorbed by the inbox): one multiple-ack
# at most this long after a commit settles every batch committed meanwhile, a settle the broker's queue
# replicates once instead of per batch.
ACK_EVERY_S = 0.025
# Reconnecting: the first try at once, then doubling up to this.
MAX_RECONNECT_DELAY_S = 5.0


@dataclass(frozen=True)
class Arrival:
    at: float  # monotonic
    message: AbstractIncomingMessage
    # The channel it came on, kept here: aio-pika's `message.channel` raises once that channel has closed.
    channel: aiormq.abc.AbstractChannel


class ConsumerBroker:
    def __init__(self, consumer: EventConsumer, settings: ServiceSettings) -> None:
        self.consumer = consumer
        self.settings = settings
        self.topology = Topology(settings.broker_namespace)
        self.policy = DeliveryPolicy(
            self.topology.retry_queue_name(consumer.name),
            max_attempts=settings.consumer_max_attempts,
            publish_retry=self._publish_retry,
        )
        self._arrived: deque[Arrival] = deque()
        self._pace = ArrivalPace(settings.consumer_batch_wait_ms / 1000)
        self._wakeup = asyncio.Event()
        self._connection: AbstractConnection | None = None
        self._channels: tuple[AbstractChannel, ...] = ()
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._cancelled_by_broker = asyncio.Event()
        self._retry_exchange: aio_pika.abc.AbstractExchange | None = None
        self._task: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._ack_upto: Arrival | None = None  # the last message committed and not acked yet
        self._ack_at: float | None = None

    @property
    def queue_name(self) -> str:
        return self.topology.consumer_queue_name(self.consumer.name)

    async def start(self) -> None:
        """Connect, declare and consume; raises if the broker cannot be reached now (a service fails fast)."""
        self._stopping = False
        self._ack_upto, self._ack_at = None, None
        await self._connect()
        self._task = asyncio.create_task(self._run(), name=f"consume-{self.consumer.name}")
        self._supervisor = asyncio.create_task(self._keep_connected(), name=f"connect-{self.consumer.name}")
        log.info(
            "consumer.started",
            queue=self.queue_name,
            prefetch=self.settings.consumer_prefetch,
            broker=self._broker_address(),
        )

    async def _connect(self) -> None:
        settings = self.settings
        connection = await connect(settings.rabbitmq_urls, timeout_s=10)
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=settings.consumer_prefetch)
            queue = await declare_consumer(
                channel,
                self.topology,
                self.consumer.name,
                event_types=self.consumer.event_types,
                delivery_limit=settings.queue_delivery_limit,
                retry_delay_ms=settings.consumer_retry_delay_ms,
            )
            # Retries are published on their own confirming channel: a return (no retry queue) must fail the
            # publish, so the message is dead-lettered instead of acked and lost.
            retry_channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            self._cancelled_by_broker.clear()
            underlay = await channel.get_underlay_channel()
            underlay.on_consumer_cancel_callbacks.add(lambda _frame: self._cancelled_by_broker.set())
            self._consumer_tag = await queue.consume(self._receive)
        except BaseException:
            with contextlib.suppress(Exception):
                await connection.close()
            raise
        self._connection, self._channels, self._queue = connection, (channel, retry_channel), queue
        self._retry_exchange = retry_channel.default_exchange

    def _broker_address(self) -> str:
        return address_of(self._connection) if self._connection is not None else "none"

    async def _keep_connected(self) -> None:
        """Connect again whenever the connection, a channel or the consumer is lost, until stopped."""
        while not self._stopping:
            await self._until_lost()
            if self._stopping:
                return
            log.warning("consumer.connection_lost", queue=self.queue_name)
            await self._disconnect()
            delay_s = 0.0
            while not self._stopping:
                await asyncio.sleep(delay_s * random.uniform(0.8, 1.2))
                if self._stopping:
                    return
                try:
                    await self._connect()
                except Exception as error:
                    delay_s = min(max(2 * delay_s, 0.1), MAX_RECONNECT_DELAY_S)
                    log.warning("consumer.reconnect_failed", error=describe(error), retry_in_s=round(delay_s, 2))
                    continue
                log.info("consumer.reconnected", queue=self.queue_name, broker=self._broker_address())
                break

    async def _until_lost(self) -> None:
        assert self._connection is not None
        watches = [
            asyncio.ensure_future(self._connection.closed()),
            asyncio.ensure_future(self._cancelled_by_broker.wait()),
            *(asyncio.ensure_future(channel.closed()) for channel in self._channels),
        ]
        try:
            await asyncio.wait(watches, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for watch in watches:
                watch.cancel()
            await asyncio.gather(*watches, return_exceptions=True)

    async def _disconnect(self) -> None:
        connection, self._connection, self._channels = self._connection, None, ()
        self._queue, self._consumer_tag, self._retry_exchange = None, None, None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):  # it is being thrown away; closing it returns unacked messages
                await asyncio.wait_for(connection.close(), timeout=5)

    async def stop(self) -> None:
        """Stop taking messages, finish the batch in hand, and close: unacked messages go back to the queue."""
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        if self._queue is not None and self._consumer_tag is not None:
            with contextlib.suppress(Exception):  # the channel may be gone already; closing settles it
                await asyncio.wait_for(self._queue.cancel(self._consumer_tag), timeout=5)
        self._wakeup.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=self.settings.consumer_graceful_timeout_s)
            except TimeoutError:
                log.warning("consumer.stop_timed_out", queue=self.queue_name)
        await self._ack_committed()
        self._arrived.clear()  # never acked, so the broker requeues them when the channel closes
        await self._disconnect()
        self._task = self._supervisor = None

    async def _receive(self, message: AbstractIncomingMessage) -> None:
        now = time.monotonic()
        self._pace.arrived(now)
        self._arrived.append(Arrival(now, message, message.channel))
        self._wakeup.set()

    async def _run(self) -> None:
        next_purge = time.monotonic()
        while not self._stopping:
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_EVERY_S
                await self._purge_inbox()
            if self._ack_at is not None and time.monotonic() >= self._ack_at:
                await self._ack_committed()
            if not self._arrived:
                self._wakeup.clear()
                wake_at = min(next_purge, self._ack_at or next_purge)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), max(0.0, wake_at - time.monotonic()))
                continue
            await self._wait_for_a_fuller_batch()
            batch = self._next_batch()
            try:
                await self._handle_batch(batch)
            except Exception as error:  # the loop must outlive any one batch
                log.error("consumer.batch_failed", error=type(error).__name__, size=len(batch))
                await self._requeue_unsettled(batch)
            finally:
                structlog.contextvars.clear_contextvars()

    async def _wait_for_a_fuller_batch(self) -> None:
        """Under load, let the batch fill for up to CONSUMER_BATCH_WAIT_MS after its first message arrived."""
        start_at = self._pace.wait_until(self._arrived[0].at)
        while len(self._arrived) < self.settings.consumer_batch_size and not self._stopping:
            remaining = start_at - time.monotonic()
            if remaining <= 0:
                return
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _next_batch(self) -> list[Arrival]:
        """What has arrived, in order, on one channel, up to the batch size; a message that failed before goes
        alone."""
        batch = [self._arrived.popleft()]
        if attempts_of(batch[0].message):
            return batch
        while self._arrived and len(batch) < self.settings.consumer_batch_size:
            arrival = self._arrived[0]
            if attempts_of(arrival.message) or arrival.channel is not batch[0].channel:
                break
            batch.append(self._arrived.popleft())
        return batch

    async def _handle_batch(self, batch: Sequence[Arrival]) -> None:
        if batch[0].channel.is_closed:
            return  # from before a reconnect: the broker redelivers them
        parsed: list[tuple[Arrival, ParsedEvent]] = []
        for arrival in batch:
            message = arrival.message
            structlog.contextvars.bind_contextvars(
                event_id=message.message_id, event_type=message.type, consumer=self.consumer.name
            )
            try:
                parsed.append((arrival, self._parse(message)))
            except Exception as error:  # parsing is deterministic: what fails it would fail for ever
                await self.policy.dead_letter(message, error)
        structlog.contextvars.clear_contextvars()
        if not parsed:
            return
        if len(parsed) > 1:
            try:
                applied = await self.consumer.apply([event for _, event in parsed])
            except Exception as error:
                log.warning("consumer.batch_retried_one_by_one", size=len(parsed), error=describe(error))
            else:
                await self._committed(parsed[-1][0])
                self._log_handled(len(parsed), applied)
                return
        for arrival, event in parsed:
            await self._handle_one(arrival, event)

    async def _handle_one(self, arrival: Arrival, event: ParsedEvent) -> None:
        message = arrival.message
        structlog.contextvars.bind_contextvars(
            event_id=message.message_id, event_type=message.type, consumer=self.consumer.name
        )
        try:
            applied = await self.consumer.apply([event])
        except Exception as error:
            await self.policy.failed(message, error)
        else:
            await self._committed(arrival)
            self._log_handled(1, applied)
        finally:
            structlog.contextvars.clear_contextvars()

    async def _committed(self, last: Arrival) -> None:
        """Ack a committed message, and everything before it, with the next multiple-ack (see ACK_EVERY_S)."""
        if self._ack_upto is not None and self._ack_upto.channel is not last.channel:
            await self._ack_committed()  # the earlier one came on a channel that is gone
        self._ack_upto = last
        if self._ack_at is None:
            self._ack_at = time.monotonic() + ACK_EVERY_S

    async def _ack_committed(self) -> None:
        last, self._ack_upto, self._ack_at = self._ack_upto, None, None
        if last is None or last.channel.is_closed:
            return  # the broker redelivers them; the inbox absorbs that
        try:
            # Settles every message delivered before it on its channel: each was committed or settled on its
            # own, as messages are handled in the order they arrive.
            await last.message.ack(multiple=True)
        except Exception as error:
            log.warning("consumer.ack_failed", error=type(error).__name__)

    async def _requeue_unsettled(self, batch: Sequence[Arrival]) -> None:
        """After an unforeseen failure, give back what was neither committed nor settled, so that a later
        multiple-ack cannot settle it unapplied. (Within a batch, what was committed is up to `_ack_upto`.)"""
        committed = self._ack_upto
        for arrival in batch:
            message = arrival.message
            if arrival.channel.is_closed or message.processed:
                continue
            tag = message.delivery_tag or 0
            if committed and arrival.channel is committed.channel and tag <= (committed.message.delivery_tag or 0):
                continue  # committed: the next multiple-ack settles it
            with contextlib.suppress(Exception):  # then the channel is broken, and closing it returns them
                await message.nack(requeue=True)

    def _log_handled(self, count: int, new: int) -> None:
        # DEBUG, and not even built otherwise: a line per batch costs a good part of applying it. Failures are
        # logged at WARNING and above; the notifications service keeps the log of every event.
        if log.isEnabledFor(logging.DEBUG):
            log.debug("events.handled", count=count, new=new, consumer=self.consumer.name)

    def _parse(self, message: AbstractIncomingMessage) -> ParsedEvent:
        if message.body_size > self.settings.consumer_max_message_bytes:
            raise PoisonMessage(f"message of {message.body_size} bytes is over the limit")
        return self.consumer.parse(RawEnvelope.model_validate_json(message.body))

    async def _publish_retry(self, message: Delivery, queue: str, headers: dict[str, Any]) -> None:
        if self._retry_exchange is None:
            raise RuntimeError("the consumer is not started")
        incoming = message if isinstance(message, aio_pika.IncomingMessage) else None
        await self._retry_exchange.publish(
            aio_pika.Message(
                message.body,
                headers=headers,
                message_id=message.message_id,
                type=message.type,
                content_type=incoming.content_type if incoming else "application/json",
                correlation_id=incoming.correlation_id if incoming else None,
                delivery_mode=DeliveryMode.PERSISTENT,
            ),
            routing_key=queue,
            mandatory=True,
            timeout=10,
        )

    async def _purge_inbox(self) -> None:
        try:
            purged = await self.consumer.purge_inbox(older_than=timedelta(days=self.settings.inbox_retention_days))
        except Exception as error:  # housekeeping must never stop consuming
            log.warning("inbox.purge_failed", error=type(error).__name__)
            return
        if purged:
            log.info("inbox.purged", rows=purged, consumer=self.consumer.name)
