"""Two processes of every service on a three-node RabbitMQ cluster (RABBITMQ_URLS = the three nodes), under a
steady stream of writes that each publish events, while nodes go away:

1. the leader of outreach's queue is stopped (`rabbitmqctl stop_app`), the load goes on, it is started again;
2. then another node is killed outright (SIGKILL of its VM): the one a projects relay publishes through, so the
   publishers fail over too; it is started again;
3. then two nodes at once (both followers of outreach's queue) are stopped for a while: the quorum queues have
   no majority, so nothing can be published or delivered; one is started again, then the other.

Pass: every accepted write's events reached both consumers (outreach's partner read model, notifications' ops
log and both inboxes), none was applied twice (exact counts), nothing was dead-lettered. With one node down,
publishing never paused longer than the queues' leader election plus the relay's longest backoff and one publish
timeout (a batch sent as its queue's leader went away waits that long for its confirms); without a majority, no
longer than the time without it plus a backoff, a publish timeout and QUORUM_RECOVERY_S. The consumers went on
in the same processes (same pids; events published after the last node came back consumed). The figures are
written to var/cluster-test.json for the README.
"""

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from medic.shared.auth import Role
from medic.shared.contracts import PartnerRegisteredV1
from medic.shared.topology import Topology
from tests.cluster.rabbit_cluster import Node, RabbitCluster
from tests.make_run import SERVICES
from tests.replicas.drive import eventually, token
from tests.replicas.processes import ReplicaSet, running_replicas

pytestmark = [pytest.mark.integration, pytest.mark.cluster]

REPOSITORY = Path(__file__).resolve().parents[2]
FIGURES = REPOSITORY / "var" / "cluster-test.json"
REGISTERED = PartnerRegisteredV1.event_type
CONSUMERS = ("outreach", "notifications")
INBOX_QUERY = "SELECT event_id FROM inbox WHERE event_type = $1"

MAX_BACKOFF_S = 2.0
PUBLISH_TIMEOUT_S = 3.0
ENVIRONMENT = {
    "OUTBOX_MAX_BACKOFF_S": str(MAX_BACKOFF_S),
    "PUBLISH_TIMEOUT_S": str(PUBLISH_TIMEOUT_S),
    "OUTBOX_SWEEP_INTERVAL_S": "0.5",
}
# A member back after an outage replays what it missed before the leader can commit again (seen: up to ~3 s).
QUORUM_RECOVERY_S = 5.0
WRITERS = 3  # concurrent clients, each writing one partner after another
DOWN_S = 6.0  # how long each node stays away while the load goes on
SETTLE_S = 3.0  # load between a node's return and the next step


@pytest.fixture
async def replicas(cluster: RabbitCluster, tmp_path: Path) -> AsyncIterator[ReplicaSet]:
    async with running_replicas(tmp_path, rabbitmq_urls=cluster.urls, extra_env=ENVIRONMENT) as replica_set:
        yield replica_set


@pytest.fixture
async def db(replicas: ReplicaSet) -> AsyncIterator[dict[str, asyncpg.Connection]]:
    """A connection to each service's database, opened before the load: while they catch up, the replicas
    may take most of the server's connections."""
    async with contextlib.AsyncExitStack() as stack:
        connections = {}
        for service in SERVICES:
            url = replicas.processes(service)[0].env[f"{service.upper()}_DATABASE_URL"]
            dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            connections[service] = await asyncpg.connect(dsn)
            stack.push_async_callback(connections[service].close)
        yield connections


@dataclass
class Load:
    """Partners registered one after another by a few clients, spread over the projects replicas."""

    urls: list[str]
    accepted: list[tuple[uuid.UUID, float]] = field(default_factory=list)  # (partner id, monotonic time)
    refused: list[str] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {token(Role.COORDINATOR, Role.OPS)}"}
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            await asyncio.gather(*(self._write(client, writer) for writer in range(WRITERS)))

    async def _write(self, client: httpx.AsyncClient, writer: int) -> None:
        turn = writer
        while not self._stop.is_set():
            turn += 1
            body = {
                "name": f"Cluster test partner {uuid.uuid4().hex[:12]}",
                "kind": "charity",
                "contact_email": "partners@cluster-test.example",
                "areas_of_work": ["food poverty"],
            }
            try:
                response = await client.post(f"{self.urls[turn % len(self.urls)]}/partners", json=body)
            except httpx.TransportError as error:
                self.refused.append(repr(error))
                continue
            if response.status_code != 201:
                self.refused.append(f"{response.status_code} {response.text[:200]}")
                continue
            self.accepted.append((uuid.UUID(response.json()["id"]), time.monotonic()))

    def stop(self) -> None:
        self._stop.set()

    def ids(self) -> set[uuid.UUID]:
        return {partner_id for partner_id, _ in self.accepted}


