"""Throughput and latency of the event pipeline, against raw aio-pika on the same broker.

    uv run python bench/pipeline.py [--messages 10000] [--rates 500,200] [--duration 10] [--writers 8]
    uv run python bench/pipeline.py --smoke     # seconds, small numbers: `make test` runs it

Needs RabbitMQ and PostgreSQL (defaults: the local ones). The bench makes a throw-away database
`bench_<hex>` and drops it at the end; every phase runs in its own broker namespace `bench-<hex>`,
declared with `declare_consumer` and removed with `delete_namespace`, on freshly truncated tables.

1. raw publish    aio-pika, publisher confirms, a window of `--in-flight` unconfirmed messages, persistent
                  ~300-byte JSON, mandatory, to the events exchange, routed to a quorum queue;
2. raw consume    aio-pika draining those messages, prefetch `--prefetch`, one ack per message;
3. relay          `OutboxRelay.publish_pending()` in a loop over N pre-filled pending outbox rows, with the
                  real `RabbitEventPublisher` (target: >= 0.7 x raw publish);
4. end to end     writers commit a state row and an outbox row through `UnitOfWork` (which hands them to the
                  relay), a running `OutboxRelay.run()`, and an `EventConsumer` behind a `ConsumerBroker`
                  whose handler inserts a row beside the PostgreSQL inbox. Paced at each of `--rates` for
                  `--duration` seconds (targets: p99 <= 25 ms and <= 1.5 ms of CPU per event at 500/s, p99
                  <= 5 ms and <= 3 ms at 200/s), then unpaced with `--writers` concurrent writers (targets:
                  >= 0.2 x raw consume, <= 1.5 ms of CPU per event).
5. webhook fan-out  signed webhook deliveries to `--receivers` loopback receivers (aiohttp servers in a child
                  process, one port each), `--deliveries` per receiver: 5a raw, an aiohttp client POSTing the same
                  bodies with the same signatures and concurrency, no database (the baseline); 5b the notifications
                  service's `WebhookDispatcher` draining pre-queued deliveries from PostgreSQL, signing each attempt
                  and recording every attempt (target: >= 1,000 deliveries/s); 5c the same with one receiver
                  sleeping 10 s per request: the others' rate may drop by less than 10% against 5b.
                  Each run `--repeat` times, interleaved; the medians count.

Writers and relay run in this process (the publishing service); the consumer runs in a child process (the
consuming service), as they would in production. Latency is from the moment the writer's commit returned to
the moment the consumer's commit returned (both `time.time()` on the same machine), split into stages: the
relay's part (until the broker confirmed), the broker's (until the consumer's unit of work began), and the
consumer's. The CPU each party used (this process, the consumer, RabbitMQ, PostgreSQL, anyone else) is
printed per event, beside its ratio to the raw baseline (phases 1 + 2: a raw publish plus a raw consume) of
the same run: on a small or shared machine that, more than any one component, sets the pace. The run exits 1
unless every event was applied exactly once.
"""

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any, ClassVar, TypeVar

import aio_pika
import asyncpg
import uvloop
from aio_pika.abc import DeliveryMode
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, Uuid, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.notifications.adapters.webhook_sender import WebhookSender
from medic.notifications.bootstrap import MIGRATIONS as NOTIFICATIONS_MIGRATIONS
from medic.notifications.bootstrap import build as build_notifications
from medic.notifications.domain import webhook_signing
from medic.notifications.domain.partner_events import CATALOGUE
from medic.notifications.service_layer import webhook_endpoints, webhook_messages
from medic.notifications.service_layer.webhook_dispatcher import WebhookDispatcher
from medic.notifications.settings import NotificationsSettings
from medic.shared.consumer import EventConsumer, Subscription
from medic.shared.consumer_broker import ConsumerBroker
from medic.shared.db import create_engine, migrate
from medic.shared.events import Envelope, EventPayload, RawEnvelope
from medic.shared.inbox import inbox_table
from medic.shared.logging import configure_logging
from medic.shared.outbox import OutboxState, outbox_table
from medic.shared.publisher import OutgoingEvent, RabbitEventPublisher
from medic.shared.relay import OutboxRelay
from medic.shared.runtime import freeze_startup_objects
from medic.shared.settings import ServiceSettings
from medic.shared.topology import Topology, declare_consumer, delete_namespace
from medic.shared.uow import UnitOfWork

RAW_SERVICE = "sink"  # the queue phases 1-3 publish to
CONSUMER = "bench"  # the EventConsumer of phase 4

RELAY_TARGET = 0.7  # relay publish rate / raw publish rate
E2E_TARGET = 0.2  # unpaced end-to-end rate / raw consume rate
UNPACED_CPU_TARGET_MS = 1.5  # CPU per event, all parties, unpaced
FANOUT_TARGET = 1000.0  # signed webhook deliveries per second
SLOW_RECEIVER_TARGET = 0.1  # the most one receiver sleeping 10 s may lower the others' rate
SLOW_RECEIVER_SLEEP_S = 10.0
# Offered rate -> (p99 commit -> consumer commit, CPU per event of all parties), in ms.
PACED_TARGETS: dict[float, tuple[float, float]] = {500.0: (25.0, 1.5), 200.0: (5.0, 3.0)}


class BenchItemRecorded(EventPayload):
    event_type: ClassVar[str] = "bench.item.recorded.v1"
    source: ClassVar[str] = "/bench"

    seq: int
    writer: int


EVENT_TYPE = BenchItemRecorded.event_type


def make_envelope(seq: int, writer: int = 0) -> Envelope[EventPayload]:
    return Envelope.wrap(BenchItemRecorded(seq=seq, writer=writer), subject=None, correlation_id=uuid.uuid4())


def outgoing(seq: int) -> OutgoingEvent:
    """An event serialised exactly as `add_to_outbox` stores it (~300 bytes of JSON)."""
    env = make_envelope(seq)
    return OutgoingEvent(env.id, env.type, env.model_dump_json(serialize_as_any=True).encode())


@dataclass(frozen=True)
class Tables:
    metadata: MetaData
    outbox: Table
    inbox: Table
    items: Table  # the writers' state change
    applied: Table  # the consumer's state change

    @classmethod
    def define(cls) -> "Tables":
        metadata = MetaData()
        items = Table(
            "bench_item",
            metadata,
            Column("id", BigInteger, primary_key=True, autoincrement=True),
            Column("seq", Integer, nullable=False),
            Column("writer", Integer, nullable=False),
        )
        applied = Table(
            "bench_applied",
            metadata,
            Column("event_id", Uuid, primary_key=True),
            Column("seq", Integer, nullable=False),
        )
        return cls(metadata, outbox_table(metadata), inbox_table(metadata), items, applied)

    async def reset(self, engine: AsyncEngine) -> None:
        names = ", ".join(table.name for table in self.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))


