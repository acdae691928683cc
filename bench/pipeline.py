"""Throughput and latency of the event pipeline, against raw aio-pika on the same broker.

    uv run python bench/pipeline.py [--messages 10000] [--rate 500] [--duration 10] [--writers 8]

Needs RabbitMQ and PostgreSQL (defaults: the local ones). The bench makes a throw-away database
`bench_<hex>` and drops it at the end; every phase runs in its own broker namespace `bench-<hex>`,
declared with `declare_consumer` and removed with `delete_namespace`, on freshly truncated tables.

1. raw publish    aio-pika, publisher confirms, a window of `--in-flight` unconfirmed messages, persistent
                  ~300-byte JSON, mandatory, to the events exchange, routed to a quorum queue;
2. raw consume    aio-pika draining those messages, prefetch `--prefetch`, one ack per message;
3. relay          `OutboxRelay.publish_pending()` in a loop over N pre-filled pending outbox rows, with the
                  real `RabbitEventPublisher` (target: >= 0.7 x raw publish);
4. end to end     writers commit a state row and an outbox row through `UnitOfWork` (after_commit wakes the
                  relay), a running `OutboxRelay.run()`, and an `EventConsumer` behind a `ConsumerBroker`
                  whose handler inserts a row beside the PostgreSQL inbox. Paced at `--rate` for `--duration`
                  seconds (target: p99 <= 25 ms), then unpaced with `--writers` concurrent writers (target:
                  >= 0.5 x raw consume).

Writers and relay run in this process (the publishing service); the consumer runs in a child process (the
consuming service), as they would in production. Latency is from the moment the writer's commit returned to
the moment the consumer's commit returned (both `time.time()` on the same machine), split into stages: the
relay's part (until the broker confirmed), the broker's (until the consumer's unit of work began), and the
consumer's. The CPU each party used (this process, the consumer, RabbitMQ, PostgreSQL, anyone else) is
printed too: on a small or shared machine that, more than any one component, may set the pace.
"""

import argparse
import asyncio
import contextlib
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

from medic.shared.consumer import ConsumerBroker, EventConsumer, Subscription
from medic.shared.db import create_engine
from medic.shared.events import Envelope, EventPayload, RawEnvelope
from medic.shared.inbox import inbox_table
from medic.shared.logging import configure_logging
from medic.shared.outbox import OutboxState, outbox_table
from medic.shared.publisher import OutgoingEvent, RabbitEventPublisher
from medic.shared.relay import OutboxRelay
from medic.shared.settings import ServiceSettings
from medic.shared.topology import Topology, declare_consumer, delete_namespace
from medic.shared.uow import UnitOfWork

RAW_SERVICE = "sink"  # the queue phases 1-3 publish to
CONSUMER = "bench"  # the EventConsumer of phase 4

