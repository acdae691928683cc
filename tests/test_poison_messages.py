"""Poison messages end in the dead-letter queue within the delivery limit, and good ones keep flowing."""

import json
import logging
import uuid
from typing import Any

import aio_pika
import pytest
from sqlalchemy import MetaData

from medic.shared.consumer import EventConsumer, Subscription
from medic.shared.consumer_broker import ConsumerBroker
from medic.shared.db import create_engine
from medic.shared.events import RawEnvelope
from medic.shared.inbox import inbox_table
from medic.shared.settings import ServiceSettings
from medic.shared.topology import Topology
from medic.shared.uow import UnitOfWork
from tests.support import FAST_FAILURE_HANDLING, PROBE_EVENT, ProbeHappenedV1, envelope_bytes, eventually

pytestmark = pytest.mark.integration


def envelope(data: dict[str, Any]) -> tuple[str, bytes]:
    return envelope_bytes(PROBE_EVENT, data)


async def test_poison_is_dead_lettered_and_good_messages_behind_it_flow(
    broker_namespace: tuple[str, str], tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url, namespace = broker_namespace
    metadata = MetaData()
    inbox = inbox_table(metadata)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/probe.db")
    async with engine.begin() as db:
        await db.run_sync(metadata.create_all)

    handled: list[int] = []
    attempts_of_failing: list[int] = []

    async def handle(event: ProbeHappenedV1, _: RawEnvelope, __: UnitOfWork) -> None:
        if event.fails:
            attempts_of_failing.append(event.n)
            raise RuntimeError("this handler always fails")
        handled.append(event.n)

    # Deliberately strings, as the environment gives them: the settings parse them into numbers.
    settings = ServiceSettings(RABBITMQ_URL=url, BROKER_NAMESPACE=namespace, **FAST_FAILURE_HANDLING)  # type: ignore[arg-type]
    consumer = EventConsumer(
        "probe", lambda: UnitOfWork(engine, inbox=inbox), {PROBE_EVENT: Subscription(ProbeHappenedV1, handle)}
    )
    runtime = ConsumerBroker(consumer, settings)
    await runtime.start()
    try:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(Topology(namespace).events_exchange.name)

            async def send(message_id: str, body: bytes) -> None:
                message = aio_pika.Message(body, message_id=message_id, type=PROBE_EVENT, delivery_mode=2)
                await exchange.publish(message, routing_key=PROBE_EVENT, mandatory=True)

            not_json = str(uuid.uuid4())
            await send(not_json, b"{this is not json")
            not_an_envelope = str(uuid.uuid4())
            await send(not_an_envelope, json.dumps({"hello": "world"}).encode())
            invalid_payload, body = envelope({"n": "not a number"})
            await send(invalid_payload, body)
            always_fails, body = envelope({"n": -1, "fails": True})
            await send(always_fails, body)
            for n in range(5):
                await send(*envelope({"n": n}))

            assert await eventually(lambda: _sorted_when(handled, 5), timeout_s=20) == [0, 1, 2, 3, 4]

            dead_letter_queue = await channel.get_queue(Topology(namespace).dead_letter_queue_name("probe"))
            dead: set[str] = set()

            async def collect_dead_letters() -> set[str]:
                while (message := await dead_letter_queue.get(fail=False)) is not None:
                    await message.ack()
                    dead.add(message.message_id or "")
                return dead if len(dead) >= 4 else set()

            assert await eventually(collect_dead_letters, timeout_s=20) == {
                not_json,
                not_an_envelope,
                invalid_payload,
                always_fails,
            }
            # CONSUMER_MAX_ATTEMPTS=3 tries alone, then dead-lettered; before them, once more if it arrived in a
            # batch with others (which failed, and was then applied one by one).
            assert attempts_of_failing in ([-1] * 3, [-1] * 4)
            dead_lettered = [r for r in caplog.records if "event.dead_lettered" in str(r.msg)]
            assert len(dead_lettered) == 4
            assert all(r.levelno == logging.ERROR for r in dead_lettered)
            assert "not a number" not in caplog.text  # bodies are never logged
    finally:
        await runtime.stop()
        await engine.dispose()


async def _sorted_when(values: list[int], length: int) -> list[int] | None:
    return sorted(values) if len(values) >= length else None
