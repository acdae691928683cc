"""Two relays sharing one PostgreSQL outbox, with concurrent writers: nothing skipped, nothing doubled."""

import asyncio
import uuid
from contextlib import suppress

import aio_pika
import pytest

from medic.projects.adapters import orm
from medic.projects.bootstrap import MIGRATIONS
from medic.shared.contracts.projects import PartnerKind, PartnerRegisteredV1
from medic.shared.db import create_engine, migrate
from medic.shared.events import Envelope
from medic.shared.publisher import RabbitEventPublisher
from medic.shared.relay import OutboxRelay
from medic.shared.topology import ALL_EVENTS, Topology, declare_consumer
from medic.shared.uow import UnitOfWork
from tests.conftest import DatabaseUrls

pytestmark = pytest.mark.integration

WRITERS = 4
EVENTS_PER_WRITER = 150


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_relays_publish_every_event_exactly_once(
    broker_namespace: tuple[str, str], database_urls: DatabaseUrls
) -> None:
    url, namespace = broker_namespace
    topology = Topology(namespace)
    database_url = database_urls("projects")
    await migrate(MIGRATIONS, database_url)

    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    await declare_consumer(channel, topology, "probe", event_types=[ALL_EVENTS], delivery_limit=5, retry_delay_ms=100)

    engines = [create_engine(database_url), create_engine(database_url)]
    relays = [
        OutboxRelay(engine, orm.outbox, RabbitEventPublisher(url, topology), batch_size=50, sweep_interval_s=0.2)
        for engine in engines
    ]
    relay_tasks = [asyncio.create_task(relay.run()) for relay in relays]

    correlation_ids: dict[str, str] = {}  # event id: correlation id

    async def writer(index: int) -> list[str]:
        engine, relay = engines[index % 2], relays[index % 2]
        ids = []
        for n in range(EVENTS_PER_WRITER):
            async with UnitOfWork(engine, outbox=orm.outbox, relay=relay) as uow:
                payload = PartnerRegisteredV1(partner_id=uuid.uuid4(), name=f"w{index}-{n}", kind=PartnerKind.CHARITY)
                envelope = Envelope.wrap(payload, subject=None, correlation_id=uuid.uuid4())
                await uow.publish(envelope)
                await uow.commit()
                ids.append(str(envelope.id))
                correlation_ids[str(envelope.id)] = str(envelope.correlationid)
        return ids

    try:
        written = [i for ids in await asyncio.gather(*(writer(w) for w in range(WRITERS))) for i in ids]

        queue = await channel.get_queue(topology.consumer_queue_name("probe"))
        received: list[str] = []
        deadline = asyncio.get_running_loop().time() + 30
        while len(received) < len(written) and asyncio.get_running_loop().time() < deadline:
            message = await queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            received.append(message.message_id or "")
            # The AMQP properties carry the ids too, for tools that never parse the body.
            assert message.correlation_id == correlation_ids[message.message_id or ""]
            assert message.type == PartnerRegisteredV1.event_type
        await asyncio.sleep(0.5)  # anything published twice would arrive now
        while (message := await queue.get(fail=False)) is not None:
            await message.ack()
            received.append(message.message_id or "")

        assert len(written) == WRITERS * EVENTS_PER_WRITER
        assert sorted(received) == sorted(written)  # none skipped, none twice
    finally:
        for task in relay_tasks:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        for relay in relays:
            await relay.close()
        for engine in engines:
            await engine.dispose()
        await connection.close()