@dataclass
class Failover:
    node: str
    how: str  # stop_app, or kill (SIGKILL of the node's VM)
    why: str  # what made it the target
    stopped_at: datetime
    elections: dict[str, tuple[str, float]] = field(default_factory=dict)  # queue -> (new leader, s after the stop)
    back_at: datetime | None = None
    longest_publish_pause_s: float = 0.0

    @property
    def leader_elected_s(self) -> float:
        """The broker's failover: until every queue it led had a new leader (0 if it led none)."""
        return max((elected_s for _, elected_s in self.elections.values()), default=0.0)

    def figures(self) -> dict[str, Any]:
        return {
            "node": self.node.split("@")[0],
            "how": self.how,
            "why": self.why,
            "new_leaders_elected_s": {queue: round(s, 2) for queue, (_, s) in self.elections.items()},
            "down_s": round((self.back_at - self.stopped_at).total_seconds(), 1) if self.back_at else None,
            "longest_publish_pause_s": round(self.longest_publish_pause_s, 2),
        }


async def not_ready_replicas(replicas: ReplicaSet) -> dict[str, str]:
    """Each replica whose /readyz does not answer 200, with what it said."""
    problems = {}
    async with httpx.AsyncClient(timeout=15) as client:
        for process in replicas.all():
            response = await client.get(f"{process.url}/readyz")
            if response.status_code != 200:
                problems[process.log_path.name] = response.text[:300]
    return problems


def relay_node(cluster: RabbitCluster, replicas: ReplicaSet, index: int) -> Node | None:
    """The node a projects replica's relay publishes through now (its last `publisher.connected`)."""
    connected = [r["broker"] for r in replicas.records("projects", index) if r.get("event") == "publisher.connected"]
    return next((node for node in cluster.nodes if connected and connected[-1].endswith(f":{node.port}/")), None)


async def take_away(cluster: RabbitCluster, node: Node, how: str, why: str, queues: list[str]) -> Failover:
    """Stop (stop_app) or kill `node`; returns once every one of `queues` it led has another leader."""
    led = [queue for queue in queues if await asyncio.to_thread(cluster.queue_leader, queue) == node.name]
    witness = next(other for other in cluster.nodes if other is not node)
    watches = {queue: cluster.watch_leader(queue, old=node.name, via=witness) for queue in led}
    try:
        await asyncio.sleep(1.5)  # the watches' CLI start-up
        stopped_at = datetime.now(UTC)
        await asyncio.to_thread(cluster.stop_app if how == "stop_app" else cluster.kill, node)
        failover = Failover(node.name, how, why, stopped_at)
        for queue, watch in watches.items():
            leader, at = await asyncio.to_thread(watch.result)
            failover.elections[queue] = (leader, at - stopped_at.timestamp())
        return failover
    finally:
        for watch in watches.values():
            watch.stop()


async def bring_back(cluster: RabbitCluster, failover: Failover) -> None:
    node = cluster.node(failover.node)
    await asyncio.to_thread(cluster.start_app if failover.how == "stop_app" else cluster.relaunch, node)
    failover.back_at = datetime.now(UTC)


@dataclass
class MajorityLoss:
    nodes: list[str]
    lost_at: datetime  # the second stop_app was issued
    back_at: datetime  # the first of them answered again (a majority again)
    all_back_at: datetime
    longest_publish_pause_s: float = 0.0
    resumed_after_majority_back_s: float = 0.0

    @property
    def without_majority_s(self) -> float:
        return (self.back_at - self.lost_at).total_seconds()

    def figures(self) -> dict[str, Any]:
        return {
            "nodes": [node.split("@")[0] for node in self.nodes],
            "how": "stop_app both followers of the queue, then start_app one, then the other",
            "without_majority_s": round(self.without_majority_s, 1),
            "longest_publish_pause_s": round(self.longest_publish_pause_s, 2),
            "publishing_resumed_after_majority_back_s": round(self.resumed_after_majority_back_s, 2),
        }


async def lose_the_majority(cluster: RabbitCluster, queue: str) -> MajorityLoss:
    """Stop both nodes that do not lead `queue` for DOWN_S, then start them again one after the other."""
    leader = await asyncio.to_thread(cluster.queue_leader, queue)
    followers = [node for node in cluster.nodes if node.name != leader]
    await asyncio.to_thread(cluster.stop_app, followers[0])
    lost_at = datetime.now(UTC)
    await asyncio.to_thread(cluster.stop_app, followers[1])
    await asyncio.sleep(DOWN_S)
    await asyncio.to_thread(cluster.start_app, followers[0])
    back_at = datetime.now(UTC)
    await asyncio.sleep(SETTLE_S)
    await asyncio.to_thread(cluster.start_app, followers[1])
    return MajorityLoss([node.name for node in followers], lost_at, back_at, datetime.now(UTC))


