"""Fixtures for the cross-service tests: real brokers and databases, isolated per test."""

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import aio_pika
import asyncpg
import pytest
from sqlalchemy.engine import make_url

from medic.shared.logging import configure_logging
from medic.shared.topology import Topology, delete_namespace
from tests import infra

SERVICES = ("projects", "outreach", "notifications", "probe")


@pytest.fixture(scope="session", autouse=True)
def json_logging() -> None:
    configure_logging("tests", "INFO")


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    url, container = infra.rabbitmq_url()
    yield url
    if container is not None:
        container.stop()


@pytest.fixture(scope="session")
def disposable_broker() -> Iterator[infra.DisposableBroker]:
    broker = infra.start_disposable_broker()
    yield broker
    broker.shutdown()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    url, container = infra.postgres_admin_url()
    yield url
    if container is not None:
        container.stop()


@pytest.fixture
def namespace() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


async def _delete_namespace(url: str, namespace: str) -> None:
    try:
        connection = await aio_pika.connect(url, timeout=5)
    except Exception:
        return  # the broker is down (a test stopped it); its node is thrown away at the end anyway
    async with connection:
        await delete_namespace(await connection.channel(), Topology(namespace), SERVICES)


@pytest.fixture
async def broker_namespace(rabbitmq_url: str, namespace: str) -> AsyncIterator[tuple[str, str]]:
    """(broker URL, namespace) on the shared broker; the namespace's queues are deleted afterwards."""
    yield rabbitmq_url, namespace
    await _delete_namespace(rabbitmq_url, namespace)


@pytest.fixture
async def disposable_namespace(
    disposable_broker: infra.DisposableBroker, namespace: str
) -> AsyncIterator[tuple[str, str]]:
    yield disposable_broker.url, namespace
    await _delete_namespace(disposable_broker.url, namespace)


DatabaseUrls = Callable[[str], str]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_urls(backend: str, tmp_path: object, request: pytest.FixtureRequest) -> AsyncIterator[DatabaseUrls]:
    """A function giving each service a fresh, empty database of the chosen backend."""
    if backend == "sqlite":
        yield lambda service: f"sqlite+aiosqlite:///{tmp_path}/{service}.db"
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    admin_dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(admin_dsn)
    created: list[str] = []
    urls: dict[str, str] = {}

    def url_for(service: str) -> str:
        if service not in urls:
            name = f"medic_test_{uuid.uuid4().hex[:10]}_{service}"
            created.append(name)
            urls[service] = infra.with_database(admin_url, name)
        return urls[service]

    # Databases are created up front for every service a test may use: CREATE DATABASE cannot run lazily
    # inside the synchronous callback.
    for service in SERVICES:
        url_for(service)
    for name in created:
        await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_for
    finally:
        for name in created:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def sqlite_urls(tmp_path: object) -> DatabaseUrls:
    return lambda service: f"sqlite+aiosqlite:///{tmp_path}/{service}.db"
