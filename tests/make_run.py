"""The whole system as `make run` starts it, in real processes, and what the shutdown tests look at.

`make run` is started in a process group of its own, as a terminal or a supervisor starts a job, with its
own ports, SQLite files and broker namespace, so it never meets a running system or another test.
"""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import httpx

from medic.shared.auth import Role, issue_token
from medic.shared.contracts.projects import PartnerRegisteredV1
from medic.shared.settings import ServiceSettings
from medic.shared.topology import Topology, delete_namespace
from tests.infra import free_port
from tests.support import FAST_FAILURE_HANDLING

REPOSITORY = Path(__file__).resolve().parents[1]
SERVICES = ("projects", "outreach", "notifications")
CONSUMERS = ("outreach", "notifications")
READY_TIMEOUT_S = 90
# Make's own variables would tie the inner make to an outer `make test` (its jobserver, its level).
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKE_TERMINATE")


@dataclass(frozen=True)
class Process:
    """One process: its pid with its start time, so a reused pid is never mistaken for it."""

    pid: int
    started_at: int
    parent: int
    command: str

    def alive(self) -> bool:
        status = _proc_stat(self.pid)
        return status is not None and status.started_at == self.started_at and status.state != "Z"


@dataclass(frozen=True)
class _Stat:
    parent: int
    state: str
    started_at: int


def _proc_stat(pid: int) -> _Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (command) "; the command may hold spaces
    return _Stat(parent=int(fields[1]), state=fields[0], started_at=int(fields[19]))


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except (FileNotFoundError, ProcessLookupError):
        return "?"