# --- measuring -------------------------------------------------------------------------------------------


CPU_USERS = ("bench", "consumer", "rabbitmq", "postgres", "other")
SERVERS: dict[str, int] = {}  # "rabbitmq", "postgres": the pid listening on the URL's port, when it can be seen


def _proc_stat(pid: str) -> tuple[str, int, int, int]:
    """(command, parent pid, CPU ticks used, CPU ticks of its reaped children) from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        line = stat.read()
    fields = line[line.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = map(int, fields[11:15])
    return line[line.index("(") + 1 : line.rindex(")")], int(fields[1]), utime + stime, cutime + cstime


def listening_pid(port: int) -> int | None:
    """The process listening on a local TCP port, found through /proc."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    sockets.add(f"socket:[{fields[9]}]")
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if any(os.readlink(fd.path) in sockets for fd in os.scandir(f"{entry.path}/fd")):
                    return int(entry.name)
    return None


def _cpu_ticks() -> dict[str, int]:
    """CPU time used so far, in clock ticks: by the whole machine ("busy", "total") and by who used it.

    "bench" is this process, "consumer" its children; a server counts with its children, living or reaped
    (PostgreSQL forks a backend per connection). Whatever is left of "busy" is someone else's: on a shared
    machine, other users' tests and brokers."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    ticks = {"total": sum(values), "busy": sum(values) - values[3] - values[4]}  # less idle and iowait
    owners = {os.getpid(): "bench"} | {pid: name for name, pid in SERVERS.items()}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            _, ppid, used, reaped = _proc_stat(entry.name)
        except OSError:
            continue  # it has just exited
        pid = int(entry.name)
        if pid in owners:
            user = owners[pid]
            used += reaped if user != "bench" else 0
        elif owners.get(ppid) in ("rabbitmq", "postgres"):
            user = owners[ppid]
        elif ppid == os.getpid():
            user = "consumer"
        else:
            continue
        ticks[user] = ticks.get(user, 0) + used
    return ticks


@dataclass
class Clock:
    """Wall time over one measured stretch, and the CPU used meanwhile, in cores (1.0 = one core busy)."""

    wall_start: float = field(default_factory=time.perf_counter)
    ticks_start: dict[str, int] = field(default_factory=_cpu_ticks)
    seconds: float = 0.0
    cores: dict[str, float] = field(default_factory=dict)

    def stop(self) -> "Clock":
        self.seconds = time.perf_counter() - self.wall_start
        ticks = _cpu_ticks()
        per_core = max(1, ticks["total"] - self.ticks_start["total"]) / (os.cpu_count() or 1)
        used = {user: (ticks.get(user, 0) - self.ticks_start.get(user, 0)) / per_core for user in ticks}
        self.cores = {user: max(0.0, used.get(user, 0.0)) for user in CPU_USERS[:-1]}
        self.cores["other"] = max(0.0, used["busy"] - sum(self.cores.values()))
        return self


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class TimedPublisher:
    """The relay's `EventPublisher`, counting batches and the time spent waiting for the broker."""

    def __init__(self, inner: RabbitEventPublisher) -> None:
        self.inner = inner
        self.batches = 0
        self.events = 0
        self.seconds = 0.0
        self.confirmed_at: dict[uuid.UUID, float] = {}  # time.time() when publish() returned

    async def publish(self, events: Sequence[OutgoingEvent]) -> list[BaseException | None]:
        started = time.perf_counter()
        try:
            return await self.inner.publish(events)
        finally:
            if events:
                self.seconds += time.perf_counter() - started
                now = time.time()
                self.confirmed_at.update((event.event_id, now) for event in events)
                self.batches += 1
                self.events += len(events)

    async def connect(self) -> None:
        await self.inner.publish([])  # opens the connection and channel before a clock starts

    async def reset(self) -> None:
        await self.inner.reset()

    async def close(self) -> None:
        await self.inner.close()


