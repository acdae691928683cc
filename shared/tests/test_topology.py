"""Topology: names, queue arguments, and what `declare_consumer` asks the channel for (fake channel)."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from faststream.rabbit import ExchangeType

from medic.shared.topology import ALL_EVENTS, Topology, declare_consumer, declare_event_exchanges, delete_namespace

NS = Topology("t1")


def test_exchanges() -> None:
    assert NS.events_exchange.name == "t1.events"
    assert NS.events_exchange.type == ExchangeType.TOPIC
    assert NS.events_exchange.durable is True
    assert NS.dead_letter_exchange.name == "t1.dead-letter"
    assert NS.dead_letter_exchange.type == ExchangeType.DIRECT
    assert NS.dead_letter_exchange.durable is True
    assert Topology().events_exchange.name == "medic.events"


def test_queue_names_are_namespaced_per_service() -> None:
    assert NS.consumer_queue_name("outreach") == "t1.outreach.events"
    assert NS.retry_queue_name("outreach") == "t1.outreach.retry"
    assert NS.dead_letter_queue_name("outreach") == "t1.outreach.dead-letter"
    assert Topology("other").consumer_queue_name("outreach") != NS.consumer_queue_name("outreach")


def test_consumer_queue_is_quorum_with_delivery_limit_and_at_least_once_dead_lettering() -> None:
    queue = NS.consumer_queue("outreach", delivery_limit=7, binding="projects.partner.registered.v1")

    assert queue.name == "t1.outreach.events"
    assert queue.durable is True
    assert queue.routing_key == "projects.partner.registered.v1"
    assert queue.arguments == {
        "x-queue-type": "quorum",
        "x-delivery-limit": 7,
        "x-dead-letter-exchange": "t1.dead-letter",
        "x-dead-letter-routing-key": "t1.outreach.events",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",  # at-least-once dead-lettering requires it
    }


def test_consumer_queue_binds_every_event_by_default() -> None:
    assert NS.consumer_queue("outreach", delivery_limit=3).routing_key == ALL_EVENTS == "#"


def test_retry_queue_expires_messages_back_to_the_consumer_queue() -> None:
    queue = NS.retry_queue("outreach", delay_ms=1500)

    assert queue.name == "t1.outreach.retry"
    assert queue.durable is True
    assert queue.arguments == {
        "x-queue-type": "quorum",
        "x-message-ttl": 1500,
        "x-dead-letter-exchange": "",  # the default exchange: routing key = queue name
        "x-dead-letter-routing-key": "t1.outreach.events",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def test_dead_letter_queue_is_quorum_and_bound_by_the_consumer_queue_name() -> None:
    queue = NS.dead_letter_queue("outreach")

    assert queue.name == "t1.outreach.dead-letter"
    assert queue.arguments == {"x-queue-type": "quorum"}
    # The consumer queue dead-letters with its own name as routing key; the DLQ must listen for that.
    consumer = NS.consumer_queue("outreach", delivery_limit=3)
    assert queue.routing_key == consumer.arguments["x-dead-letter-routing-key"]


# A recording stand-in for the aio-pika channel: enough to see what declare_consumer asks for.


@dataclass
class FakeExchange:
    name: str
    type: str
    durable: bool


@dataclass
class FakeQueue:
    name: str
    durable: bool
    arguments: dict[str, Any]
    bindings: list[tuple[str, str]] = field(default_factory=list)

    async def bind(self, exchange: FakeExchange, routing_key: str) -> None:
        self.bindings.append((exchange.name, routing_key))


@dataclass
class FakeChannel:
    exchanges: dict[str, FakeExchange] = field(default_factory=dict)
    queues: dict[str, FakeQueue] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    async def declare_exchange(self, name: str, *, type: str, durable: bool) -> FakeExchange:
        self.exchanges[name] = FakeExchange(name, type, durable)
        return self.exchanges[name]

    async def get_exchange(self, name: str, *, ensure: bool = True) -> FakeExchange:
        return self.exchanges[name]  # KeyError if it was not declared first

    async def declare_queue(self, name: str, *, durable: bool, arguments: dict[str, Any]) -> FakeQueue:
        previous = self.queues.get(name)
        if previous is not None and previous.arguments != arguments:
            raise AssertionError(f"{name} re-declared with different arguments")  # RabbitMQ would refuse
        queue = previous or FakeQueue(name, durable, arguments)
        self.queues[name] = queue
        return queue

    async def queue_delete(self, name: str) -> None:
        self.deleted.append(f"queue:{name}")

    async def exchange_delete(self, name: str) -> None:
        self.deleted.append(f"exchange:{name}")


async def test_declare_event_exchanges() -> None:
    channel = FakeChannel()
    await declare_event_exchanges(channel, NS)  # type: ignore[arg-type]
    assert channel.exchanges == {
        "t1.events": FakeExchange("t1.events", "topic", True),
        "t1.dead-letter": FakeExchange("t1.dead-letter", "direct", True),
    }


async def test_declare_consumer_declares_queues_and_binds_each_event_type() -> None:
    channel = FakeChannel()
    event_types = ["projects.partner.registered.v1", "projects.project.started.v1"]

    for _ in range(2):  # idempotent: same arguments the second time
        await declare_consumer(
            channel,  # type: ignore[arg-type]
            NS,
            "outreach",
            event_types=event_types,
            delivery_limit=6,
            retry_delay_ms=250,
        )

    assert set(channel.queues) == {"t1.outreach.events", "t1.outreach.retry", "t1.outreach.dead-letter"}
    assert all(queue.durable for queue in channel.queues.values())
    assert all(queue.arguments["x-queue-type"] == "quorum" for queue in channel.queues.values())
    consumer = channel.queues["t1.outreach.events"]
    assert consumer.arguments["x-delivery-limit"] == 6
    assert set(consumer.bindings) == {("t1.events", t) for t in event_types}
    assert channel.queues["t1.outreach.retry"].arguments["x-message-ttl"] == 250
    assert channel.queues["t1.outreach.retry"].bindings == []  # only reached through the default exchange
    assert set(channel.queues["t1.outreach.dead-letter"].bindings) == {("t1.dead-letter", "t1.outreach.events")}


async def test_delete_namespace_removes_every_queue_and_exchange() -> None:
    channel = FakeChannel()
    await delete_namespace(channel, NS, ["outreach", "notifications"])  # type: ignore[arg-type]
    assert set(channel.deleted) == {
        "queue:t1.outreach.events",
        "queue:t1.outreach.retry",
        "queue:t1.outreach.dead-letter",
        "queue:t1.notifications.events",
        "queue:t1.notifications.retry",
        "queue:t1.notifications.dead-letter",
        "exchange:t1.events",
        "exchange:t1.dead-letter",
    }


@pytest.mark.parametrize("service", ["projects", "outreach", "notifications"])
def test_names_never_collide_between_services(service: str) -> None:
    other = {"projects", "outreach", "notifications"} - {service}
    mine = {NS.consumer_queue_name(service), NS.retry_queue_name(service), NS.dead_letter_queue_name(service)}
    for name in other:
        theirs = {NS.consumer_queue_name(name), NS.retry_queue_name(name), NS.dead_letter_queue_name(name)}
        assert mine.isdisjoint(theirs)
