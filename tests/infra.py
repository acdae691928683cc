"""Real RabbitMQ and PostgreSQL for the tests: the ones given, the local ones, or testcontainers.

Order of preference for each: an explicit URL (`RABBITMQ_URL`, `POSTGRES_URL`), the server listening on
its usual local port, then a testcontainers container. With `CI=true` a missing server is an error,
never a skip. Tests that stop or restart the broker get a `DisposableBroker` of their own, so a running
system and other test runs never feel it.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import pytest
from sqlalchemy.engine import make_url

from medic.shared.topology import Topology, delete_namespace


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str) -> None:
    message = f"{what} is not available: set its URL, start it locally, or install Docker for testcontainers"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class DisposableBroker:
    """A RabbitMQ node only this test session uses, so tests may stop, restart and cut it off."""

    url: str

    def stop(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def close_all_connections(self) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        raise NotImplementedError


class LocalNodeBroker(DisposableBroker):
    """A second node of the locally installed RabbitMQ, on its own ports and data directory."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="medic-rabbit-"))
        self.port = free_port()
        self.node = f"medic-test-{uuid.uuid4().hex[:8]}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        env = local_node_environment(self.node, self.port, self.directory)
        subprocess.run(["rabbitmq-server", "-detached"], env=env, check=True, capture_output=True)
        self._await_startup()

    def _await_startup(self, timeout_s: float = 90) -> None:
        # Until the node has registered with epmd, await_startup fails at once instead of waiting.
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._ctl("await_startup", "--timeout", "30")
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _ctl(self, *args: str) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.node, *args], check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        self._ctl("stop_app")

    def start(self) -> None:
        self._ctl("start_app")
        self._await_startup()

    def close_all_connections(self) -> None:
        self._ctl("close_all_connections", "closed by the test suite")

    def shutdown(self) -> None:
        try:
            self._ctl("stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


class ContainerBroker(DisposableBroker):
    def __init__(self) -> None:
        from testcontainers.rabbitmq import RabbitMqContainer

        self.container: Any = RabbitMqContainer("rabbitmq:3.13-alpine").start()
        host = self.container.get_container_host_ip()
        self.url = f"amqp://guest:guest@{host}:{self.container.get_exposed_port(5672)}/"

    def _exec(self, command: str) -> None:
        code, output = self.container.exec(command)
        if code != 0:
            raise RuntimeError(output)

    def stop(self) -> None:
        self._exec("rabbitmqctl stop_app")

    def start(self) -> None:
        self._exec("rabbitmqctl start_app")
        self._exec("rabbitmqctl await_startup")

    def close_all_connections(self) -> None:
        self._exec("rabbitmqctl close_all_connections test")

    def shutdown(self) -> None:
        self.container.stop()


def local_node_environment(node: str, port: int, directory: Path) -> dict[str, str]:
    """The environment for `rabbitmq-server` to run `node` of the local installation beside any other: AMQP on
    127.0.0.1:`port`, a free distribution port, no plugins, and its config, data, logs and pid file in `directory`
    (which this fills and hands to the `rabbitmq` user)."""
    (directory / "enabled_plugins").write_text("[].\n")
    (directory / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{port}\n")
    _hand_to_rabbitmq_user(directory)
    return {
        **os.environ,
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(free_port()),
        "RABBITMQ_CONFIG_FILE": str(directory / "rabbitmq.conf"),
        "RABBITMQ_MNESIA_BASE": str(directory / "mnesia"),
        "RABBITMQ_LOG_BASE": str(directory / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(directory / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(directory / "pid"),
    }


def _hand_to_rabbitmq_user(directory: Path) -> None:
    """Debian's rabbitmq-server drops to the `rabbitmq` user, which must own the node's files."""
    import pwd

    try:
        pwd.getpwnam("rabbitmq")
    except KeyError:
        return
    for path in (directory, *directory.iterdir()):
        shutil.chown(path, "rabbitmq", "rabbitmq")


async def delete_broker_namespace(rabbitmq_urls: Sequence[str], namespace: str, services: Sequence[str]) -> None:
    """Delete the namespace's exchanges and queues (those of `services`) on the first broker that answers.

    For clean-up after a test: a failure is a warning, never an error that would hide the test's own."""
    try:
        for url in rabbitmq_urls:
            try:
                connection = await aio_pika.connect(url, timeout=5)
            except Exception:
                continue  # that node is down; another may answer
            async with connection:
                await delete_namespace(await connection.channel(), Topology(namespace), services)
            return
        warnings.warn(f"broker namespace {namespace} not deleted: no broker answered", stacklevel=2)
    except Exception as error:
        warnings.warn(f"broker namespace {namespace} not deleted: {error!r}", stacklevel=2)


def start_disposable_broker() -> DisposableBroker:
    if shutil.which("rabbitmq-server") and shutil.which("rabbitmqctl"):
        return LocalNodeBroker()
    if docker_available():
        return ContainerBroker()
    unavailable("A RabbitMQ the tests may restart (rabbitmq-server or Docker)")
    raise AssertionError("unreachable")


def rabbitmq_url() -> tuple[str, Any]:
    """The shared broker's URL, and a container to stop at the end (or None)."""
    if url := os.environ.get("RABBITMQ_URL"):
        return url, None
    if listening("127.0.0.1", 5672):
        return "amqp://guest:guest@127.0.0.1:5672/", None
    if docker_available():
        from testcontainers.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:3.13-alpine").start()
        host = container.get_container_host_ip()
        return f"amqp://guest:guest@{host}:{container.get_exposed_port(5672)}/", container
    unavailable("RabbitMQ")
    raise AssertionError("unreachable")


def postgres_admin_url() -> tuple[str, Any]:
    """A URL (asyncpg driver) to a PostgreSQL database from which test databases are created."""
    if url := os.environ.get("POSTGRES_URL"):
        return url, None
    if listening("127.0.0.1", 5432):
        return "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres", None
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine").start()
        return container.get_connection_url(driver="asyncpg"), container
    unavailable("PostgreSQL")
    raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def fresh_database_url(backend: str, tmp_path: Path, service: str) -> AsyncIterator[str]:
    """A fresh, empty database for `service` on `backend`: a SQLite file in `tmp_path`, or a PostgreSQL database
    created here and dropped afterwards (skips, or fails in CI, without PostgreSQL)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/{service}.db"
        return
    admin_url, _ = postgres_admin_url()
    admin = await asyncpg.connect(make_url(admin_url).set(drivername="postgresql").render_as_string(False))
    name = f"medic_test_{uuid.uuid4().hex[:10]}_{service}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{database}").geturl()


def wait_until_listening(url: str, timeout_s: float = 30) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + timeout_s
    while not listening(parts.hostname or "127.0.0.1", parts.port or 5672):
        if time.monotonic() > deadline:
            raise TimeoutError(url)
        time.sleep(0.2)