def publish_pauses(published: list[datetime]) -> list[tuple[datetime, float]]:
    """(start, length in s) of each pause between consecutive publishes, longest first."""
    ordered = sorted(published)
    pauses = [(earlier, (later - earlier).total_seconds()) for earlier, later in itertools.pairwise(ordered)]
    return sorted(pauses, key=lambda pause: -pause[1])


@pytest.mark.timeout(420)  # about 150 s here, the cluster forming included
async def test_no_event_is_lost_or_applied_twice_when_nodes_fail_under_load(
    cluster: RabbitCluster, replicas: ReplicaSet, db: dict[str, asyncpg.Connection]
) -> None:
    topology = Topology(replicas.namespace)
    queues = [topology.consumer_queue_name(service) for service in CONSUMERS]
    pids = {process.log_path.name: process.pid for process in replicas.all()}
    load = Load(replicas.urls("projects"))
    loading = asyncio.create_task(load.run())
    failovers: list[Failover] = []
    try:
        await asyncio.sleep(SETTLE_S)
        # 1. The leader of outreach's queue, stopped gracefully.
        leader = cluster.node(await asyncio.to_thread(cluster.queue_leader, queues[0]))
        failovers.append(await take_away(cluster, leader, "stop_app", f"leader of {queues[0]}", queues))
        # Ready while any node answers (each readiness check tries the addresses from a random one).
        not_ready = await not_ready_replicas(replicas)
        await asyncio.sleep(max(0.0, DOWN_S - failovers[-1].leader_elected_s))
        await bring_back(cluster, failovers[-1])
        await asyncio.sleep(SETTLE_S)
        # 2. Another node, killed: the one a relay publishes through, so the publishers' failover is exercised.
        relay = next((n for i in (0, 1) if (n := relay_node(cluster, replicas, i)) and n is not leader), None)
        second = relay or cluster.node(await asyncio.to_thread(cluster.queue_leader, queues[0]))
        why = "a projects relay publishes through it" if relay else f"leader of {queues[0]}"
        failovers.append(await take_away(cluster, second, "kill", why, queues))
        await asyncio.sleep(DOWN_S)
        await bring_back(cluster, failovers[-1])
        await asyncio.sleep(SETTLE_S)
        # 3. Two nodes at once: the queues' followers, so the leaders are left without a majority for a while.
        outage = await lose_the_majority(cluster, queues[0])
        await asyncio.sleep(SETTLE_S)
    finally:
        load.stop()
        await loading
    load_ended = time.monotonic()

    # What reached the consumers: waited for, then measured, written down, and only then judged.
    accepted = load.ids()
    outreach_db, notifications_db, projects_db = (db[s] for s in ("outreach", "notifications", "projects"))

    async def all_consumed() -> bool:
        known = await outreach_db.fetch("SELECT count(*) AS n FROM known_partners")
        logged = await notifications_db.fetch("SELECT count(*) AS n FROM event_log WHERE type = $1", REGISTERED)
        return bool(known[0]["n"] >= len(accepted) and logged[0]["n"] >= len(accepted))

    with contextlib.suppress(AssertionError):  # what is missing is counted below
        await eventually(all_consumed, "every registration in outreach and in the ops log", timeout_s=60)
    known = [uuid.UUID(str(row["id"])) for row in await outreach_db.fetch("SELECT id FROM known_partners")]
    logged = await notifications_db.fetch(
        "SELECT event_id, data->>'partner_id' AS partner FROM event_log WHERE type = $1", REGISTERED
    )
    outbox = await projects_db.fetch(
        "SELECT event_id, state, published_at FROM outbox WHERE event_type = $1", REGISTERED
    )
    inboxes = {
        service: [row["event_id"] for row in await db[service].fetch(INBOX_QUERY, REGISTERED)] for service in CONSUMERS
    }
    logged_partners = [uuid.UUID(row["partner"]) for row in logged]
    published_ids = sorted(row["event_id"] for row in outbox)
    applied = {
        "outreach read model": known,
        "notifications ops log": logged_partners,
        **{f"{service} inbox": ids for service, ids in inboxes.items()},
    }
    dead_lettered = {
        service: (await asyncio.to_thread(cluster.queue_info, topology.dead_letter_queue_name(service)))["messages"]
        for service in CONSUMERS
    }

    # Publishing paused no longer than the broker's failover plus the relay's backoff (and one publish timeout:
    # a batch sent as its queue's leader went away may wait that long for confirms).
    pauses = publish_pauses([row["published_at"] for row in outbox])
    for failover in failovers:
        assert failover.back_at is not None
        window = (failover.stopped_at - timedelta(seconds=1), failover.back_at + timedelta(seconds=SETTLE_S))
        failover.longest_publish_pause_s = max((s for at, s in pauses if window[0] <= at <= window[1]), default=0.0)
    majority_lost_from = outage.lost_at - timedelta(seconds=1)
    longest_pause_s = max((s for at, s in pauses if at < majority_lost_from), default=0.0)
    bound_s = max(f.leader_elected_s for f in failovers) + MAX_BACKOFF_S + PUBLISH_TIMEOUT_S
    # Without a majority nothing can be published: the pause lasts until a second node is back, then at most a
    # stuck publish's timeout, a backoff, and the returning member catching up before the leader commits again.
    outage_pause = max(((at, s) for at, s in pauses if at >= majority_lost_from), key=lambda p: p[1], default=None)
    if outage_pause is not None:
        outage.longest_publish_pause_s = outage_pause[1]
        resumed_at = outage_pause[0] + timedelta(seconds=outage_pause[1])
        outage.resumed_after_majority_back_s = (resumed_at - outage.back_at).total_seconds()
    outage_bound_s = outage.without_majority_s + MAX_BACKOFF_S + PUBLISH_TIMEOUT_S + QUORUM_RECOVERY_S

    events_published = (await db["notifications"].fetch("SELECT count(*) AS n FROM inbox"))[0]["n"]
    reconnects = {
        process.log_path.name: sum(1 for r in process.records() if r.get("event") == "consumer.reconnected")
        for service in CONSUMERS
        for process in replicas.processes(service)
    }
    publish_failures = sum(
        1
        for process in replicas.processes("projects")
        for r in process.records()
        if r.get("event") == "outbox.publish_failed"
    )
    same_pids = {process.log_path.name: process.pid for process in replicas.all()} == pids
    figures = {
        "nodes": len(cluster.nodes),
        "replicas_per_service": len(replicas.processes("projects")),
        "writes_accepted": len(accepted),  # partner registrations
        "events_under_load": events_published,  # of every type: a registration publishes more than one
        "load_s": round(load_ended - load.accepted[0][1], 1) if load.accepted else 0,
        "failovers": [f.figures() for f in failovers],
        "longest_publish_pause_s": round(longest_pause_s, 2),
        "publish_pause_bound_s": round(bound_s, 2),
        "majority_lost": outage.figures() | {"publish_pause_bound_s": round(outage_bound_s, 2)},
        "relay_max_backoff_s": MAX_BACKOFF_S,
        "publish_timeout_s": PUBLISH_TIMEOUT_S,
        "relay_publish_failures": publish_failures,
        "consumer_reconnects": reconnects,
        "lost": {where: len(accepted - set(ids)) for where, ids in applied.items() if "inbox" not in where},
        "applied_twice": {where: sum(n - 1 for n in Counter(ids).values()) for where, ids in applied.items()},
        "dead_lettered": dead_lettered,
        "same_pids": same_pids,
    }
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n")
    print("cluster failover figures:", json.dumps(figures, indent=2))

    assert not load.refused, load.refused[:5]
    assert not not_ready, f"not ready with one node down: {not_ready}"
    # Every write's event reached both consumers, once; nothing was dead-lettered.
    assert sorted(known) == sorted(accepted)
    assert sorted(logged_partners) == sorted(accepted)
    assert len(outbox) == len(accepted) and {row["state"] for row in outbox} == {"published"}
    for service, ids in inboxes.items():
        assert sorted(ids) == published_ids, service
    assert sorted(row["event_id"] for row in logged) == published_ids
    assert dead_lettered == dict.fromkeys(CONSUMERS, 0)

    # The same processes throughout, each consumer attached again, and what came after the last failover consumed.
    assert same_pids and all(process.alive() for process in replicas.all())
    for service in CONSUMERS:
        info = await asyncio.to_thread(cluster.queue_info, topology.consumer_queue_name(service))
        assert info["consumers"] == 2, (service, info)
        assert set(info["online"]) == {node.name for node in cluster.nodes}, (service, info)
    assert failovers[0].elections, "the first node stopped led a queue"
    after = [row for row in outbox if row["published_at"] > outage.all_back_at]
    assert len(after) > 10, "the load went on after the last failover"

    assert longest_pause_s <= bound_s, (pauses[:3], figures)
    assert outage.longest_publish_pause_s <= outage_bound_s, (pauses[:3], figures)
