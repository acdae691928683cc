"""What the schools tests share: the outreach app on SQLite or PostgreSQL, tokens, and reading what was stored.

Test modules are imported with --import-mode=importlib, so the others import this one by its full name
(`services.outreach.tests.school_support`). It holds no tests.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from medic.outreach.adapters import orm
from medic.outreach.bootstrap import OutreachService, build
from medic.outreach.settings import OutreachSettings
from medic.shared.auth import Role, issue_token
from tests import infra
from tests.support import any_organisation

BACKENDS = ["sqlite", "postgresql"]
FIXTURES = Path(__file__).parent / "fixtures"
SCHOOL = {
    "urn": "100000",
    "laestab": "2013614",
    "name": "The Aldgate School",
    "phase": "primary",
    "local_authority_name": "City of London",
    "postcode": "ec3a 5de",
    "state_funded": True,
}


def database_url(backend: str, tmp_path: Path) -> AbstractAsyncContextManager[str]:
    """A fresh, empty outreach database on `backend`, dropped afterwards."""
    return infra.fresh_database_url(backend, tmp_path, "outreach")


@dataclass
class Outreach:
    """The running app and a client for it."""

    service: OutreachService
    client: httpx.AsyncClient

    def auth(self, *roles: Role) -> dict[str, str]:
        token = issue_token(self.service.settings, roles=roles, organisation_id=any_organisation(roles))
        return {"Authorization": f"Bearer {token}"}

    @property
    def coordinator(self) -> dict[str, str]:
        return self.auth(Role.COORDINATOR)

    async def register(self, **fields: Any) -> dict[str, Any]:
        response = await self.client.post("/schools", json={**SCHOOL, **fields}, headers=self.coordinator)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def import_csv(self, text: str | bytes) -> httpx.Response:
        headers = {**self.coordinator, "Content-Type": "text/csv"}
        return await self.client.post("/imports/schools", content=text, headers=headers)

    async def count(self, table: Any) -> int:
        async with self.service.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())

    async def outbox(self) -> list[tuple[str, str]]:
        """(event type, body) of every outbox row, oldest first."""
        async with self.service.engine.connect() as connection:
            query = select(orm.outbox.c.event_type, orm.outbox.c.body).order_by(orm.outbox.c.id)
            return [(row.event_type, bytes(row.body).decode()) for row in await connection.execute(query)]


@asynccontextmanager
async def running_outreach(
    backend: str, tmp_path: Path, *, broker: tuple[str, str] | None = None
) -> AsyncIterator[Outreach]:
    """The app on a fresh database. Without `broker` (URL, namespace) its events stay in the outbox, which is
    what most tests read; with it, the relay publishes them. It never consumes: each app consuming on the shared
    broker would leave its namespace's quorum queues behind, and a few hundred of them use up the node's file
    handles until it accepts no connection."""
    rabbitmq_url, namespace = broker or ("amqp://guest:guest@127.0.0.1:1/", f"t-{uuid.uuid4().hex[:8]}")
    async with database_url(backend, tmp_path) as url:
        settings = OutreachSettings(OUTREACH_DATABASE_URL=url, BROKER_NAMESPACE=namespace, RABBITMQ_URL=rabbitmq_url)
        service = build(settings, start_consumer=False)
        async with LifespanManager(service.app):
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://outreach") as client:
                yield Outreach(service, client)
