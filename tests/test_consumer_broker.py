"""The batching consumer on the real broker: batches, failures inside a batch, competing replicas, a consumer
cancelled by the broker, a stop with messages in hand, oversized messages, and the inbox retention sweep."""

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Uuid, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.shared.consumer import EventConsumer, Subscription
from medic.shared.consumer_broker import ConsumerBroker
from medic.shared.db import create_engine
from medic.shared.events import RawEnvelope
from medic.shared.inbox import inbox_table
from medic.shared.settings import ServiceSettings
from medic.shared.topology import Topology
from medic.shared.uow import UnitOfWork
from tests.conftest import DatabaseUrls
from tests.infra import DisposableBroker
from tests.support import FAST_FAILURE_HANDLING, PROBE_EVENT, ProbeHappenedV1, envelope_bytes, eventually

pytestmark = pytest.mark.integration

metadata = MetaData()
inbox = inbox_table(metadata)
# No unique key on purpose: an event applied twice shows up as two rows.
applied = Table("applied", metadata, Column("event_id", Uuid, nullable=False), Column("n", Integer, nullable=False))


class Probe:
    """A consuming service in miniature: its database, its handler, and the calls the handler saw."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.calls: Counter[int] = Counter()
        self.slowness_s = 0.0

    async def handle(self, event: ProbeHappenedV1, envelope: RawEnvelope, uow: UnitOfWork) -> None:
        self.calls[event.n] += 1
        await asyncio.sleep(self.slowness_s)
        if event.fails:
            raise RuntimeError("this handler fails for this event")
        await uow.connection.execute(insert(applied).values(event_id=envelope.id, n=event.n))

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            "probe",
            lambda: UnitOfWork(self.engine, inbox=inbox),
            {PROBE_EVENT: Subscription(ProbeHappenedV1, self.handle)},
        )

    async def applied(self) -> list[int]:
        async with self.engine.connect() as connection:
            return sorted((await connection.execute(select(applied.c.n))).scalars())

    async def inbox_rows(self) -> int:
        async with self.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(inbox))).scalar_one())


@asynccontextmanager
async def probe_database(url: str) -> AsyncIterator[Probe]:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield Probe(engine)
    finally:
        await engine.dispose()


def settings_for(url: str, namespace: str, **overrides: Any) -> ServiceSettings:
    values = {"RABBITMQ_URL": url, "BROKER_NAMESPACE": namespace, **FAST_FAILURE_HANDLING, **overrides}
    return ServiceSettings(**values)


@asynccontextmanager
async def consuming(probe: Probe, settings: ServiceSettings) -> AsyncIterator[ConsumerBroker]:
    broker = ConsumerBroker(probe.consumer(), settings)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


def body(n: int, *, event_id: uuid.UUID | None = None, fails: bool = False) -> tuple[str, bytes]:
    return envelope_bytes(PROBE_EVENT, {"n": n, "fails": fails}, event_id=event_id)


@asynccontextmanager
async def publishing(url: str, namespace: str) -> AsyncIterator[aio_pika.abc.AbstractExchange]:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        yield await channel.get_exchange(Topology(namespace).events_exchange.name)


async def send(exchange: aio_pika.abc.AbstractExchange, messages: Iterable[tuple[str, bytes]]) -> None:
    await asyncio.gather(
        *(
            exchange.publish(
                aio_pika.Message(payload, message_id=message_id, type=PROBE_EVENT, delivery_mode=2),
                routing_key=PROBE_EVENT,
                mandatory=True,
            )
            for message_id, payload in messages
        )
    )


async def queue_depth(url: str, name: str) -> int:
    connection = await aio_pika.connect(url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(name, passive=True)
        return queue.declaration_result.message_count or 0


async def _when(values: list[int], length: int) -> list[int] | None:
    return values if len(values) >= length else None


async def test_a_failing_message_in_a_batch_delays_its_neighbours_once_and_is_dead_lettered_alone(
    broker_namespace: tuple[str, str], sqlite_urls: DatabaseUrls
) -> None:
    url, namespace = broker_namespace
    async with probe_database(sqlite_urls("probe")) as probe:
        settings = settings_for(url, namespace)
        async with consuming(probe, settings) as broker, publishing(url, namespace) as exchange:
            # Held back until all are queued, so they arrive together and form batches.
            await broker.stop()
            await send(
                exchange, [body(n) for n in range(40)] + [body(-1, fails=True)] + [body(n) for n in range(40, 80)]
            )
            await broker.start()
            assert await eventually(lambda: _when_applied(probe, 80), timeout_s=20) == list(range(80))

            dead_letters = await collect(url, Topology(namespace).dead_letter_queue_name("probe"), 1)
        assert len(dead_letters) == 1
        max_attempts = int(FAST_FAILURE_HANDLING["CONSUMER_MAX_ATTEMPTS"])
        assert probe.calls[-1] in (max_attempts, max_attempts + 1)  # alone; before that, once in its batch
        assert max(probe.calls[n] for n in range(80)) <= 2  # its neighbours: at most once more
        assert sum(probe.calls[n] for n in range(80)) < 2 * 80  # batches without it were not disturbed
        assert await probe.applied() == list(range(80))


async def _when_applied(probe: Probe, count: int) -> list[int] | None:
    done = await probe.applied()
    return done if len(done) >= count else None


async def collect(url: str, queue_name: str, count: int, timeout_s: float = 20) -> list[str]:
    connection = await aio_pika.connect(url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(queue_name, passive=True)
        found: list[str] = []

        async def drain() -> list[str] | None:
            while (message := await queue.get(fail=False)) is not None:
                await message.ack()
                found.append(message.message_id or "")
            return found if len(found) >= count else None

        await eventually(drain, timeout_s=timeout_s)
        return found


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_replicas_on_one_queue_apply_every_event_exactly_once(
    broker_namespace: tuple[str, str], database_urls: DatabaseUrls, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, namespace = broker_namespace
    events = [body(n) for n in range(600)]
    # Every event twice, as a relay that crashed between confirm and mark would send it.
    redelivered = [body(n, event_id=uuid.UUID(event_id)) for n, (event_id, _) in enumerate(events)]
    async with probe_database(database_urls("probe")) as probe:
        settings = settings_for(url, namespace, CONSUMER_PREFETCH="20", CONSUMER_BATCH_SIZE="10")
        async with consuming(probe, settings) as first, consuming(probe, settings) as second:
            shares: Counter[str] = Counter()
            for name, broker in (("first", first), ("second", second)):
                real_apply = broker.consumer.apply

                async def counted(batch: Any, name: str = name, real_apply: Any = real_apply) -> int:
                    shares[name] += len(batch)
                    return int(await real_apply(batch))

                monkeypatch.setattr(broker.consumer, "apply", counted)
            async with publishing(url, namespace) as exchange:
                await send(exchange, events[:300] + redelivered[:300] + events[300:] + redelivered[300:])
            assert await eventually(lambda: _when_applied(probe, 600), timeout_s=30) == list(range(600))
            await eventually(lambda: _equals(queue_depth(url, Topology(namespace).consumer_queue_name("probe")), 0))
            await asyncio.sleep(0.3)  # a double application would land now
        assert await probe.applied() == list(range(600))
        assert await probe.inbox_rows() == 600
        assert shares["first"] > 0 and shares["second"] > 0  # both replicas took part


async def _equals(value: Any, expected: Any) -> Any:
    actual = await value
    return True if actual == expected else None


async def test_a_consumer_cancelled_by_the_broker_consumes_again(
    broker_namespace: tuple[str, str], sqlite_urls: DatabaseUrls
) -> None:
    """Deleting the queue makes the broker send basic.cancel; the queue, its bindings and the consumer return."""
    url, namespace = broker_namespace
    queue_name = Topology(namespace).consumer_queue_name("probe")
    async with probe_database(sqlite_urls("probe")) as probe, consuming(probe, settings_for(url, namespace)):
        async with publishing(url, namespace) as exchange:
            await send(exchange, [body(1)])
            await eventually(lambda: _when_applied(probe, 1))

            connection = await aio_pika.connect(url)
            async with connection:
                await (await connection.channel()).queue_delete(queue_name)

            async def applied_after_resending() -> list[int] | None:
                await send(exchange, [body(2)])  # unroutable until the queue is back: try again
                return await _when_applied(probe, 2)

            await eventually(applied_after_resending, timeout_s=20, interval_s=0.5)
        assert 2 in await probe.applied()


async def test_stopping_with_messages_in_hand_returns_them_and_none_is_applied_twice(
    broker_namespace: tuple[str, str], sqlite_urls: DatabaseUrls
) -> None:
    url, namespace = broker_namespace
    async with probe_database(sqlite_urls("probe")) as probe:
        settings = settings_for(url, namespace, CONSUMER_PREFETCH="100", CONSUMER_BATCH_SIZE="5")
        broker = ConsumerBroker(probe.consumer(), settings)
        await broker.start()
        async with publishing(url, namespace) as exchange:
            await send(exchange, [body(n) for n in range(500)])
            await eventually(lambda: _when_applied(probe, 20))
            await broker.stop()  # mid-stream: with up to 100 in hand
            stopped_at = len(await probe.applied())
            assert stopped_at < 500
            await broker.start()
            assert await eventually(lambda: _when_applied(probe, 500), timeout_s=30) == list(range(500))
            await broker.stop()
        assert await probe.applied() == list(range(500))


async def test_an_oversized_message_is_dead_lettered_unparsed(
    broker_namespace: tuple[str, str], sqlite_urls: DatabaseUrls
) -> None:
    url, namespace = broker_namespace
    async with probe_database(sqlite_urls("probe")) as probe:
        settings = settings_for(url, namespace, CONSUMER_MAX_MESSAGE_BYTES="2048")
        async with consuming(probe, settings), publishing(url, namespace) as exchange:
            oversized_id, oversized = body(7)
            padded = oversized[:-1] + b', "padding": "' + b"x" * 4096 + b'"}'
            await send(exchange, [(oversized_id, padded), body(8)])
            assert await eventually(lambda: _when_applied(probe, 1)) == [8]
            assert await collect(url, Topology(namespace).dead_letter_queue_name("probe"), 1) == [oversized_id]
        assert probe.calls[7] == 0


async def test_inbox_rows_past_their_retention_are_swept(
    broker_namespace: tuple[str, str], sqlite_urls: DatabaseUrls
) -> None:
    url, namespace = broker_namespace
    async with probe_database(sqlite_urls("probe")) as probe:
        old, recent = uuid.uuid4(), uuid.uuid4()
        now = datetime.now(UTC)
        async with probe.engine.begin() as connection:
            await connection.execute(
                insert(inbox),
                [
                    {
                        "consumer": "probe",
                        "event_id": old,
                        "event_type": PROBE_EVENT,
                        "received_at": now - timedelta(days=15),
                    },
                    {"consumer": "probe", "event_id": recent, "event_type": PROBE_EVENT, "received_at": now},
                ],
            )
        async with consuming(probe, settings_for(url, namespace)):  # default retention: 14 days
            await eventually(lambda: _equals(probe.inbox_rows(), 1))
        async with probe.engine.connect() as connection:
            assert list((await connection.execute(select(inbox.c.event_id))).scalars()) == [recent]


async def test_a_connection_lost_with_messages_in_hand_loses_and_stalls_nothing(
    disposable_broker: DisposableBroker, disposable_namespace: tuple[str, str], sqlite_urls: DatabaseUrls
) -> None:
    """Messages buffered from the closed channel are dropped and redelivered; committed ones not yet acked are
    redelivered and absorbed by the inbox; the consumer keeps going on the new channel."""
    url, namespace = disposable_namespace
    async with probe_database(sqlite_urls("probe")) as probe:
        probe.slowness_s = 0.002  # so that messages wait in hand when the connection goes
        settings = settings_for(url, namespace, CONSUMER_BATCH_SIZE="5")
        async with consuming(probe, settings):
            async with publishing(url, namespace) as exchange:
                await send(exchange, [body(n) for n in range(300)])
            await eventually(lambda: _when_applied(probe, 30))
            disposable_broker.close_all_connections()  # the consumer reconnects on its own
            assert await eventually(lambda: _when_applied(probe, 300), timeout_s=40) == list(range(300))
            await eventually(lambda: _equals(queue_depth(url, Topology(namespace).consumer_queue_name("probe")), 0))
        assert await probe.applied() == list(range(300))


async def test_an_unforeseen_failure_while_settling_gives_the_rest_of_the_batch_back(
    broker_namespace: tuple[str, str], sqlite_urls: DatabaseUrls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Had the messages after it stayed unsettled, the next batch's multiple-ack would have acked them unapplied."""
    url, namespace = broker_namespace
    async with probe_database(sqlite_urls("probe")) as probe:
        settings = settings_for(url, namespace)
        broker = ConsumerBroker(probe.consumer(), settings)
        real_failed = broker.policy.failed
        surprises: list[int] = []

        async def failed_once_unforeseen(message: Any, error: Exception) -> None:
            if not surprises:
                surprises.append(1)
                raise RuntimeError("the policy itself failed")
            await real_failed(message, error)

        monkeypatch.setattr(broker.policy, "failed", failed_once_unforeseen)
        await broker.start()  # declares the queues
        await broker.stop()  # so that what is sent now arrives together, in batches
        async with publishing(url, namespace) as exchange:
            await send(
                exchange, [body(n) for n in range(10)] + [body(-1, fails=True)] + [body(n) for n in range(10, 20)]
            )
            await broker.start()
            try:
                assert await eventually(lambda: _when_applied(probe, 20), timeout_s=20) == list(range(20))
                await send(exchange, [body(n) for n in range(20, 30)])  # a later batch, and its multiple-ack
                assert await eventually(lambda: _when_applied(probe, 30), timeout_s=20) == list(range(30))
                assert await collect(url, Topology(namespace).dead_letter_queue_name("probe"), 1)
            finally:
                await broker.stop()
        assert surprises == [1]
        assert await probe.applied() == list(range(30))