@dataclass
class Throughput:
    name: str
    messages: int
    seconds: float
    clock: Clock  # for the CPU used over the run
    notes: list[str] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)  # of every repetition, when this is their median

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def median_run(runs: Sequence[Throughput]) -> Throughput:
    """The run with the median rate, carrying the rates of all of them."""
    ranked = sorted(runs, key=lambda run: run.rate)
    median = ranked[(len(ranked) - 1) // 2]  # the lower one of an even count
    median.rates = [run.rate for run in ranked]
    return median


@dataclass
class EndToEnd:
    throughput: Throughput
    lost: int
    applied_twice: int  # events the consumer's handler ran for more than once: must be 0
    stages_ms: dict[str, list[float]]  # each ascending; the first is the whole way, writer's commit to consumer's

    @property
    def latencies_ms(self) -> list[float]:
        return next(iter(self.stages_ms.values()))


# --- broker namespaces and the scratch database -------------------------------------------------------------


@contextlib.asynccontextmanager
async def fresh_namespace(rabbitmq_url: str, service: str, *, declare: bool) -> AsyncIterator[Topology]:
    """A namespace of its own for one phase; its queues and exchanges are deleted afterwards."""
    topology = Topology(f"bench-{uuid.uuid4().hex[:12]}")
    settings = ServiceSettings()
    connection = await aio_pika.connect(rabbitmq_url, timeout=10)
    async with connection:
        if declare:
            await declare_consumer(
                await connection.channel(),
                topology,
                service,
                event_types=[EVENT_TYPE],
                delivery_limit=settings.queue_delivery_limit,
                retry_delay_ms=settings.consumer_retry_delay_ms,
            )
        try:
            yield topology
        finally:
            await delete_namespace(await connection.channel(), topology, [service])


@contextlib.asynccontextmanager
async def scratch_database(server_url: str) -> AsyncIterator[str]:
    """A new PostgreSQL database, dropped afterwards; yields its SQLAlchemy (asyncpg) URL."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def warm_pool(engine: AsyncEngine, connections: int = 10) -> None:
    """Open the pool's connections before a clock starts, so no phase pays for connecting."""

    async def ping() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await asyncio.sleep(0.05)  # hold it, so the others open their own

    await asyncio.gather(*(ping() for _ in range(connections)))


# --- phases 1 and 2: raw aio-pika --------------------------------------------------------------------------


async def raw_publish(rabbitmq_url: str, topology: Topology, events: Sequence[OutgoingEvent], in_flight: int) -> Clock:
    connection = await aio_pika.connect(rabbitmq_url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(topology.events_exchange.name, ensure=False)
        window = asyncio.Semaphore(in_flight)

        async def publish(event: OutgoingEvent) -> None:
            try:
                # The same message the relay's publisher sends, so the two rates compare like with like.
                await exchange.publish(
                    aio_pika.Message(
                        event.body,
                        message_id=str(event.event_id),
                        type=event.event_type,
                        content_type="application/json",
                        delivery_mode=DeliveryMode.PERSISTENT,
                    ),
                    routing_key=event.event_type,
                    mandatory=True,
                )
            finally:
                window.release()

        clock = Clock()
        tasks: list[asyncio.Task[None]] = []
        for event in events:
            await window.acquire()
            tasks.append(asyncio.create_task(publish(event)))
        await asyncio.gather(*tasks)  # raises if any publish was not confirmed
        return clock.stop()


async def raw_consume(rabbitmq_url: str, topology: Topology, count: int, prefetch: int) -> Clock:
    connection = await aio_pika.connect(rabbitmq_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(topology.consumer_queue_name(RAW_SERVICE), ensure=False)
        received = 0
        all_received = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received == count:
                all_received.set()

        clock = Clock()
        tag = await queue.consume(on_message)
        await asyncio.wait_for(all_received.wait(), timeout=120)
        clock.stop()
        await queue.cancel(tag)
        return clock


# --- phase 3: the relay draining a pre-filled outbox -------------------------------------------------------


async def fill_outbox(engine: AsyncEngine, outbox: Table, events: Sequence[OutgoingEvent]) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "event_id": e.event_id,
            "event_type": e.event_type,
            "body": e.body,
            "state": OutboxState.PENDING.value,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }
        for e in events
    ]
    async with engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            await connection.execute(insert(outbox), rows[start : start + 2000])
        await connection.execute(text(f"ANALYZE {outbox.name}"))


async def relay_drain(
    engine: AsyncEngine, tables: Tables, rabbitmq_url: str, topology: Topology, count: int
) -> Throughput:
    settings = ServiceSettings()
    publisher = TimedPublisher(RabbitEventPublisher(rabbitmq_url, topology, timeout_s=settings.publish_timeout_s))
    relay = OutboxRelay(engine, tables.outbox, publisher, batch_size=settings.outbox_batch_size)
    await publisher.connect()
    try:
        clock = Clock()
        published = 0
        while published < count:
            batch = await relay.publish_pending()
            if batch == 0:
                raise RuntimeError(f"the relay found nothing to publish after {published} of {count}")
            published += batch
        clock.stop()
    finally:
        await relay.close()
    async with engine.connect() as connection:
        done = (await connection.execute(text("SELECT count(*) FROM outbox WHERE state = 'published'"))).scalar_one()
    if done != count:
        raise RuntimeError(f"{done} of {count} outbox rows marked published")
    waiting = publisher.seconds / clock.seconds
    return Throughput(
        "3 outbox relay, publish_pending loop",
        count,
        clock.seconds,
        clock,
        notes=[
            f"{publisher.batches} batches of ~{count // max(1, publisher.batches)}; "
            f"{waiting:.0%} of the time inside RabbitEventPublisher.publish (send + confirm), "
            f"{1 - waiting:.0%} claiming, marking and committing in PostgreSQL"
        ],
    )


# --- phase 4: writers -> outbox -> relay -> broker -> consumer -> inbox --------------------------------


@dataclass(frozen=True)
class ConsumerSpec:
    rabbitmq_url: str
    database_url: str
    namespace: str
    prefetch: int
    log_level: str
    log_file: str
    drain_timeout_s: float


# What the consumer notes about each event: seq, then when (time.time()) its unit of work was entered, when it
# had its pooled connection (checked out and pre-pinged; BEGIN goes with the first statement), and when its
# commit returned: the end of the end-to-end path.
Handled = tuple[int, float, float, float]


class TimedUnitOfWork(UnitOfWork):
    """The consumer's unit of work, noting the times of `Handled`."""

    def __init__(self, engine: AsyncEngine, *, inbox: Table, on_commit: Callable[[Handled], None]) -> None:
        super().__init__(engine, inbox=inbox)
        self._on_commit = on_commit
        self.seqs: list[int] = []  # appended to by the handler: a batch applies several
        self._entered_at = self._connected_at = 0.0

    async def __aenter__(self) -> "TimedUnitOfWork":
        self._entered_at = time.time()
        self.seqs = []
        await super().__aenter__()
        self._connected_at = time.time()
        return self

    async def commit(self) -> None:
        await super().commit()
        committed_at = time.time()
        for seq in self.seqs:
            self._on_commit((seq, self._entered_at, self._connected_at, committed_at))


class Applied:
    """What the consumer has handled, and a way to wait until it is enough."""

    def __init__(self) -> None:
        self.records: list[Handled] = []
        self._wanted = math.inf
        self._enough = asyncio.Event()

    def record(self, handled: Handled) -> None:
        self.records.append(handled)
        if len(self.records) >= self._wanted:
            self._enough.set()

    async def wait_for(self, wanted: int, timeout_s: float) -> int:
        self._wanted = wanted
        if len(self.records) < wanted:
            self._enough.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._enough.wait(), timeout_s)
        return len(self.records)


T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """On uvloop, as the services run under uvicorn; the raw baselines get the same loop."""
    return uvloop.run(main)


def consumer_process(spec: ConsumerSpec, pipe: Connection) -> None:
    """Entry point of the child process that plays the consuming service."""
    try:
        with open(spec.log_file, "a") as log_stream:
            configure_logging("bench-consumer", spec.log_level, stream=log_stream)
            run(_consume(spec, pipe))
    except BaseException as error:
        with contextlib.suppress(OSError):
            pipe.send(("error", repr(error)))
        raise


async def _consume(spec: ConsumerSpec, pipe: Connection) -> None:
    """Protocol: send "ready"; then for each int n received, reply "reached" once n events are applied in
    total (or the drain timeout passed); on None, reply with the report and stop."""
    settings = ServiceSettings(
        rabbitmq_url=spec.rabbitmq_url,
        broker_namespace=spec.namespace,
        database_url=spec.database_url,
        consumer_prefetch=spec.prefetch,
    )
    engine = create_engine(settings.database_url)
    tables = Tables.define()
    applied = Applied()

    insert_applied = insert(tables.applied)  # built once, as a repository would

    async def record_item(payload: BenchItemRecorded, envelope: RawEnvelope, uow: UnitOfWork) -> None:
        await uow.connection.execute(insert_applied, {"event_id": envelope.id, "seq": payload.seq})
        assert isinstance(uow, TimedUnitOfWork)
        uow.seqs.append(payload.seq)

    consumer = EventConsumer(
        CONSUMER,
        lambda: TimedUnitOfWork(engine, inbox=tables.inbox, on_commit=applied.record),
        {EVENT_TYPE: Subscription(BenchItemRecorded, record_item)},
    )
    broker = ConsumerBroker(consumer, settings)
    await warm_pool(engine)
    await broker.start()
    freeze_startup_objects()  # as a service's runtime does once it is up
    try:
        pipe.send(("ready", None))
        while (wanted := await asyncio.to_thread(pipe.recv)) is not None:
            pipe.send(("reached", await applied.wait_for(wanted, spec.drain_timeout_s)))
        pipe.send(("report", applied.records))
    finally:
        await broker.stop()
        await engine.dispose()


