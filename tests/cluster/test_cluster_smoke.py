"""The cluster itself, and the shared broker code on it in one process: the topology's quorum queues span the three
nodes, and a publisher and a consumer given the three addresses carry on when the queue's leader node stops."""

import asyncio
import itertools
import time
import uuid
from collections import Counter
from typing import Any

import pytest

from medic.shared.consumer_broker import ConsumerBroker
from medic.shared.publisher import OutgoingEvent, RabbitEventPublisher
from medic.shared.settings import ServiceSettings
from medic.shared.topology import Topology
from tests.cluster.rabbit_cluster import LeaderWatch, RabbitCluster
from tests.conftest import DatabaseUrls
from tests.support import FAST_FAILURE_HANDLING, PROBE_EVENT, envelope_bytes, eventually
from tests.test_consumer_broker import Probe, probe_database

pytestmark = [pytest.mark.integration, pytest.mark.cluster]


class SteadyPublisher:
    """Publishes probe events one after another, as the relay does: a failed one is sent again (same id)."""

    def __init__(self, publisher: RabbitEventPublisher) -> None:
        self.publisher = publisher
        self.confirmed: list[tuple[int, float]] = []  # (n, monotonic time of its confirm)
        self.failures = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        n = 0
        while not self._stop.is_set():
            message_id, body = envelope_bytes(PROBE_EVENT, {"n": n, "fails": False})
            event = OutgoingEvent(uuid.UUID(message_id), PROBE_EVENT, body)
            while not self._stop.is_set():
                [error] = await self.publisher.publish([event])
                if error is None:
                    self.confirmed.append((n, time.monotonic()))
                    break
                self.failures += 1
                await asyncio.sleep(0.2)
            n += 1
            await asyncio.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()

    def longest_pause_s(self) -> float:
        times = [at for _, at in self.confirmed]
        return max((later - earlier for earlier, later in itertools.pairwise(times)), default=0.0)


@pytest.mark.timeout(240)  # the first test of the session also waits for the cluster to form
async def test_the_topology_is_replicated_over_the_three_nodes(
    cluster: RabbitCluster, sqlite_urls: DatabaseUrls
) -> None:
    namespace = f"t-{uuid.uuid4().hex[:10]}"
    settings = ServiceSettings(RABBITMQ_URLS=",".join(cluster.urls), BROKER_NAMESPACE=namespace)
    async with probe_database(sqlite_urls("probe")) as probe:
        broker = ConsumerBroker(probe.consumer(), settings)
        try:
            await broker.start()
        finally:
            await broker.stop()

    topology = Topology(namespace)
    nodes = {node.name for node in cluster.nodes}
    for queue in ("probe.events", "probe.retry", "probe.dead-letter"):
        name = f"{namespace}.{queue}"
        assert cluster.queue_type(name) == "quorum"
        assert set(cluster.queue_members(name)) == nodes, name
    assert cluster.queue_arguments(topology.consumer_queue_name("probe"))["x-dead-letter-strategy"] == "at-least-once"


@pytest.mark.timeout(240)
async def test_publisher_and_consumer_carry_on_when_the_queue_leader_stops(
    cluster: RabbitCluster, sqlite_urls: DatabaseUrls
) -> None:
    namespace = f"t-{uuid.uuid4().hex[:10]}"
    values: dict[str, Any] = {
        "RABBITMQ_URLS": ",".join(cluster.urls),
        "BROKER_NAMESPACE": namespace,
        **FAST_FAILURE_HANDLING,
    }
    settings = ServiceSettings(**values)
    queue = Topology(namespace).consumer_queue_name("probe")
    async with probe_database(sqlite_urls("probe")) as probe:
        broker = ConsumerBroker(probe.consumer(), settings)
        try:
            await broker.start()
            steady = SteadyPublisher(RabbitEventPublisher(cluster.urls, Topology(namespace), timeout_s=3))
            publishing = asyncio.create_task(steady.run())
            watch: LeaderWatch | None = None
            try:
                await asyncio.sleep(2)
                leader = cluster.node(await asyncio.to_thread(cluster.queue_leader, queue))
                witness = next(n for n in cluster.nodes if n is not leader)
                watch = cluster.watch_leader(queue, old=leader.name, via=witness)
                await asyncio.sleep(1.5)  # the watch's CLI start-up
                await asyncio.to_thread(cluster.stop_app, leader)
                new_leader, _ = await asyncio.to_thread(watch.result)
                await asyncio.sleep(3)
                await asyncio.to_thread(cluster.start_app, leader)
                second = cluster.node(new_leader)
                await asyncio.to_thread(cluster.stop_app, second)
                await asyncio.sleep(5)
                await asyncio.to_thread(cluster.start_app, second)
                before = len(steady.confirmed)
                await eventually(lambda: _at_least(steady, before + 50), timeout_s=30)
            finally:
                if watch is not None:
                    watch.stop()
                steady.stop()
                await publishing
                await steady.publisher.close()
            confirmed = sorted(n for n, _ in steady.confirmed)
            await eventually(lambda: _applied(probe, len(confirmed)), timeout_s=30)
            applied = await probe.applied()
        finally:
            await broker.stop()

    # None lost, none applied twice. (The last event may have reached the queue unconfirmed as the test stopped.)
    assert set(confirmed) <= set(applied) <= set(range(confirmed[-1] + 2))
    assert not [n for n, count in Counter(applied).items() if count > 1]
    print(f"smoke: {len(confirmed)} events, longest publish pause {steady.longest_pause_s():.2f}s")


async def _at_least(steady: SteadyPublisher, count: int) -> bool:
    return len(steady.confirmed) >= count


async def _applied(probe: Probe, count: int) -> bool:
    return len(await probe.applied()) >= count
