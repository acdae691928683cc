"""Connecting given several broker addresses: each tried once from a random start, failing over past nodes that
refuse or hang, and errors that never name a password. Real sockets and the real broker (127.0.0.1:5672 or
RABBITMQ_URL); a closed port is one nobody listens on."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import pytest
from structlog.testing import capture_logs

from medic.shared import broker_connection
from medic.shared.broker_connection import BrokerUnreachable, connect, reachable, without_credentials
from medic.shared.publisher import OutgoingEvent, RabbitEventPublisher
from medic.shared.topology import Topology, declare_event_exchanges
from tests import infra


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    url, container = infra.rabbitmq_url()
    yield url
    if container is not None:
        container.stop()


def closed_address(password: str = "guest") -> str:
    return f"amqp://guest:{password}@127.0.0.1:{infra.free_port()}/"


@pytest.fixture
def hung_address() -> Iterator[str]:
    """A port that accepts TCP connections (into its backlog) and never says a word of AMQP."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"amqp://guest:guest@127.0.0.1:{listener.getsockname()[1]}/"


def start_at(monkeypatch: pytest.MonkeyPatch, index: int) -> None:
    monkeypatch.setattr(broker_connection, "random", SimpleNamespace(randrange=lambda _stop: index))


def port_of(connection: aio_pika.abc.AbstractConnection) -> int | None:
    assert isinstance(connection, aio_pika.Connection)
    return connection.url.port


async def test_each_address_is_tried_once_in_turn_from_a_random_start(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = ["amqp://a/", "amqp://b/", "amqp://c/"]
    orders: list[list[str]] = []

    async def refuse(url: str, **_: Any) -> aio_pika.abc.AbstractConnection:
        orders[-1].append(url)
        raise ConnectionRefusedError(url)

    monkeypatch.setattr(broker_connection, "aio_pika", SimpleNamespace(connect=refuse))
    for _ in range(60):
        orders.append([])
        with pytest.raises(BrokerUnreachable):
            await connect(urls, timeout_s=1)

    rotations = {tuple(urls[i:] + urls[:i]) for i in range(3)}
    assert {tuple(order) for order in orders} == rotations  # every start seen: (2/3)^60 odds of missing one


@pytest.mark.integration
async def test_a_closed_port_is_skipped_for_the_next_node(monkeypatch: pytest.MonkeyPatch, broker_url: str) -> None:
    closed = closed_address()

    start_at(monkeypatch, 0)
    connection = await connect([closed, broker_url], timeout_s=2)
    await connection.close()
    assert port_of(connection) == urlsplit(broker_url).port

    start_at(monkeypatch, 1)  # from the end, round to the start
    connection = await connect([broker_url, closed], timeout_s=2)
    await connection.close()
    assert port_of(connection) == urlsplit(broker_url).port


@pytest.mark.integration
async def test_a_node_that_never_answers_costs_one_timeout(
    monkeypatch: pytest.MonkeyPatch, broker_url: str, hung_address: str
) -> None:
    start_at(monkeypatch, 0)
    loop = asyncio.get_running_loop()
    started = loop.time()

    connection = await connect([hung_address, broker_url], timeout_s=0.5)
    await connection.close()

    assert port_of(connection) == urlsplit(broker_url).port
    assert 0.4 < loop.time() - started < 5


@pytest.mark.integration
async def test_when_no_node_answers_the_error_names_each_address_and_no_password(broker_url: str) -> None:
    refused = closed_address("s3cret-refused")
    wrong_password = broker_url.replace(f":{urlsplit(broker_url).password}@", ":s3cret-wrong@")

    with pytest.raises(BrokerUnreachable) as raised:
        await connect([refused, wrong_password], timeout_s=2)

    message = str(raised.value)
    assert without_credentials(refused) in message
    assert without_credentials(wrong_password) in message
    assert message.count("(") >= 2  # each address with its error
    chain = (
        f"{raised.value!r} {raised.value.__cause__!r} {raised.value.__cause__ and raised.value.__cause__.__cause__!r}"
    )
    assert "s3cret" not in message + chain
    with pytest.raises(BrokerUnreachable):
        await reachable([refused], timeout_s=1)


@pytest.mark.integration
async def test_readiness_holds_while_any_node_answers(broker_url: str) -> None:
    await reachable([closed_address(), broker_url, closed_address()], timeout_s=2)


def test_an_address_is_shown_without_credentials() -> None:
    assert without_credentials("amqps://medic:pw@rabbit-2/prod") == "amqps://rabbit-2:5671/prod"
    assert without_credentials("amqp://medic:pw@rabbit-1:5673/") == "amqp://rabbit-1:5673/"
    assert "pw" not in without_credentials("amqp://medic:pw@rabbit-1:port/")


@pytest.fixture
async def bound_namespace(broker_url: str) -> AsyncIterator[tuple[Topology, aio_pika.abc.AbstractQueue]]:
    """A fresh namespace's events exchange with a queue bound to every event, deleted afterwards."""
    topology = Topology(f"t-{uuid.uuid4().hex[:10]}")
    connection = await aio_pika.connect(broker_url, timeout=5)
    async with connection:
        channel = await connection.channel()
        await declare_event_exchanges(channel, topology)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(topology.events_exchange.name, routing_key="#")
        try:
            yield topology, queue
        finally:
            await channel.exchange_delete(topology.events_exchange.name)
            await channel.exchange_delete(topology.dead_letter_exchange.name)


@pytest.mark.integration
async def test_the_publisher_fails_over_to_the_node_that_answers(
    monkeypatch: pytest.MonkeyPatch, broker_url: str, bound_namespace: tuple[Topology, aio_pika.abc.AbstractQueue]
) -> None:
    topology, queue = bound_namespace
    start_at(monkeypatch, 0)
    publisher = RabbitEventPublisher([closed_address(), broker_url], topology, timeout_s=5)
    event = OutgoingEvent(uuid.uuid4(), "probe.thing.happened.v1", b"{}")
    try:
        with capture_logs() as logs:
            assert await publisher.publish([event]) == [None]
    finally:
        await publisher.close()

    connected = [entry for entry in logs if entry["event"] == "publisher.connected"]
    assert [entry["broker"] for entry in connected] == [without_credentials(broker_url)]  # which node, no password

    message = await queue.get(timeout=5)
    assert message.message_id == str(event.event_id)
    await message.ack()
