"""Fixtures: the notifications app on a temp-dir SQLite file, migrated by its lifespan, without the broker."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from asgi_lifespan import LifespanManager

from medic.notifications.bootstrap import NotificationsService, build
from medic.notifications.settings import NotificationsSettings
from medic.shared.auth import Role, issue_token
from medic.shared.events import RawEnvelope
from tests.support import any_organisation

PARTNER_REGISTERED = "projects.partner.registered.v1"
PROJECTS = "/services/projects"


class EnvelopeFactory(Protocol):
    """The `envelope` fixture: `make_envelope`."""

    def __call__(
        self,
        *,
        type: str = ...,
        source: str = ...,
        subject: str | None = ...,
        time: datetime | None = ...,
        correlation_id: uuid.UUID | None = ...,
        causation_id: uuid.UUID | None = ...,
        data: Mapping[str, Any] | None = ...,
        event_id: uuid.UUID | None = ...,
    ) -> RawEnvelope: ...


class DeliverTo(Protocol):
    """The `deliver_to` fixture: `await deliver_to(envelope, ...)`."""

    def __call__(self, *envelopes: RawEnvelope) -> Awaitable[None]: ...


class AuthHeaders(Protocol):
    """The `auth` fixture: `auth(Role.X, ...)`."""

    def __call__(self, *roles: Role) -> dict[str, str]: ...


class ServiceWith(Protocol):
    """The `service_with` fixture: `await service_with(SETTING=value, ...)`."""

    def __call__(self, **overrides: Any) -> Awaitable[NotificationsService]: ...


def make_settings(tmp_path: Path, **overrides: Any) -> NotificationsSettings:
    values: dict[str, Any] = {
        "NOTIFICATIONS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}",
        "NOTIFICATIONS_STREAM_KEEPALIVE_S": 15.0,
        "NOTIFICATIONS_MAIL_DIR": str(tmp_path / "mail"),  # never the repository's var/mail
        "BROKER_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}",
    }
    values.update(overrides)
    return NotificationsSettings.model_validate(values)


@pytest.fixture
def settings(tmp_path: Path) -> NotificationsSettings:
    return make_settings(tmp_path)


@pytest.fixture
async def service(settings: NotificationsSettings) -> AsyncIterator[NotificationsService]:
    service = build(settings, start_consumer=False)
    async with LifespanManager(service.app):
        yield service


@pytest.fixture
async def service_with(tmp_path: Path) -> AsyncIterator[ServiceWith]:
    """`await service_with(SETTING=value, ...)`: a running service with other settings (stopped after the test)."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> NotificationsService:
            service = build(make_settings(tmp_path, **overrides), start_consumer=False)
            await stack.enter_async_context(LifespanManager(service.app))
            return service

        yield start


@pytest.fixture
async def client(service: NotificationsService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as client:
        yield client


def bearer(settings: NotificationsSettings, *roles: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, roles=roles, organisation_id=any_organisation(roles))}"}


def make_envelope(
    *,
    type: str = PARTNER_REGISTERED,
    source: str = PROJECTS,
    subject: str | None = None,
    time: datetime | None = None,
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
    data: Mapping[str, Any] | None = None,
    event_id: uuid.UUID | None = None,
) -> RawEnvelope:
    return RawEnvelope(
        id=event_id or uuid.uuid4(),
        type=type,
        source=source,
        subject=subject,
        time=time or datetime.now(UTC),
        correlationid=correlation_id or uuid.uuid4(),
        causationid=causation_id,
        data=dict(data or {"partner_id": str(uuid.uuid4()), "kind": "charity"}),
    )


async def deliver(service: NotificationsService, *envelopes: RawEnvelope) -> None:
    """What the broker subscriber does with each message, without the broker."""
    for item in envelopes:
        await service.consumer.consumer.handle(item)


class SseCall:
    """Drives one streaming GET on the ASGI app by hand (httpx's ASGITransport buffers whole bodies).

    Under ASGI `spec_version` 2.4 a `send` after the client has gone raises OSError, as the spec says servers do.
    With `stalled_send`, no `send` ever completes: the client has stopped reading and the server's buffer is full.
    """

    def __init__(
        self,
        app: Any,
        path: str,
        *,
        headers: Mapping[str, str],
        query: str = "",
        spec_version: str = "2.3",
        stalled_send: bool = False,
    ) -> None:
        self._app = app
        self._send_fails_once_gone = tuple(map(int, spec_version.split("."))) >= (2, 4)
        self._stalled_send = stalled_send
        self._scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": spec_version},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"notifications.test")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 40000),
            "server": ("notifications.test", 80),
        }
        self._requested = False
        self._disconnected = asyncio.Event()
        self._messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.body = ""
        self.finished = False
        self.task: asyncio.Task[None] | None = None

    async def _receive(self) -> dict[str, Any]:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._disconnected.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if self._send_fails_once_gone and self._disconnected.is_set():
            raise OSError("the client has gone")
        if self._stalled_send:
            await asyncio.Event().wait()
        await self._messages.put(message)

    async def start(self) -> dict[str, Any]:
        """Send the request; returns the `http.response.start` message."""
        self.task = asyncio.create_task(self._app(self._scope, self._receive, self._send))
        return await asyncio.wait_for(self._messages.get(), 5)

    async def read_until(self, text: str, timeout_s: float = 5) -> str:
        """Body chunks until the whole body received so far contains `text`."""
        async with asyncio.timeout(timeout_s):
            while text not in self.body:
                await self._read_one()
        return self.body

    async def read_to_end(self, timeout_s: float = 5) -> str:
        async with asyncio.timeout(timeout_s):
            while not self.finished:
                await self._read_one()
        return self.body

    async def _read_one(self) -> None:
        message = await self._messages.get()
        assert message["type"] == "http.response.body", message
        self.body += message.get("body", b"").decode()
        if not message.get("more_body", False):
            self.finished = True

    async def gone_before_it_starts(self, timeout_s: float = 5) -> BaseException | None:
        """Run the whole call for a client that has already gone; returns what the app raised, if anything."""
        self._disconnected.set()
        self.task = asyncio.create_task(self._app(self._scope, self._receive, self._send))
        done, _ = await asyncio.wait([self.task], timeout=timeout_s)
        assert done, "the call did not end"
        return self.task.exception()

    async def disconnect(self, timeout_s: float = 5) -> None:
        self._disconnected.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, timeout_s)


# Test modules are imported with --import-mode=importlib, so they reach the helpers above through fixtures.


@pytest.fixture
def ops(settings: NotificationsSettings) -> dict[str, str]:
    """Headers of a caller with the ops role."""
    return bearer(settings, Role.OPS)


@pytest.fixture
def auth(settings: NotificationsSettings) -> AuthHeaders:
    """`auth(Role.X, ...)`: headers of a caller with those roles."""
    return lambda *roles: bearer(settings, *roles)


@pytest.fixture
def envelope() -> EnvelopeFactory:
    return make_envelope


@pytest.fixture
def deliver_to(service: NotificationsService) -> DeliverTo:
    return lambda *envelopes: deliver(service, *envelopes)


@pytest.fixture
def sse() -> type[SseCall]:
    return SseCall