async def _receive(pipe: Connection, expected: str) -> Any:
    kind, value = await asyncio.to_thread(pipe.recv)
    if kind != expected:
        raise RuntimeError(f"consumer process: expected {expected!r}, got {kind!r}: {value}")
    return value


async def end_to_end(
    args: argparse.Namespace, engine: AsyncEngine, database_url: str, tables: Tables, *, rate: float | None
) -> EndToEnd:
    """Paced at `rate` events/s for `--duration` seconds, or unpaced (`rate` None) with `--writers` writers."""
    settings = ServiceSettings()
    await tables.reset(engine)
    async with fresh_namespace(args.rabbitmq_url, CONSUMER, declare=False) as topology:
        spec = ConsumerSpec(
            args.rabbitmq_url,
            database_url,
            topology.namespace,
            args.consumer_prefetch,
            args.log_level,
            args.log_file,
            args.drain_timeout,
        )
        context = multiprocessing.get_context("spawn")
        pipe, child_pipe = context.Pipe()
        child = context.Process(target=consumer_process, args=(spec, child_pipe), name="bench-consumer")
        child.start()
        child_pipe.close()  # so that the child's death reads as EOF here
        publisher = TimedPublisher(RabbitEventPublisher(args.rabbitmq_url, topology))
        relay = OutboxRelay(
            engine,
            tables.outbox,
            publisher,
            batch_size=settings.outbox_batch_size,
            sweep_interval_s=settings.outbox_sweep_interval_s,
            batch_wait_s=settings.outbox_batch_wait_ms / 1000,
        )
        relay_task: asyncio.Task[None] | None = None
        try:
            await _receive(pipe, "ready")  # the consumer has declared and bound its queues
            await publisher.connect()
            relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
            committed: dict[int, tuple[uuid.UUID, float, float]] = {}  # seq: event id, commit called, returned

            insert_item = insert(tables.items)  # built once, as a repository would

            async def write(seq: int, writer: int) -> None:
                event = make_envelope(seq, writer)
                async with UnitOfWork(engine, outbox=tables.outbox, relay=relay) as uow:
                    await uow.connection.execute(insert_item, {"seq": seq, "writer": writer})
                    await uow.publish(event)
                    started = time.time()
                    await uow.commit()
                    committed[seq] = (event.id, started, time.time())

            # Warm-up (not measured): first-call costs of every layer, in both processes.
            await run_writers(write, range(-args.warmup, 0), rate=rate, writers=args.writers)
            pipe.send(args.warmup)
            await _receive(pipe, "reached")
            committed.clear()
            freeze_startup_objects()
            publisher.batches = publisher.events = 0
            publisher.seconds = 0.0

            count = round(rate * args.duration) if rate else args.messages
            clock, started_at = Clock(), time.time()
            await run_writers(write, range(count), rate=rate, writers=args.writers)
            written_at = time.time()
            pipe.send(args.warmup + count)
            await _receive(pipe, "reached")
            pipe.send(None)
            report = await _receive(pipe, "report")
            clock.stop()
        finally:
            if relay_task is not None:
                relay.stop()  # as a service stops it
                await relay_task
            await relay.close()
            pipe.close()  # a child still waiting for orders reads EOF and stops
            await asyncio.to_thread(child.join, 30)
            if child.is_alive():
                child.kill()

    applied = [(seq, times) for seq, *times in report if seq >= 0]
    handled = dict(applied)
    last_commit = max(committed_at for _, _, committed_at in handled.values())
    seconds = last_commit - started_at  # the first write began .. the last consumer commit returned
    name = f"4a end to end, paced at {rate:g}/s" if rate else f"4b end to end, unpaced, {args.writers} writers"
    throughput = Throughput(name, len(handled), seconds, clock)
    last_confirm = max(publisher.confirmed_at.values()) - started_at
    throughput.notes += [
        f"writers done after {written_at - started_at:.2f}s ({count / (written_at - started_at):.0f}/s), "
        f"relay's last confirm after {last_confirm:.2f}s, consumer's last commit after {seconds:.2f}s",
        f"relay: {publisher.batches} batches, {publisher.events / max(1, publisher.batches):.1f} events per batch, "
        f"{publisher.seconds / max(1, publisher.batches) * 1000:.1f} ms per publish call, "
        f"{publisher.seconds / seconds:.0%} of the run inside publish",
    ]
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for seq, (entered, connected, consumer_committed) in handled.items():
        event_id, commit_called, writer_committed = committed[seq]
        confirmed = publisher.confirmed_at[event_id]
        for stage, start, end in zip(
            STAGES,
            (writer_committed, commit_called, writer_committed, confirmed, entered, connected),
            (consumer_committed, writer_committed, confirmed, entered, connected, consumer_committed),
            strict=True,
        ):
            stages[stage].append((end - start) * 1000)
    return EndToEnd(
        throughput,
        count - len(handled),
        len(applied) - len(handled),
        {stage: sorted(ms) for stage, ms in stages.items()},
    )


STAGES = (
    "writer's commit -> consumer's commit",
    "  (writer: UnitOfWork.commit itself)",
    "  relay: commit -> broker's confirm",
    "  broker: confirm -> consumer's UoW",
    "  consumer: pool checkout (+ pre-ping)",
    "  consumer: BEGIN, inbox, handler, COMMIT",
)


async def run_writers(
    write: Callable[[int, int], Coroutine[Any, Any, None]], seqs: range, *, rate: float | None, writers: int
) -> None:
    """Paced (open loop: one writer task started every 1/rate s, however long the others take) or, without a
    rate, `writers` concurrent writers each committing as fast as it can."""
    if rate is not None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks: list[asyncio.Task[None]] = []
        for i, seq in enumerate(seqs):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(write(seq, 0)))
        await asyncio.gather(*tasks)
        return
    pending = iter(seqs)

    async def writer(number: int) -> None:
        for seq in pending:
            await write(seq, number)

    await asyncio.gather(*(writer(n) for n in range(writers)))


# --- phase 5: webhook fan-out -----------------------------------------------------------------------------


def receivers_process(count: int, pipe: Connection) -> None:
    """Entry point of the child process that plays the partners' receivers."""
    try:
        run(_receive_webhooks(count, pipe))
    except BaseException as error:
        with contextlib.suppress(OSError):
            pipe.send(("error", repr(error)))
        raise


