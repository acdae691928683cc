"""The projects service for the set-up tests, on SQLite or on a fresh PostgreSQL database, with helpers to act as
each role and to read what was stored and staged in the outbox."""

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import Table, func, select

from medic.projects.adapters import orm
from medic.projects.bootstrap import ProjectsService, build
from medic.projects.settings import ProjectsSettings
from medic.shared.auth import Role, issue_token
from tests import infra

BACKENDS = ("sqlite", "postgresql")


def database_url(backend: str, tmp_path: Path) -> contextlib.AbstractAsyncContextManager[str]:
    """A fresh, empty projects database on `backend`, dropped afterwards."""
    return infra.fresh_database_url(backend, tmp_path, "projects")


# What projects publishes for the notifications directory only: names, addresses, a verification link.
DIRECTORY_EVENTS = ("projects.contact_address.", "projects.verification_link.mail_requested.")


@dataclass
class Projects:
    service: ProjectsService
    client: httpx.AsyncClient

    def as_(self, *roles: Role, subject: str | None = None) -> dict[str, str]:
        organisation = uuid.uuid4() if Role.PARTNER in roles else None
        token = issue_token(self.service.settings, roles=roles, subject=subject, organisation_id=organisation)
        return {"Authorization": f"Bearer {token}"}

    @property
    def coordinator(self) -> dict[str, str]:
        return self.as_(Role.COORDINATOR)

    async def count(self, table: Table) -> int:
        async with self.service.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())

    async def outbox(self, *, directory: bool = False) -> list[tuple[str, dict[str, Any]]]:
        """(event type, envelope) of every staged event, oldest first; the notifications directory's address
        events (the only ones with a name and an address) only with `directory`."""
        async with self.service.engine.connect() as connection:
            query = select(orm.outbox.c.event_type, orm.outbox.c.body).order_by(orm.outbox.c.id)
            rows = [(row.event_type, json.loads(row.body)) for row in await connection.execute(query)]
        return [(t, body) for t, body in rows if directory or not t.startswith(DIRECTORY_EVENTS)]

    async def outbox_text(self) -> str:
        """Every staged event body, as stored, but the directory's address events."""
        async with self.service.engine.connect() as connection:
            query = select(orm.outbox.c.event_type, orm.outbox.c.body)
            rows = (await connection.execute(query)).all()
            return "\n".join(bytes(body).decode() for t, body in rows if not t.startswith(DIRECTORY_EVENTS))

    async def snapshot(self) -> dict[str, list[Any]]:
        """Every set-up row and outbox row: what "nothing changed" compares."""
        tables = (
            orm.cohorts,
            orm.practices,
            orm.supervisors,
            orm.supervisor_practices,
            orm.students,
            orm.groups,
            orm.group_students,
            orm.group_supervisors,
        )
        async with self.service.engine.connect() as connection:
            snapshot = {
                table.name: sorted(
                    (tuple(str(v) for v in row) for row in await connection.execute(select(table))), key=str
                )
                for table in tables
            }
            # The staged events, not their delivery attempts (the relay keeps trying to publish them).
            staged = select(orm.outbox.c.event_id, orm.outbox.c.body).order_by(orm.outbox.c.id)
            snapshot["outbox"] = [tuple(row) for row in await connection.execute(staged)]
            return snapshot

    # Set-up through the API, as a coordinator; each returns the created object's JSON.

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(path, json=body, headers=self.coordinator)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def cohort(self, year: str = "2026-27", **fields: Any) -> dict[str, Any]:
        body = {"academic_year": year, "placement_start": "2026-09-07", "placement_end": "2026-11-13", **fields}
        return await self.post("/cohorts", body)

    async def practice(self, ods_code: str = "Y03053", **fields: Any) -> dict[str, Any]:
        return await self.post(
            "/practices", {"name": "Riverside Medical Centre", "ods_code": ods_code, "area": "Hackney", **fields}
        )

    async def supervisor(self, user_id: str = "gp-tutor-1", **fields: Any) -> dict[str, Any]:
        body = {"user_id": user_id, "name": "Dr Asha Patel", "email": f"{user_id}@nhs.example", **fields}
        return await self.post("/supervisors", body)

    async def student(self, university_id: str = "20231234", **fields: Any) -> dict[str, Any]:
        body = {
            "university_id": university_id,
            "name": f"Student {university_id}",
            "email": f"s{university_id}@student.example.ac.uk",
            **fields,
        }
        return await self.post("/students", body)

    async def group(self, cohort: dict[str, Any], practice: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {"cohort_id": cohort["id"], "practice_id": practice["id"], "name": "A1", **fields}
        return await self.post("/groups", body)

    async def import_csv(self, kind: str, text: str, headers: dict[str, str] | None = None) -> httpx.Response:
        headers = {**(headers or self.coordinator), "Content-Type": "text/csv"}
        return await self.client.post(f"/imports/{kind}", content=text.encode(), headers=headers)


@contextlib.asynccontextmanager
async def running_projects(url: str, **settings: Any) -> AsyncIterator[Projects]:
    values = {
        "PROJECTS_DATABASE_URL": url,
        "BROKER_NAMESPACE": f"t-{uuid.uuid4().hex[:8]}",
        # Nothing consumes this namespace: events stay in the outbox, which is what these tests inspect.
        "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:1/",
        "OUTBOX_MAX_BACKOFF_S": 60,
        **settings,
    }
    service = build(ProjectsSettings.model_validate(values))
    async with LifespanManager(service.app):
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://projects") as client:
            yield Projects(service, client)