RELAY_TARGET = 0.7  # relay publish rate / raw publish rate
E2E_TARGET = 0.5  # unpaced end-to-end rate / raw consume rate
P99_TARGET_MS = 25.0  # at the paced rate


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
        self.seq: int | None = None  # set by the handler
        self._entered_at = self._connected_at = 0.0

    async def __aenter__(self) -> "TimedUnitOfWork":
        self._entered_at = time.time()
        await super().__aenter__()
        self._connected_at = time.time()
        return self

    async def commit(self) -> None:
        await super().commit()
        if self.seq is not None:
            self._on_commit((self.seq, self._entered_at, self._connected_at, time.time()))


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

    async def record_item(payload: BenchItemRecorded, envelope: RawEnvelope, uow: UnitOfWork) -> None:
        await uow.connection.execute(insert(tables.applied).values(event_id=envelope.id, seq=payload.seq))
        assert isinstance(uow, TimedUnitOfWork)
        uow.seq = payload.seq

    consumer = EventConsumer(
        CONSUMER,
        lambda: TimedUnitOfWork(engine, inbox=tables.inbox, on_commit=applied.record),
        {EVENT_TYPE: Subscription(BenchItemRecorded, record_item)},
    )
    broker = ConsumerBroker(consumer, settings, description="bench consumer")
    await warm_pool(engine)
    await broker.start()
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
    args: argparse.Namespace, engine: AsyncEngine, database_url: str, tables: Tables, *, paced: bool
) -> EndToEnd:
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
        )
        relay_task: asyncio.Task[None] | None = None
        try:
            await _receive(pipe, "ready")  # the consumer has declared and bound its queues
            await publisher.connect()
            relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
            committed: dict[int, tuple[uuid.UUID, float, float]] = {}  # seq: event id, commit called, returned

            async def write(seq: int, writer: int) -> None:
                event = make_envelope(seq, writer)
                async with UnitOfWork(engine, outbox=tables.outbox, after_commit=relay.wake) as uow:
                    await uow.connection.execute(insert(tables.items).values(seq=seq, writer=writer))
                    await uow.publish(event)
                    started = time.time()
                    await uow.commit()
                    committed[seq] = (event.id, started, time.time())

            # Warm-up (not measured): first-call costs of every layer, in both processes.
            await run_writers(write, range(-args.warmup, 0), rate=args.rate if paced else None, writers=args.writers)
            pipe.send(args.warmup)
            await _receive(pipe, "reached")
            committed.clear()
            publisher.batches = publisher.events = 0
            publisher.seconds = 0.0

            count = round(args.rate * args.duration) if paced else args.messages
            clock, started_at = Clock(), time.time()
            await run_writers(write, range(count), rate=args.rate if paced else None, writers=args.writers)
            written_at = time.time()
            pipe.send(args.warmup + count)
            await _receive(pipe, "reached")
            pipe.send(None)
            report = await _receive(pipe, "report")
            clock.stop()
        finally:
            if relay_task is not None:
                relay_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay_task
            await relay.close()
            pipe.close()  # a child still waiting for orders reads EOF and stops
            await asyncio.to_thread(child.join, 30)
            if child.is_alive():
                child.kill()

    handled = {seq: times for seq, *times in report if seq >= 0}
    last_commit = max(committed_at for _, _, committed_at in handled.values())
    seconds = last_commit - started_at  # the first write began .. the last consumer commit returned
    name = f"4a end to end, paced at {args.rate:g}/s" if paced else f"4b end to end, unpaced, {args.writers} writers"
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
    return EndToEnd(throughput, count - len(handled), {stage: sorted(ms) for stage, ms in stages.items()})


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