def process_tree(root: int) -> set[Process]:
    """`root` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    stats: dict[int, _Stat] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (status := _proc_stat(int(entry.name))) is not None:
            stats[int(entry.name)] = status
            children.setdefault(status.parent, []).append(int(entry.name))
    tree: set[Process] = set()
    pending = [root]
    while pending:
        pid = pending.pop()
        if pid in stats:
            tree.add(Process(pid, stats[pid].started_at, stats[pid].parent, _command(pid)))
            pending.extend(children.get(pid, []))
    return tree


def port_free(port: int) -> bool:
    """Whether a server could listen on the port now (with SO_REUSEADDR, as uvicorn binds)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Run:
    """One `make run`, from start to stop."""

    make: subprocess.Popen[bytes]
    log: Path
    processes: set[Process] = field(default_factory=set)

    @property
    def services(self) -> set[Process]:
        return {p for p in self.processes if any(p.command.endswith(f"-m medic.{s}") for s in SERVICES)}

    @property
    def medic_up(self) -> Process:
        """The services' parent (`uv run … medic up`, its own parent, reads the same)."""
        parents = {service.parent for service in self.services}
        return next(p for p in self.processes if p.pid in parents)

    def records(self) -> Iterator[dict[str, Any]]:
        """The JSON log lines of every process of this run (the others are make's, uv's and medic up's)."""
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                record: dict[str, Any] = json.loads(line)
                yield record

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class System:
    """`make run` on its own ports, databases and namespace; started again and again on the same data."""

    def __init__(self, directory: Path, rabbitmq_url: str) -> None:
        self.directory = directory
        self.rabbitmq_url = rabbitmq_url
        self.namespace = f"t-{uuid.uuid4().hex[:10]}"
        self.ports = {service: free_port() for service in SERVICES}
        self.env = {
            **{name: value for name, value in os.environ.items() if name not in MAKE_VARIABLES},
            **FAST_FAILURE_HANDLING,
            "RABBITMQ_URL": rabbitmq_url,
            "BROKER_NAMESPACE": self.namespace,
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "INFO",
            **{f"{s.upper()}_PORT": str(port) for s, port in self.ports.items()},
            **{f"{s.upper()}_DATABASE_URL": f"sqlite+aiosqlite:///{directory}/{s}.db" for s in SERVICES},
        }
        self.run: Run | None = None
        self.runs = 0
        self.strays: set[Process] = set()  # left running by a failed stop, for stop_everything
        token = issue_token(ServiceSettings(), roles=[Role.COORDINATOR, Role.OPS])
        self.headers = {"Authorization": f"Bearer {token}"}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    async def start(self) -> Run:
        assert self.run is None, "already running"
        taken = [port for port in self.ports.values() if not port_free(port)]
        assert not taken, f"ports {taken} are taken: another process would answer the readiness checks"
        self.runs += 1
        log = self.directory / f"run-{self.runs}.log"
        with log.open("wb") as output:
            make = subprocess.Popen(
                ["make", "--no-print-directory", "run"],
                cwd=REPOSITORY,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as a shell or a supervisor starts a job
            )
        run = self.run = Run(make, log)
        deadline = time.monotonic() + READY_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2) as client:
            while not await self._all_ready(client):
                if make.poll() is not None or time.monotonic() > deadline:
                    await self.stop_everything()
                    raise AssertionError(f"`make run` did not become ready:\n{run.tail()}")
                await asyncio.sleep(0.2)
        run.processes = process_tree(make.pid)
        assert len(run.services) == len(SERVICES), run.processes
        return run

    async def _all_ready(self, client: httpx.AsyncClient) -> bool:
        for service in SERVICES:
            try:
                if (await client.get(f"{self.url(service)}/readyz")).status_code != 200:
                    return False
            except httpx.TransportError:
                return False
        return True

    async def wait_stopped(self, timeout_s: float) -> list[Process]:
        """Wait until make has exited and every process of the run is gone; returns those left at the end."""
        run = self.run
        assert run is not None
        deadline = time.monotonic() + timeout_s
        while True:
            run.make.poll()  # reap make as its shell or supervisor would: until then it lingers as a zombie
            left = [p for p in run.processes if p.alive()]
            if not left or time.monotonic() > deadline:
                self.run = None
                self.strays.update(left)
                return left
            await asyncio.sleep(0.1)

    async def stop_everything(self) -> None:
        """After a failure too: stop what is left, by pid, so nothing outlives the tests."""
        if self.run is not None:
            self.strays |= self.run.processes | process_tree(self.run.make.pid)
            self.run = None
        for signum, patience_s in ((signal.SIGTERM, 40), (signal.SIGKILL, 0)):
            for process in self.strays:
                if process.alive():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.pid, signum)
            deadline = time.monotonic() + patience_s
            while any(p.alive() for p in self.strays) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        self.strays.clear()

    async def register_partners_until_stopped(self, accepted: list[uuid.UUID]) -> None:
        """Keep registering partners, adding each accepted id, until projects stops answering."""
        async with httpx.AsyncClient(base_url=self.url("projects"), headers=self.headers, timeout=30) as client:
            while True:
                try:
                    response = await client.post(
                        "/partners",
                        json={
                            "name": f"Shutdown test partner {uuid.uuid4().hex[:12]}",
                            "kind": "charity",
                            "contact_email": "partners@shutdown-test.example",
                            "areas_of_work": ["food poverty"],
                        },
                    )
                except httpx.TransportError:
                    return  # stopping: connection refused or closed
                if response.status_code != 201:
                    return
                accepted.append(uuid.UUID(response.json()["id"]))

    async def partners(self, service: str) -> list[uuid.UUID]:
        """Every partner id `projects` (the source) or `outreach` (its read model) lists, repeats included."""
        ids: list[uuid.UUID] = []
        async with httpx.AsyncClient(base_url=self.url(service), headers=self.headers, timeout=10) as client:
            while True:
                page = (await client.get("/partners", params={"limit": 500, "offset": len(ids)})).json()
                ids.extend(uuid.UUID(partner["id"]) for partner in page)
                if len(page) < 500:
                    return ids

    async def logged_registrations(self) -> list[uuid.UUID]:
        """The partner id of every registration in the notifications event log, repeats included."""
        ids: list[uuid.UUID] = []
        params: dict[str, str | int] = {"type": PartnerRegisteredV1.event_type, "limit": 500}
        async with httpx.AsyncClient(base_url=self.url("notifications"), headers=self.headers, timeout=10) as client:
            while True:
                page = (await client.get("/events", params=params)).json()
                ids.extend(uuid.UUID(event["data"]["partner_id"]) for event in page["items"])
                if not page["has_more"]:  # `next_cursor` stays set after the last page, to resume from later
                    return ids
                params["cursor"] = page["next_cursor"]

    async def queued_messages(self) -> Counter[str]:
        """Messages waiting in each consumer's queues; with every consumer stopped, unacked ones are back."""
        topology = Topology(self.namespace)
        counts: Counter[str] = Counter()
        connection = await aio_pika.connect(self.rabbitmq_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            for consumer in CONSUMERS:
                for name in (
                    topology.consumer_queue_name(consumer),
                    topology.retry_queue_name(consumer),
                    topology.dead_letter_queue_name(consumer),
                ):
                    queue = await channel.declare_queue(name, passive=True)
                    counts[name] = queue.declaration_result.message_count or 0
        return counts

    async def delete_namespace(self) -> None:
        connection = await aio_pika.connect(self.rabbitmq_url, timeout=5)
        async with connection:
            await delete_namespace(await connection.channel(), Topology(self.namespace), SERVICES)
