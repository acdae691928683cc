"""Real HTTP receivers on loopback, and a harness: the notifications app (migrated, HTTP only) with a dispatcher of
the test's own whose clock the test can move on (so retries hours apart take no time)."""

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import func, select

from medic.notifications.adapters.orm_webhook_deliveries import webhook_deliveries
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.adapters.webhook_sender import WebhookSender
from medic.notifications.bootstrap import MIGRATIONS, NotificationsService, build
from medic.notifications.domain.partner_events import CATALOGUE
from medic.notifications.service_layer import webhook_endpoints, webhook_messages
from medic.notifications.service_layer.webhook_dispatcher import WebhookDispatcher
from medic.notifications.settings import NotificationsSettings
from medic.shared.auth import Role, issue_token
from medic.shared.db import migrate

EVENT_TYPE = next(iter(CATALOGUE))
OTHER_EVENT_TYPE = list(CATALOGUE)[1]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)


Behaviour = Callable[[web.Request, Received], Awaitable[web.StreamResponse]]


class Receiver:
    """An aiohttp server on 127.0.0.1: each path answers as its behaviour says, and every request is kept."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.slow_s = 3.0
        self.failures_before_success = 1
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.behaviours: dict[str, Behaviour] = {
            "/ok": self._ok,
            "/fail": _fixed(500, "boom"),
            "/flaky": self._flaky,
            "/slow": self._slow,
            "/throttle": _fixed(429, "slow down", {"Retry-After": "120"}),
            "/gone": _fixed(410, "gone"),
            "/redirect": self._redirect,
            "/big": _fixed(200, "x" * 100_000),
        }

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received = Received(
            request.path, {k.lower(): v for k, v in request.headers.items()}, await request.read(), time.time()
        )
        self.requests.append(received)
        return await self.behaviours[request.path](request, received)

    async def _ok(self, request: web.Request, received: Received) -> web.StreamResponse:
        return _respond(200, "thanks")

    async def _redirect(self, request: web.Request, received: Received) -> web.StreamResponse:
        return _respond(302, "", {"Location": self.url("/ok")})

    async def _flaky(self, request: web.Request, received: Received) -> web.StreamResponse:
        seen = sum(1 for r in self.requests if r.path == "/flaky" and r.webhook_id == received.webhook_id)
        return _respond(500 if seen <= self.failures_before_success else 200, "flaky")

    async def _slow(self, request: web.Request, received: Received) -> web.StreamResponse:
        await asyncio.sleep(self.slow_s)
        return _respond(200, "slowly")


def _respond(status: int, text: str, headers: dict[str, str] | None = None) -> web.StreamResponse:
    return web.Response(status=status, text=text, headers=headers)


def _fixed(status: int, text: str, headers: dict[str, str] | None = None) -> Behaviour:
    async def answer(request: web.Request, received: Received) -> web.StreamResponse:
        return _respond(status, text, headers)

    return answer


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


class Clock:
    """The dispatcher's clock: real time plus whatever the test skipped."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def skip(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Harness:
    service: NotificationsService
    settings: NotificationsSettings
    client: httpx.AsyncClient
    clock: Clock
    dispatchers: list[WebhookDispatcher] = field(default_factory=list)
    random: float = 0.5  # the jitter draw: 0.5 is none
    _tasks: list["asyncio.Task[None]"] = field(default_factory=list)

    def uow(self) -> NotificationsUnitOfWork:
        factory: Callable[[], NotificationsUnitOfWork] = self.service.app.state.uow_factory
        return factory()

    def headers(self, role: Role, organisation_id: uuid.UUID | None = None) -> dict[str, str]:
        token = issue_token(self.settings, roles=[role], organisation_id=organisation_id)
        return {"Authorization": f"Bearer {token}"}

    def start_dispatcher(
        self, *, max_in_flight: int = 4, allow_loopback: bool = True, **kwargs: Any
    ) -> WebhookDispatcher:
        dispatcher = WebhookDispatcher(
            self.uow,
            WebhookSender(timeout_s=self.settings.webhook_timeout_s, allow_loopback=allow_loopback),
            max_in_flight=max_in_flight,
            timeout_s=self.settings.webhook_timeout_s,
            disable_after_s=self.settings.webhook_disable_after_s,
            poll_interval_s=0.05,
            random=lambda: self.random,
            clock=self.clock,
            **kwargs,
        )
        self.dispatchers.append(dispatcher)
        self._tasks.append(asyncio.create_task(dispatcher.run()))
        return dispatcher

    async def stop_dispatchers(self) -> None:
        for dispatcher in self.dispatchers:
            dispatcher.stop()
        await asyncio.gather(*self._tasks)
        self.dispatchers.clear()
        self._tasks.clear()

    async def register(
        self,
        url: str,
        *,
        partner_id: uuid.UUID | None = None,
        event_types: tuple[str, ...] = (EVENT_TYPE,),
        rate_limit_per_s: int | None = None,
    ) -> webhook_endpoints.WithSecret:
        policy = webhook_endpoints.EndpointPolicy(allow_http=True, allow_loopback=True, secret_overlap_s=3600)
        new = webhook_endpoints.NewEndpoint(
            partner_id=partner_id or uuid.uuid4(),
            url=url,
            description="test receiver",
            event_types=event_types,
            enabled=True,
            rate_limit_per_s=rate_limit_per_s,
        )
        return await webhook_endpoints.register(self.uow(), new, policy)

    async def publish(
        self,
        partner_id: uuid.UUID,
        *,
        event_type: str = EVENT_TYPE,
        data: dict[str, Any] | None = None,
        event_id: uuid.UUID | None = None,
    ) -> str:
        """What H3's reaction does for a partner event, in a transaction of its own."""
        async with self.uow() as uow:
            message_id = await webhook_messages.publish_to_partner(
                uow,
                partner_id,
                event_type,
                data if data is not None else {"partner_id": str(partner_id), "title": "Hand hygiene audit"},
                event_id=event_id or uuid.uuid4(),
                occurred_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
            )
            await uow.commit()
        return message_id

    async def statuses(self) -> dict[str, int]:
        d = webhook_deliveries.c
        async with self.uow() as uow:
            rows = await uow.connection.execute(select(d.status, func.count()).group_by(d.status))
            return {row[0]: int(row[1]) for row in rows}


def settings_for(database_url: str, **overrides: Any) -> NotificationsSettings:
    values: dict[str, Any] = {
        "NOTIFICATIONS_DATABASE_URL": database_url,
        "BROKER_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}",
        "WEBHOOK_ALLOW_HTTP": True,
        "WEBHOOK_ALLOW_LOOPBACK": True,
        "WEBHOOK_TIMEOUT_S": 2.0,
    }
    values.update(overrides)
    return NotificationsSettings.model_validate(values)


@contextlib.asynccontextmanager
async def harness(database_url: str, **overrides: Any) -> AsyncIterator[Harness]:
    """The app's HTTP API and database, migrated; no consumer and none of its own background jobs."""
    settings = settings_for(database_url, **overrides)
    await migrate(MIGRATIONS, settings.database_url)
    service = build(settings, start_consumer=False)
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as client:
        running = Harness(service, settings, client, Clock())
        try:
            yield running
        finally:
            await running.stop_dispatchers()
            await service.engine.dispose()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}"
