"""Talking to replicas over HTTP: requests spread over every replica of a service, tokens, live tails, a partner's
webhook receiver, and reading what the services wrote (their databases, the mail directory)."""

import asyncio
import email
import itertools
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
from aiohttp import web
from sqlalchemy.engine import make_url
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from medic.shared.auth import Role, issue_token
from medic.shared.settings import ServiceSettings
from tests import support
from tests.infra import free_port
from tests.replicas.processes import ReplicaSet

T = TypeVar("T")


def token(*roles: Role, user: str | None = None, partner: uuid.UUID | None = None) -> str:
    """A bearer token as `medic token` prints it (the default development JWT settings, as the replicas have)."""
    return issue_token(ServiceSettings(), roles=roles, subject=user, organisation_id=partner)


class Across:
    """Requests to a service's replicas in turn, so a walk-through's every other step lands on the other replica."""

    def __init__(self, replicas: ReplicaSet, client: httpx.AsyncClient) -> None:
        self.client = client
        self._next = {service: itertools.cycle(replicas.urls(service)) for service in ("projects", "outreach")}
        self._next["notifications"] = itertools.cycle(replicas.urls("notifications"))
        self.served: Counter[str] = Counter()  # requests per replica URL

    def url(self, service: str) -> str:
        base = next(self._next[service])
        self.served[base] += 1
        return base

    async def request(
        self, service: str, method: str, path: str, bearer: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        return await self.client.request(method, self.url(service) + path, headers=headers, **kwargs)

    async def call(
        self, bearer: str | None, service: str, path: str, body: Any = None, *, method: str | None = None
    ) -> Any:
        """README's `as`: POST when there is a body, else GET (or `method`); any status but 2xx fails the test."""
        method = method or ("POST" if body is not None else "GET")
        response = await self.request(service, method, path, bearer, json=body)
        assert response.is_success, f"{method} {service}{path}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else None

    async def create(self, bearer: str | None, service: str, path: str, body: Any) -> str:
        """POST `body` and return the new resource's id."""
        return str((await self.call(bearer, service, path, body))["id"])

    async def pages(self, bearer: str, service: str, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a cursor-paged list (`items`, `next_cursor`, and `has_more` where the route has it)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await self.call(bearer, service, path + _query({**params, "cursor": cursor}))
            items.extend(page["items"])
            if not page["items"] or not page.get("has_more", page["next_cursor"] is not None):
                return items
            cursor = page["next_cursor"]


def _query(params: dict[str, Any]) -> str:
    present = {name: value for name, value in params.items() if value is not None}
    return "?" + str(httpx.QueryParams(present)) if present else ""


async def eventually(
    check: Callable[[], Awaitable[T]], what: str, *, timeout_s: float = 30, interval_s: float = 0.3
) -> T:
    """tests.support.eventually, saying what was awaited, at a pace for requests to replicas."""
    return await support.eventually(check, timeout_s=timeout_s, interval_s=interval_s, what=what)


@dataclass
class LiveTail:
    """GET /events/stream on one replica, read in the background: every event id it carried, in order."""

    url: str
    ids: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def open(self, client: httpx.AsyncClient, bearer: str) -> None:
        self.task = asyncio.create_task(self._read(client, bearer))
        opened = asyncio.create_task(self.opened.wait())
        await asyncio.wait({opened, self.task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if not self.opened.is_set():
            opened.cancel()
            await self.close()
            raise AssertionError(f"the live tail on {self.url} did not open")

    async def _read(self, client: httpx.AsyncClient, bearer: str) -> None:
        headers = {"Authorization": f"Bearer {bearer}", "Accept": "text/event-stream"}
        timeout = httpx.Timeout(10, read=None)
        async with client.stream("GET", f"{self.url}/events/stream", headers=headers, timeout=timeout) as response:
            assert response.status_code == 200, response.status_code
            self.opened.set()  # the subscription is made before the response starts
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    event = json.loads(line.removeprefix("data: "))
                    self.ids.append(event["id"])
                    self.types[event["id"]] = event["type"]

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


@dataclass
class Delivery:
    path: str
    message_id: str | None
    verified: bool
    type: str | None


class WebhookReceiver:
    """A partner's endpoint on loopback, as docs/examples/webhook_receiver.py: verifies each delivery with the
    stock `standardwebhooks` library and records it, answers 204; `/retired` answers 410 Gone."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret: str | None = None
        self.deliveries: list[Delivery] = []
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/medic", self._receive)
        app.router.add_post("/retired", self._retired)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            assert self.secret is not None
            message = Webhook(self.secret).verify(body, dict(request.headers))
        except (AssertionError, WebhookVerificationError):
            self.deliveries.append(Delivery("/medic", request.headers.get("webhook-id"), False, None))
            return web.Response(status=400)
        self.deliveries.append(Delivery("/medic", request.headers["webhook-id"], True, message["type"]))
        return web.Response(status=204)

    async def _retired(self, request: web.Request) -> web.Response:
        await request.read()
        self.deliveries.append(Delivery("/retired", request.headers.get("webhook-id"), False, None))
        return web.Response(status=410)


async def query(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Rows from a service's PostgreSQL database, read directly."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
        return rows
    finally:
        await connection.close()


@dataclass(frozen=True)
class Mail:
    path: Path
    message_id: str
    to: str
    subject: str
    text: str


def mails(directory: Path) -> list[Mail]:
    """Every email written to the mail directory (`<time>-<email id>.eml`)."""
    found = []
    for path in sorted(directory.glob("*.eml")):
        with path.open("rb") as file:
            message: Any = email.message_from_binary_file(file, policy=policy.default)
        body = message.get_body(("plain",))
        found.append(
            Mail(path, str(message["Message-ID"]), str(message["To"]), str(message["Subject"]), body.get_content())
        )
    return found


def duplicates(values: Sequence[T]) -> dict[T, int]:
    return {value: count for value, count in Counter(values).items() if count > 1}
