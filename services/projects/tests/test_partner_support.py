"""What the partner tests share: the projects app on SQLite or PostgreSQL, tokens, and reading what was stored.

Test modules are imported with --import-mode=importlib, so the others import this one by its full name
(`services.projects.tests.test_partner_support`). It holds no tests.
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

from medic.projects.adapters import orm
from medic.projects.bootstrap import ProjectsService, build
from medic.projects.settings import ProjectsSettings
from medic.shared.auth import Role, issue_token
from tests import infra
from tests.support import any_organisation

BACKENDS = ["sqlite", "postgresql"]
REGISTRATION = {"name": "Riverside Food Bank", "kind": "charity", "contact_email": "hello@riverside.example"}

# What projects publishes for the notifications directory only: names, addresses, a verification link.
DIRECTORY_EVENTS = ("projects.contact_address.", "projects.verification_link.mail_requested.")


def database_url(backend: str, tmp_path: Path) -> AbstractAsyncContextManager[str]:
    """A fresh, empty projects database on `backend`, dropped afterwards."""
    return infra.fresh_database_url(backend, tmp_path, "projects")


@dataclass
class Projects:
    """The running app and a client for it."""

    service: ProjectsService
    client: httpx.AsyncClient

    def auth(self, *roles: Role, organisation: uuid.UUID | None = None) -> dict[str, str]:
        """Headers of a caller with `roles`; a partner user acts for `organisation` (any, if not given)."""
        organisation = organisation or any_organisation(roles)
        token = issue_token(self.service.settings, roles=roles, organisation_id=organisation)
        return {"Authorization": f"Bearer {token}"}

    @property
    def coordinator(self) -> dict[str, str]:
        return self.auth(Role.COORDINATOR)

    async def register(self, **fields: Any) -> dict[str, Any]:
        response = await self.client.post("/partners", json={**REGISTRATION, **fields}, headers=self.coordinator)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def detail(self, partner_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/partners/{partner_id}", headers=self.coordinator)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def count(self, table: Any) -> int:
        async with self.service.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())

    async def outbox(self, *, directory: bool = False) -> list[tuple[str, str]]:
        """(event type, body) of every staged event, in the order staged; the notifications directory's address
        events (the only ones with a name, an address or a link) only with `directory`."""
        async with self.service.engine.connect() as connection:
            query = select(orm.outbox.c.event_type, orm.outbox.c.body).order_by(orm.outbox.c.id)
            rows = [(event_type, body.decode()) for event_type, body in await connection.execute(query)]
        return [(t, body) for t, body in rows if directory or not t.startswith(DIRECTORY_EVENTS)]

    async def event_types(self) -> list[str]:
        return [event_type for event_type, _ in await self.outbox()]


@asynccontextmanager
async def running_projects(backend: str, tmp_path: Path) -> AsyncIterator[Projects]:
    async with database_url(backend, tmp_path) as url:
        settings = ProjectsSettings(
            PROJECTS_DATABASE_URL=url,
            BROKER_NAMESPACE=f"t-{uuid.uuid4().hex[:8]}",
            # Nothing listens here: events stay in the outbox, which is what these tests inspect.
            RABBITMQ_URL="amqp://guest:guest@127.0.0.1:1/",
            OUTBOX_MAX_BACKOFF_S=60,
        )
        service = build(settings)
        async with LifespanManager(service.app):
            transport = httpx.ASGITransport(app=service.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://projects") as client:
                yield Projects(service, client)
        await service.engine.dispose()
