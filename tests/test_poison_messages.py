"""Poison messages end in the dead-letter queue within the delivery limit, and good ones keep flowing."""

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import aio_pika
import pytest
from sqlalchemy import MetaData

from medic.shared.consumer import ConsumerBroker, EventConsumer, Subscription
from medic.shared.db import create_engine
from medic.shared.events import EventPayload, RawEnvelope
from medic.shared.inbox import inbox_table
from medic.shared.settings import ServiceSettings
from medic.shared.topology import Topology
from medic.shared.uow import UnitOfWork
from tests.support import FAST_FAILURE_HANDLING, eventually

pytestmark = pytest.mark.integration

PROBE_EVENT = "tests.probe.happened.v1"


class ProbeHappenedV1(EventPayload):
    event_type: ClassVar[str] = PROBE_EVENT
    source: ClassVar[str] = "/tests"

    n: int
    always_fails: bool = False


def envelope(data: dict[str, Any]) -> tuple[str, bytes]:
    event_id = str(uuid.uuid4())
    body = {
        "id": event_id,
        "source": "/tests",
        "type": PROBE_EVENT,
        "specversion": "1.0",
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "correlationid": str(uuid.uuid4()),
        "data": data,
    }
    return event_id, json.dumps(body).encode()


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
        if event.always_fails:
            attempts_of_failing.append(event.n)
            raise RuntimeError("this handler always fails")
        handled.append(event.n)

    # Deliberately strings, as the environment gives them: the settings parse them into numbers.
    settings = ServiceSettings(RABBITMQ_URL=url, BROKER_NAMESPACE=namespace, **FAST_FAILURE_HANDLING)  # type: ignore[arg-type]
    consumer = EventConsumer(
        "probe", lambda: UnitOfWork(engine, inbox=inbox), {PROBE_EVENT: Subscription(ProbeHappenedV1, handle)}
    )
    runtime = ConsumerBroker(consumer, settings, description="test probe")
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
            always_fails, body = envelope({"n": -1, "always_fails": True})
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
            assert attempts_of_failing == [-1, -1, -1]  # CONSUMER_MAX_ATTEMPTS=3, then dead-lettered
            dead_lettered = [r for r in caplog.records if "event.dead_lettered" in str(r.msg)]
            assert len(dead_lettered) == 4
            assert all(r.levelno == logging.ERROR for r in dead_lettered)
            assert "not a number" not in caplog.text  # bodies are never logged
    finally:
        await runtime.stop()
        await engine.dispose()


async def _sorted_when(values: list[int], length: int) -> list[int] | None:
    return sorted(values) if len(values) >= length else None