async def _receive_webhooks(count: int, pipe: Connection) -> None:
    """Protocol: send ("ready", ports); on "report", reply with the (port, webhook-id) pairs received since the last
    report, and forget them; on None, stop. `/slow` sleeps before answering; `/fast` answers at once."""
    from aiohttp import web

    received: list[tuple[int, str]] = []

    def handler(bound: dict[str, int], sleep_s: float) -> Any:
        async def handle(request: web.Request) -> web.Response:
            await request.read()
            received.append((bound["port"], request.headers.get("webhook-id", "")))
            if sleep_s:
                await asyncio.sleep(sleep_s)
            return web.Response(text="ok")

        return handle

    runners: list[web.AppRunner] = []
    ports: list[int] = []
    for _ in range(count):
        app = web.Application()
        bound = {"port": 0}
        app.router.add_post("/fast", handler(bound, 0))
        app.router.add_post("/slow", handler(bound, SLOW_RECEIVER_SLEEP_S))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        bound["port"] = int(runner.addresses[0][1])
        runners.append(runner)
        ports.append(bound["port"])
    freeze_startup_objects()
    try:
        pipe.send(("ready", ports))
        while (order := await asyncio.to_thread(pipe.recv)) is not None:
            del order
            batch, received[:] = list(received), []
            pipe.send(("report", batch))
    finally:
        for runner in runners:
            await runner.cleanup()


@dataclass
class FanOut:
    throughput: Throughput
    lost: int
    sent_twice: int
    others_rate: float | None = None  # 5b, 5c: deliveries/s to every receiver but the last, until they were all done


@dataclass(frozen=True)
class Planned:
    """One delivery of the raw phase: where, what, signed how."""

    port: int
    body: bytes
    message_id: str
    secret: str


async def raw_fanout(plan: Sequence[Planned], in_flight_per_receiver: int) -> Clock:
    """POST every planned delivery with an aiohttp client, as many at once per receiver as the dispatcher allows,
    each signed as the dispatcher signs; no database. The baseline of phase 5."""
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        lanes: dict[int, asyncio.Semaphore] = {}

        async def post(item: Planned) -> None:
            async with lanes.setdefault(item.port, asyncio.Semaphore(in_flight_per_receiver)):
                headers = webhook_signing.headers(item.message_id, int(time.time()), item.body, [item.secret])
                headers["Content-Type"] = "application/json"
                url = f"http://127.0.0.1:{item.port}/fast"
                async with session.post(url, data=item.body, headers=headers, allow_redirects=False) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"a receiver answered {response.status}")

        clock = Clock()
        await asyncio.gather(*(post(item) for item in plan))
        return clock.stop()


async def fanout_phases(args: argparse.Namespace, postgres_url: str) -> dict[str, FanOut]:
    """5a raw, 5b dispatcher, 5c dispatcher with one receiver sleeping; 5b and 5c each in a fresh database."""
    context = multiprocessing.get_context("spawn")
    pipe, child_pipe = context.Pipe()
    child = context.Process(target=receivers_process, args=(args.receivers, child_pipe), name="bench-receivers")
    child.start()
    child_pipe.close()
    runs: dict[str, list[FanOut]] = {"raw": [], "dispatcher": [], "slow": []}
    try:
        ports: list[int] = await _receive(pipe, "ready")
        # Repeated, interleaved, and the medians kept, as phases 1-3 are (the machine may be shared).
        for attempt in range(1, args.repeat + 1):
            sizes = f"{args.receivers} receivers x {args.deliveries} ({attempt}/{args.repeat})"
            progress(f"5a webhook fan-out, raw aiohttp, {sizes}")
            runs["raw"].append(await _raw_fanout_phase(args, ports, pipe))
            for slow in (False, True):
                progress(
                    f"{'5c webhook dispatcher, one receiver sleeping' if slow else '5b webhook dispatcher'}, {sizes}"
                )
                async with scratch_database(postgres_url) as database_url:
                    runs["slow" if slow else "dispatcher"].append(
                        await _dispatcher_phase(args, database_url, ports, pipe, slow=slow)
                    )
        results = {key: _median_fanout(key_runs) for key, key_runs in runs.items()}
    finally:
        with contextlib.suppress(OSError):
            pipe.send(None)
        pipe.close()
        await asyncio.to_thread(child.join, 30)
        if child.is_alive():
            child.kill()
    return results


