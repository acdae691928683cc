"""The HTTP edge over a real socket: the projects app under uvicorn, as `medic up` runs it, and a raw client.

What only a real server shows: a body that is refused is never read (the answer comes before it is sent, and the
connection closes), and a body that stops arriving does not hold the request open.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import func, select

from medic.projects.adapters import orm
from medic.projects.bootstrap import ProjectsService, build
from medic.projects.settings import ProjectsSettings
from medic.shared.auth import Role, issue_token
from tests.support import any_organisation

LIMIT = 1024
BODY_TIMEOUT_S = 0.5
PARTNER = b'{"name": "Riverside Food Bank", "kind": "charity", "contact_email": "hello@riverside.test"}'


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[ProjectsService, int]]:
    """The projects app under uvicorn on a free loopback port."""
    settings = ProjectsSettings.model_validate(
        {
            "PROJECTS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/projects.db",
            "BROKER_NAMESPACE": f"t-{uuid.uuid4().hex[:8]}",
            "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:1/",  # events stay in the outbox
            "HTTP_MAX_BODY_BYTES": LIMIT,
            "HTTP_BODY_TIMEOUT_S": BODY_TIMEOUT_S,
        }
    )
    service = build(settings)
    server = uvicorn.Server(uvicorn.Config(service.app, host="127.0.0.1", port=0, log_config=None))
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]  # port 0: the system picked a free one
    try:
        yield service, port
    finally:
        server.should_exit = True
        await serving


def head(service: ProjectsService, *lines: str, role: Role | None = Role.COORDINATOR) -> bytes:
    """A POST /partners request head, with a token for `role` unless it is None."""
    bearer = issue_token(service.settings, roles=[role], organisation_id=any_organisation([role])) if role else ""
    token = [f"Authorization: Bearer {bearer}"] if role else []
    return "\r\n".join(["POST /partners HTTP/1.1", "Host: projects", *token, *lines, "", ""]).encode()


async def exchange(port: int, *parts: bytes, pause_s: float = 0) -> tuple[bytes, float]:
    """Send `parts` (pausing between them), then read until the server closes: (what it said, seconds taken)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = asyncio.get_running_loop().time()
    try:
        for index, part in enumerate(parts):
            if index and pause_s:
                await asyncio.sleep(pause_s)
            writer.write(part)
            await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)  # EOF: the server closed the connection
    finally:
        writer.close()
    return answer, asyncio.get_running_loop().time() - started


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


async def partners(service: ProjectsService) -> int:
    async with service.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(orm.partners))).scalar_one())


async def test_without_a_token_a_huge_body_is_refused_before_it_is_sent(served: tuple[ProjectsService, int]) -> None:
    service, port = served
    announced = head(service, "Content-Type: application/json", "Content-Length: 104857600", role=None)

    answer, seconds = await exchange(port, announced)  # and not one byte of the 100 MB

    assert status_of(answer) == 401
    assert b"connection: close" in answer.lower()
    assert seconds < BODY_TIMEOUT_S  # answered at once, not after waiting for the body


async def test_a_declared_body_over_the_limit_is_413_before_it_is_sent(served: tuple[ProjectsService, int]) -> None:
    service, port = served

    answer, seconds = await exchange(port, head(service, "Content-Type: application/json", "Content-Length: 10485760"))

    assert status_of(answer) == 413
    assert seconds < BODY_TIMEOUT_S


async def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(served: tuple[ProjectsService, int]) -> None:
    service, port = served
    chunk = b"200\r\n" + b" " * 0x200 + b"\r\n"  # 512 bytes of JSON whitespace; the body never ends

    answer, _ = await exchange(
        port, head(service, "Content-Type: application/json", "Transfer-Encoding: chunked"), chunk, chunk, chunk
    )

    assert status_of(answer) == 413
    assert await partners(service) == 0


async def test_a_body_that_stops_arriving_is_dropped(served: tuple[ProjectsService, int]) -> None:
    service, port = served
    announced = head(service, "Content-Type: application/json", f"Content-Length: {LIMIT}")

    answer, seconds = await exchange(port, announced, b'{"name":')

    assert status_of(answer) == 408
    assert BODY_TIMEOUT_S <= seconds < BODY_TIMEOUT_S + 5
    assert await partners(service) == 0


async def test_a_slow_body_that_arrives_in_time_is_served(served: tuple[ProjectsService, int]) -> None:
    service, port = served
    announced = head(service, "Content-Type: application/json", f"Content-Length: {len(PARTNER)}", "Connection: close")

    answer, _ = await exchange(port, announced, PARTNER[:20], PARTNER[20:], pause_s=BODY_TIMEOUT_S / 4)

    assert status_of(answer) == 201
    assert await partners(service) == 1