# --- the report --------------------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    raw_pub: Throughput | None = results.get("raw_publish")
    raw_con: Throughput | None = results.get("raw_consume")
    relay: Throughput | None = results.get("relay")
    paced: EndToEnd | None = results.get("paced")
    unpaced: EndToEnd | None = results.get("unpaced")

    targets: list[str] = []
    rows: list[tuple[Throughput, str, str, str]] = []  # (result, vs raw, target, met)
    for result in (raw_pub, raw_con):
        if result is not None:
            rows.append((result, "", "", ""))
    if relay is not None:
        ratio = f"{relay.rate / raw_pub.rate:.2f} x publish" if raw_pub else "n/a"
        met = _met(relay.rate / raw_pub.rate >= RELAY_TARGET) if raw_pub else "?"
        rows.append((relay, ratio, f">= {RELAY_TARGET} x", met))
        targets.append(f"relay publish rate >= {RELAY_TARGET} x raw publish: {met} ({ratio})")
    if paced is not None:
        rows.append((paced.throughput, f"{paced.throughput.rate / args.rate:.2f} x offered", "", ""))
    if unpaced is not None:
        ratio = f"{unpaced.throughput.rate / raw_con.rate:.2f} x consume" if raw_con else "n/a"
        met = _met(unpaced.throughput.rate / raw_con.rate >= E2E_TARGET) if raw_con else "?"
        rows.append((unpaced.throughput, ratio, f">= {E2E_TARGET} x", met))
        targets.append(f"unpaced end-to-end rate >= {E2E_TARGET} x raw consume: {met} ({ratio})")

    header = (
        f"{'phase':<42} {'msgs':>6} {'secs':>6} {'msg/s':>7} {'(range)':<13} {'vs raw':<16} {'target':<8} {'met':<3}"
    )
    print()
    print(
        f"Pipeline benchmark - {os.cpu_count()} cores, {args.messages} messages, rate {args.rate:g}/s "
        f"for {args.duration:g}s, in flight {args.in_flight}, raw prefetch {args.prefetch}, "
        f"consumer prefetch {args.consumer_prefetch}, relay batch {ServiceSettings().outbox_batch_size}; "
        f"phases 1-3: median of {args.repeat} runs"
    )
    print("=" * len(header))
    print(header)
    print("-" * len(header))
    for result, ratio, target, met in rows:
        spread = f"({min(result.rates):.0f}-{max(result.rates):.0f})" if len(result.rates) > 1 else ""
        print(
            f"{result.name:<42} {result.messages:>6} {result.seconds:>6.2f} {result.rate:>7.0f} {spread:<13} "
            f"{ratio:<16} {target:<8} {met:<3}"
        )
    print()
    print(f"CPU used meanwhile, in cores (of {os.cpu_count()}): bench = this process (writers + relay in phase 4),")
    print("consumer = the consumer process, other = everything else on the machine (other users, the kernel)")
    print(f"{'phase':<42} " + " ".join(f"{user:>8}" for user in CPU_USERS) + f" {'idle':>8}")
    for result, *_ in rows:
        cores = result.clock.cores
        idle = (os.cpu_count() or 1) - sum(cores.values())
        print(f"{result.name:<42} " + " ".join(f"{cores[user]:>8.2f}" for user in CPU_USERS) + f" {idle:>8.2f}")

    latency_runs = [run for run in (paced, unpaced) if run is not None]
    for run in latency_runs:
        print()
        lat = run.latencies_ms
        target = ""
        if run is paced:
            met = _met(bool(lat) and percentile(lat, 99) <= P99_TARGET_MS)
            target = f"  target p99 <= {P99_TARGET_MS:g} ms: {met}"
            p99 = f"{percentile(lat, 99):.1f} ms" if lat else "no events"
            targets.append(f"p99 <= {P99_TARGET_MS:g} ms at {args.rate:g}/s: {met} (p99 {p99})")
            if run.throughput.rate < 0.95 * args.rate:
                targets.append(
                    f"  the pipeline did not keep up with {args.rate:g}/s ({run.throughput.rate:.0f}/s): "
                    "a backlog grew all run, so its latencies are mostly queueing"
                )
        print(f"Latency of {run.throughput.name} (ms), {len(lat)} events, {run.lost} lost{target}")
        print(f"{'stage':<42} " + " ".join(f"{q:>7}" for q in ("p50", "p95", "p99", "max")))
        for stage, values in run.stages_ms.items():
            figures = (percentile(values, q) for q in (50, 95, 99, 100)) if values else ()
            print(f"{stage:<42} " + " ".join(f"{v:>7.1f}" for v in figures))
    notes = [(r.name, note) for r in (relay, *(run.throughput for run in latency_runs)) if r for note in r.notes]
    if notes:
        print()
        for name, note in notes:
            print(f"{name.split(',')[0]}: {note}")
    print()
    print("Targets")
    for line in targets:
        print(f"  {line}")
    busiest = max((result.clock.cores["other"], result.name) for result, *_ in rows)
    if busiest[0] > 0.2:
        print(
            f"  note: others used up to {busiest[0]:.2f} cores of this machine meanwhile ({busiest[1]}): "
            "figures are lower than on a quiet machine"
        )


# --- main ------------------------------------------------------------------------------------------------

PHASES = ("raw", "relay", "paced", "unpaced")


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
                progress(f"4a end to end, paced at {args.rate:g}/s for {args.duration:g}s")
                results["paced"] = await end_to_end(args, engine, database_url, tables, paced=True)
            if "unpaced" in args.phases:
                progress(f"4b end to end, unpaced, {args.writers} writers")
                results["unpaced"] = await end_to_end(args, engine, database_url, tables, paced=False)
        finally:
            await engine.dispose()
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
    parser.add_argument("--rate", type=float, default=500.0, help="events/s offered in the paced run")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the paced run")
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
    args = parser.parse_args()
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    with open(arguments.log_file, "a") as log_stream:
        configure_logging("bench", arguments.log_level, stream=log_stream)
        print_report(arguments, run(run_phases(arguments)))