def _median_fanout(runs: Sequence[FanOut]) -> FanOut:
    """The run with the median rate (carrying every run's rate), with the median of the others' rates and the
    worst of lost and duplicated deliveries over all runs."""
    median = median_run([run.throughput for run in runs])
    chosen = next(run for run in runs if run.throughput is median)
    others = sorted(run.others_rate for run in runs if run.others_rate is not None)
    return FanOut(
        median,
        max(run.lost for run in runs),
        max(run.sent_twice for run in runs),
        others[(len(others) - 1) // 2] if others else chosen.others_rate,
    )


async def _report(pipe: Connection) -> list[tuple[int, str]]:
    pipe.send("report")
    report: list[tuple[int, str]] = await _receive(pipe, "report")
    return report


def _exactly_once(report: Sequence[tuple[int, str]], expected: set[tuple[int, str]]) -> tuple[int, int]:
    """(lost, received more than once) of the expected (port, webhook-id) pairs."""
    seen: dict[tuple[int, str], int] = {}
    for pair in report:
        seen[pair] = seen.get(pair, 0) + 1
    return len(expected - set(seen)), sum(1 for pair, n in seen.items() if n > 1 and pair in expected)


async def _raw_fanout_phase(args: argparse.Namespace, ports: Sequence[int], pipe: Connection) -> FanOut:
    event_type = next(iter(CATALOGUE))
    secret = webhook_signing.new_secret()
    occurred = datetime.now(UTC)

    def plan(count: int) -> list[Planned]:
        return [
            Planned(
                port,
                webhook_messages.body(event_type, occurred, {"partner_id": str(uuid.uuid4()), "n": n}).encode(),
                f"msg_{uuid.uuid4().hex}",
                secret,
            )
            for n in range(count)
            for port in ports
        ]

    await raw_fanout(plan(20), args.webhook_in_flight)  # warm-up: connections, first-call costs
    await _report(pipe)
    measured = plan(args.deliveries)
    clock = await raw_fanout(measured, args.webhook_in_flight)
    lost, twice = _exactly_once(await _report(pipe), {(p.port, p.message_id) for p in measured})
    name = f"5a webhooks raw aiohttp, {args.webhook_in_flight} in flight/receiver"
    return FanOut(Throughput(name, len(measured), clock.seconds, clock), lost, twice)


async def _dispatcher_phase(
    args: argparse.Namespace, database_url: str, ports: Sequence[int], pipe: Connection, *, slow: bool
) -> FanOut:
    settings = NotificationsSettings.model_validate(
        {
            "NOTIFICATIONS_DATABASE_URL": database_url,
            "WEBHOOK_ALLOW_HTTP": True,
            "WEBHOOK_ALLOW_LOOPBACK": True,
            "WEBHOOK_MAX_IN_FLIGHT": args.webhook_in_flight,
        }
    )
    await migrate(NOTIFICATIONS_MIGRATIONS, database_url)
    service = build_notifications(settings, start_consumer=False)
    uow_factory = service.app.state.uow_factory
    policy = webhook_endpoints.EndpointPolicy(
        allow_http=True, allow_loopback=True, secret_overlap_s=settings.webhook_secret_overlap_s
    )
    event_type = next(iter(CATALOGUE))
    receivers: list[tuple[uuid.UUID, uuid.UUID, int]] = []  # partner, endpoint, port
    for index, port in enumerate(ports):
        path = "/slow" if slow and index == len(ports) - 1 else "/fast"
        new = webhook_endpoints.NewEndpoint(
            partner_id=uuid.uuid4(),
            url=f"http://127.0.0.1:{port}{path}",
            description="bench receiver",
            event_types=[event_type],
            enabled=True,
            rate_limit_per_s=None,
        )
        registered = await webhook_endpoints.register(uow_factory(), new, policy)
        receivers.append((registered.endpoint.partner_id, registered.endpoint.id, port))
    fast = receivers[:-1] if slow else receivers
    others = receivers[:-1]  # the receivers compared between 5b and 5c

    async def queue(count: int) -> set[tuple[int, str]]:
        """What a partner-events reaction does, 250 events to each partner per transaction."""
        queued: set[tuple[int, str]] = set()
        occurred = datetime.now(UTC)
        for start in range(0, count, 250):
            async with uow_factory() as uow:
                for n in range(start, min(count, start + 250)):
                    for partner_id, _, port in receivers:
                        payload = {"partner_id": str(partner_id), "n": n}
                        message_id = await webhook_messages.publish_to_partner(
                            uow, partner_id, event_type, payload, event_id=uuid.uuid4(), occurred_at=occurred
                        )
                        queued.add((port, message_id))
                await uow.commit()
        return queued

    engine = service.engine
    try:
        await warm_pool(engine)
        await queue(20)  # warm-up (not measured): first-call costs of every layer, the receivers' connections
        await _drain(uow_factory, settings, {endpoint_id: 20 for _, endpoint_id, _ in fast})
        await _report(pipe)
        expected = await queue(args.deliveries)
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        freeze_startup_objects()
        clock, dispatcher, done_after = await _drain(
            uow_factory, settings, {endpoint_id: args.deliveries for _, endpoint_id, _ in fast}
        )
        report = await _report(pipe)
    finally:
        await engine.dispose()
    fast_ports = {port for _, _, port in fast}
    fast_expected = {pair for pair in expected if pair[0] in fast_ports}
    lost, twice = _exactly_once([pair for pair in report if pair[0] in fast_ports], fast_expected)
    name = "5c webhooks, one receiver sleeping 10 s" if slow else f"5b webhooks dispatcher, {args.receivers} receivers"
    throughput = Throughput(name, len(fast_expected), clock.seconds, clock)
    others_rate = args.deliveries * len(others) / max(done_after[endpoint_id] for _, endpoint_id, _ in others)
    throughput.notes.append(
        f"{dispatcher.stats.claims} lane claims, {dispatcher.stats.flushes} result batches, every attempt recorded; "
        f"receivers but the last: {others_rate:.0f}/s"
        + (f"; the sleeping receiver got {sum(1 for p, _ in report if p == receivers[-1][2])} requests" if slow else "")
    )
    return FanOut(throughput, lost, twice, others_rate)


async def _drain(
    uow_factory: Callable[[], Any], settings: NotificationsSettings, wanted: dict[uuid.UUID, int]
) -> tuple[Clock, WebhookDispatcher, dict[uuid.UUID, float]]:
    """Run a dispatcher until each endpoint in `wanted` has had that many deliveries sent; returns the clock, the
    dispatcher, and the seconds after which each endpoint had had its share."""
    dispatcher = WebhookDispatcher(
        uow_factory,
        WebhookSender(timeout_s=settings.webhook_timeout_s, allow_loopback=True),
        max_in_flight=settings.webhook_max_in_flight,
        timeout_s=settings.webhook_timeout_s,
        disable_after_s=settings.webhook_disable_after_s,
        poll_interval_s=settings.webhook_poll_interval_s,
    )
    done_after: dict[uuid.UUID, float] = {}
    clock = Clock()
    task = asyncio.create_task(dispatcher.run(), name="webhook-dispatcher")
    try:
        deadline = time.monotonic() + 300
        while len(done_after) < len(wanted):
            if task.done():
                task.result()
                raise RuntimeError("the webhook dispatcher stopped")
            if time.monotonic() > deadline:
                raise RuntimeError(f"webhook deliveries not done in 300 s: {dispatcher.stats.by_endpoint}")
            for endpoint_id, count in wanted.items():
                if endpoint_id not in done_after and dispatcher.stats.by_endpoint.get(endpoint_id, 0) >= count:
                    done_after[endpoint_id] = time.perf_counter() - clock.wall_start
            await asyncio.sleep(0.002)
        clock.stop()
    finally:
        dispatcher.stop()
        await task  # writes the last results; the sleeping receiver's requests in flight are cancelled
    return clock, dispatcher, done_after


# --- the report --------------------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


PARTIES = CPU_USERS[:-1]  # who does the work; "other" is whoever else shares the machine


def cpu_ms_per_event(result: Throughput) -> dict[str, float]:
    """CPU milliseconds each party spent per event over the run, and their total."""
    per_event = {user: result.clock.cores[user] * result.seconds / result.messages * 1000 for user in PARTIES}
    return per_event | {"total": sum(per_event.values())}


def summarise(args: argparse.Namespace, results: dict[str, Any]) -> dict[str, Any]:
    """The figures and target checks, as data: printed as a table, and written as JSON with --json."""
    raw_pub: Throughput | None = results.get("raw_publish")
    raw_con: Throughput | None = results.get("raw_consume")
    relay: Throughput | None = results.get("relay")
    paced: dict[float, EndToEnd] = results.get("paced", {})
    unpaced: EndToEnd | None = results.get("unpaced")
    raw_cpu = (cpu_ms_per_event(raw_pub)["total"] + cpu_ms_per_event(raw_con)["total"]) if raw_pub and raw_con else None
    phases: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []

    def target(name: str, value: float | None, limit: float, *, at_least: bool = False) -> None:
        met = value is not None and (value >= limit if at_least else value <= limit)
        targets.append({"target": name, "value": value, "limit": limit, "met": met})

    def phase(result: Throughput, **extra: Any) -> dict[str, Any]:
        cpu = cpu_ms_per_event(result)
        entry = {
            "name": result.name,
            "messages": result.messages,
            "seconds": result.seconds,
            "rate": result.rate,
            "rates": result.rates,
            "cores": result.clock.cores,
            "cpu_ms_per_event": cpu,
            "cpu_vs_raw": cpu["total"] / raw_cpu if raw_cpu else None,
            "notes": result.notes,
        } | extra
        phases.append(entry)
        return entry

    for result in (raw_pub, raw_con):
        if result is not None:
            phase(result)
    if relay is not None:
        ratio = relay.rate / raw_pub.rate if raw_pub else None
        phase(relay, vs_raw=ratio)
        target(f"relay rate >= {RELAY_TARGET} x raw publish", ratio, RELAY_TARGET, at_least=True)
    for rate, run in sorted(paced.items(), reverse=True):
        latency = {f"p{q}": percentile(run.latencies_ms, q) for q in (50, 95, 99, 100)} if run.latencies_ms else {}
        entry = phase(
            run.throughput, vs_offered=run.throughput.rate / rate, lost=run.lost, applied_twice=run.applied_twice
        )
        entry["latency_ms"] = latency
        entry["stages_ms"] = {
            stage.strip(): {f"p{q}": percentile(v, q) for q in (50, 95, 99, 100)}
            for stage, v in run.stages_ms.items()
            if v
        }
        p99_limit, cpu_limit = PACED_TARGETS.get(rate, (math.inf, math.inf))
        target(f"p99 at {rate:g}/s <= {p99_limit:g} ms", latency.get("p99"), p99_limit)
        target(f"CPU per event at {rate:g}/s <= {cpu_limit:g} ms", entry["cpu_ms_per_event"]["total"], cpu_limit)
    if unpaced is not None:
        ratio = unpaced.throughput.rate / raw_con.rate if raw_con else None
        entry = phase(unpaced.throughput, vs_raw=ratio, lost=unpaced.lost, applied_twice=unpaced.applied_twice)
        entry["latency_ms"] = {f"p{q}": percentile(unpaced.latencies_ms, q) for q in (50, 95, 99, 100)}
        target(f"unpaced rate >= {E2E_TARGET} x raw consume", ratio, E2E_TARGET, at_least=True)
        target(
            f"CPU per event unpaced <= {UNPACED_CPU_TARGET_MS:g} ms",
            entry["cpu_ms_per_event"]["total"],
            UNPACED_CPU_TARGET_MS,
        )
    fanout: dict[str, FanOut] = results.get("fanout", {})
    raw_http = fanout.get("raw")
    if raw_http is not None:
        raw_http_cpu = cpu_ms_per_event(raw_http.throughput)["total"]
        fanout_base = fanout.get("dispatcher")
        for key, fanned in fanout.items():
            entry = phase(
                fanned.throughput,
                vs_raw=fanned.throughput.rate / raw_http.throughput.rate,
                cpu_vs_raw=cpu_ms_per_event(fanned.throughput)["total"] / raw_http_cpu,
                lost=fanned.lost,
                applied_twice=fanned.sent_twice,
                others_rate=fanned.others_rate,
            )
            if key == "dispatcher":
                target(
                    f"webhook fan-out >= {FANOUT_TARGET:g} deliveries/s", entry["rate"], FANOUT_TARGET, at_least=True
                )
            if key == "slow" and fanout_base is not None and fanout_base.others_rate and fanned.others_rate:
                lowered = 1 - fanned.others_rate / fanout_base.others_rate
                target(
                    f"a receiver sleeping {SLOW_RECEIVER_SLEEP_S:g} s lowers the others' rate by < "
                    f"{SLOW_RECEIVER_TARGET:.0%}",
                    lowered,
                    SLOW_RECEIVER_TARGET,
                )
    runs = [*paced.values(), *([unpaced] if unpaced else [])]
    fanout_once = all(fanned.lost == 0 and fanned.sent_twice == 0 for fanned in fanout.values())
    return {
        "cores": os.cpu_count(),
        "raw_cpu_ms_per_event": raw_cpu,
        "phases": phases,
        "targets": targets,
        "exactly_once": all(run.lost == 0 and run.applied_twice == 0 for run in runs) and fanout_once,
        "latency_runs": {run.throughput.name: run.stages_ms for run in runs},
    }


def print_report(args: argparse.Namespace, summary: dict[str, Any]) -> None:
    header = f"{'phase':<42} {'msgs':>6} {'secs':>6} {'msg/s':>7} {'(range)':<13} {'vs raw / offered':<18}"
    print()
    print(
        f"Pipeline benchmark - {summary['cores']} cores, {args.messages} messages, paced at "
        f"{', '.join(f'{r:g}' for r in args.rates)}/s for {args.duration:g}s each, in flight {args.in_flight}, "
        f"raw prefetch {args.prefetch}, consumer prefetch {args.consumer_prefetch}; "
        f"phases 1-3 and 5: median of {args.repeat}"
    )
    print("=" * len(header))
    print(header)
    print("-" * len(header))
    for entry in summary["phases"]:
        rates = entry["rates"]
        spread = f"({min(rates):.0f}-{max(rates):.0f})" if len(rates) > 1 else ""
        versus = (
            f"{entry['vs_raw']:.2f} x raw" if entry.get("vs_raw") is not None
            else f"{entry['vs_offered']:.2f} x offered" if "vs_offered" in entry else ""
        )  # fmt: skip
        print(
            f"{entry['name']:<42} {entry['messages']:>6} {entry['seconds']:>6.2f} {entry['rate']:>7.0f} "
            f"{spread:<13} {versus:<18}"
        )
    print()
    print("CPU per event, in ms (bench = this process: writers + relay in phase 4; consumer = the consumer process)")
    print(f"{'phase':<42} " + " ".join(f"{p:>8}" for p in (*PARTIES, "total")) + f" {'vs raw':>8} {'other':>7}")
    for entry in summary["phases"]:
        cpu = entry["cpu_ms_per_event"]
        versus = f"{entry['cpu_vs_raw']:.2f} x" if entry["cpu_vs_raw"] is not None else ""
        other = entry["cores"]["other"] * entry["seconds"] / entry["messages"] * 1000
        print(
            f"{entry['name']:<42} "
            + " ".join(f"{cpu[p]:>8.3f}" for p in (*PARTIES, "total"))
            + f" {versus:>8} {other:>7.3f}"
        )
    print("Phase 5: consumer = the receivers' process; vs raw = against 5a (raw aiohttp to the same receivers)")
    if summary["raw_cpu_ms_per_event"] is not None:
        print(f"raw baseline (1 + 2, a raw publish plus a raw consume): {summary['raw_cpu_ms_per_event']:.3f} ms/event")
    for name, stages in summary["latency_runs"].items():
        print()
        print(f"Latency of {name} (ms)")
        print(f"{'stage':<42} " + " ".join(f"{q:>7}" for q in ("p50", "p95", "p99", "max")))
        for stage, values in stages.items():
            figures = (percentile(values, q) for q in (50, 95, 99, 100)) if values else ()
            print(f"{stage:<42} " + " ".join(f"{v:>7.1f}" for v in figures))
    notes = [(entry["name"], note) for entry in summary["phases"] for note in entry["notes"]]
    if notes:
        print()
        for name, note in notes:
            print(f"{name.split(',')[0]}: {note}")
    print()
    print(f"Every event applied exactly once: {_met(summary['exactly_once'])}")
    print("Targets")
    for t in summary["targets"]:
        value = "n/a" if t["value"] is None else f"{t['value']:.2f}"
        print(f"  {t['target']}: {_met(t['met'])} ({value})")
    busiest = max(((e["cores"]["other"], e["name"]) for e in summary["phases"]), default=(0.0, ""))
    if busiest[0] > 0.2:
        print(
            f"  note: others used up to {busiest[0]:.2f} cores of this machine meanwhile ({busiest[1]}): "
            "figures are worse than on a quiet machine"
        )


# --- main ------------------------------------------------------------------------------------------------

PHASES = ("raw", "relay", "paced", "unpaced", "fanout")


async def run_phases(args: argparse.Namespace) -> dict[str, Any]:
    for server, url in (("rabbitmq", args.rabbitmq_url), ("postgres", args.postgres_url)):
        pid = listening_pid(make_url(url).port or {"rabbitmq": 5672, "postgres": 5432}[server])
        if pid is not None:
            SERVERS[server] = pid
    results: dict[str, Any] = {}
    sizes = sorted(len(outgoing(seq).body) for seq in range(100))
    print(f"message body: {sizes[0]}-{sizes[-1]} bytes of JSON", file=sys.stderr)

    async with scratch_database(args.postgres_url) as database_url:
        engine = create_engine(database_url)
        tables = Tables.define()
        try:
            async with engine.begin() as connection:
                await connection.run_sync(tables.metadata.create_all)
            await warm_pool(engine)
            # Phases 1-3 are short: repeat them, interleaved, and keep the medians (the machine may be shared).
            runs: dict[str, list[Throughput]] = {"raw_publish": [], "raw_consume": [], "relay": []}
            for attempt in range(1, args.repeat + 1):
                if "raw" in args.phases:
                    progress(f"1-2 raw publish + consume ({attempt}/{args.repeat})")
                    publish, consume = await raw_phases(args)
                    runs["raw_publish"].append(publish)
                    runs["raw_consume"].append(consume)
                if "relay" in args.phases:
                    progress(f"3 relay ({attempt}/{args.repeat})")
                    await tables.reset(engine)
                    await fill_outbox(engine, tables.outbox, [outgoing(seq) for seq in range(args.messages)])
                    async with fresh_namespace(args.rabbitmq_url, RAW_SERVICE, declare=True) as topology:
                        runs["relay"].append(
                            await relay_drain(engine, tables, args.rabbitmq_url, topology, args.messages)
                        )
            results |= {phase: median_run(phase_runs) for phase, phase_runs in runs.items() if phase_runs}
            if "paced" in args.phases:
                results["paced"] = {}
                for rate in args.rates:
                    progress(f"4a end to end, paced at {rate:g}/s for {args.duration:g}s")
                    results["paced"][rate] = await end_to_end(args, engine, database_url, tables, rate=rate)
            if "unpaced" in args.phases:
                progress(f"4b end to end, unpaced, {args.writers} writers")
                results["unpaced"] = await end_to_end(args, engine, database_url, tables, rate=None)
        finally:
            await engine.dispose()
    if "fanout" in args.phases:
        results["fanout"] = await fanout_phases(args, args.postgres_url)
    return results


async def raw_phases(args: argparse.Namespace) -> tuple[Throughput, Throughput]:
    events = [outgoing(seq) for seq in range(args.messages)]
    async with fresh_namespace(args.rabbitmq_url, RAW_SERVICE, declare=True) as topology:
        clock = await raw_publish(args.rabbitmq_url, topology, events, args.in_flight)
        name = f"1 raw publish, confirms, {args.in_flight} in flight"
        publish = Throughput(name, len(events), clock.seconds, clock)
        clock = await raw_consume(args.rabbitmq_url, topology, len(events), args.prefetch)
        name = f"2 raw consume, prefetch {args.prefetch}, ack each"
        return publish, Throughput(name, len(events), clock.seconds, clock)


def progress(message: str) -> None:
    print(f"running {message} ...", file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000, help="messages for phases 1-3 and 4b")
    parser.add_argument(
        "--rates", default="500,200", help="comma-separated events/s offered in the paced runs (one run each)"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each paced run")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers in the unpaced run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of phases 1-3; the median counts")
    parser.add_argument("--warmup", type=int, default=250, help="events before each end-to-end run, not measured")
    parser.add_argument("--in-flight", type=int, default=200, help="unconfirmed messages in raw publish")
    parser.add_argument("--prefetch", type=int, default=200, help="prefetch of the raw consumer")
    parser.add_argument(
        "--consumer-prefetch",
        type=int,
        default=ServiceSettings().consumer_prefetch,
        help="prefetch of the ConsumerBroker (default: the services' CONSUMER_PREFETCH)",
    )
    parser.add_argument("--receivers", type=int, default=8, help="webhook receivers (endpoints) in phase 5")
    parser.add_argument("--deliveries", type=int, default=1500, help="webhook deliveries per receiver in phase 5")
    parser.add_argument(
        "--webhook-in-flight",
        type=int,
        default=NotificationsSettings().webhook_max_in_flight,
        help="requests in flight per receiver in phase 5 (default: the service's WEBHOOK_MAX_IN_FLIGHT)",
    )
    parser.add_argument("--drain-timeout", type=float, default=60.0, help="seconds to wait for the consumer")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    parser.add_argument("--rabbitmq-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a server URL with the right to create databases",
    )
    parser.add_argument("--log-level", default="INFO", help="of the medic loggers, as in the services")
    parser.add_argument("--log-file", default=os.devnull, help="where the JSON log lines go")
    parser.add_argument("--json", default=None, help="also write the figures and target checks to this file")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few seconds with small numbers, so `make test` keeps the bench working: exits 1 unless every event "
        "arrived exactly once (its figures mean nothing)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.messages, args.rates, args.duration, args.repeat, args.warmup = 400, "200", 1.0, 1, 20
        args.receivers, args.deliveries = 3, 40
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    with open(arguments.log_file, "a") as log_stream:
        configure_logging("bench", arguments.log_level, stream=log_stream)
        summary = summarise(arguments, run(run_phases(arguments)))
    print_report(arguments, summary)
    if arguments.json:
        with open(arguments.json, "w") as out:
            json.dump({key: value for key, value in summary.items() if key != "latency_runs"}, out, indent=1)
    if not summary["exactly_once"]:
        sys.exit("some events were lost or applied twice")
