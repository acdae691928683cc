"""What the milestone tests share: a cohort seeded straight into the set-up tables, projects started over HTTP,
the app on a given database with the scheduler's day under the test's control. It holds no tests.
"""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import insert

from medic.projects.adapters import orm
from medic.projects.bootstrap import build
from medic.projects.settings import ProjectsSettings
from medic.shared.auth import Role, issue_token
from services.projects.tests.test_partner_support import Projects

NOW = datetime(2026, 11, 25, tzinfo=UTC)
SUPERVISOR = "dr.ahmed"  # supervises every group of the cohort
PROPOSAL: dict[str, Any] = {
    "title": "Cooking on a budget",
    "topic": "nutrition",
    "need": {"summary": "Families report little access to fresh food"},
    "aim": {"what": "fresh meals", "how_much": "20% more", "by_when": "2027-03-01", "target_population": "families"},
    "measures": [
        {
            "name": "fresh meals",
            "type": "outcome",
            "definition": "a week",
            "data_source": "survey",
            "baseline": "2",
            "target": "3",
        }
    ],
}


@dataclass
class Clock:
    """The scheduler's "today", set by the test."""

    day: date

    def __call__(self) -> date:
        return self.day


@dataclass
class Cohort:
    app: Projects
    id: uuid.UUID
    partner: str
    groups: dict[uuid.UUID, str] = field(default_factory=dict)  # group id -> its student's university id

    def headers(self, user: str, role: Role) -> dict[str, str]:
        token = issue_token(self.app.service.settings, roles=[role], subject=user)
        return {"Authorization": f"Bearer {token}"}

    @property
    def coordinator(self) -> dict[str, str]:
        return self.app.coordinator

    async def start_project(self, group_id: uuid.UUID) -> str:
        """A draft project of the group, started by its student."""
        body = {"group_id": str(group_id), "title": "Cooking", "topic": "nutrition", "partner_ids": [self.partner]}
        headers = self.headers(self.groups[group_id], Role.STUDENT)
        response = await self.app.client.post("/projects", json=body, headers=headers)
        assert response.status_code == 201, response.text
        project_id: str = response.json()["id"]
        return project_id

    async def act(self, project_id: str, action: str, headers: dict[str, str], reason: str | None = None) -> None:
        path = f"/projects/{project_id}/actions/{action}"
        response = await self.app.client.post(path, json={"reason": reason}, headers=headers)
        assert response.status_code == 200, response.text

    async def propose(self, project_id: str, group_id: uuid.UUID) -> None:
        student = self.headers(self.groups[group_id], Role.STUDENT)
        body = {**PROPOSAL, "partner_ids": [self.partner]}
        response = await self.app.client.put(f"/projects/{project_id}/proposal", json=body, headers=student)
        assert response.status_code == 200, response.text
        await self.act(project_id, "submit_proposal", student)

    async def set_milestone(self, kind: str, due_on: date) -> None:
        path = f"/cohorts/{self.id}/milestones/{kind}"
        response = await self.app.client.put(path, json={"due_on": due_on.isoformat()}, headers=self.coordinator)
        assert response.status_code == 200, response.text

    async def reminders(self) -> list[tuple[str, str, str]]:
        """(project id, milestone, threshold) of every reminder staged in the outbox, in order."""
        return [
            (data["project_id"], data["milestone"], event_type.split(".")[2])
            for event_type, data in await reminder_events(self.app)
        ]


async def reminder_events(app: Projects) -> list[tuple[str, dict[str, Any]]]:
    return [
        (event_type, json.loads(body)["data"])
        for event_type, body in await app.outbox()
        if event_type.startswith("projects.milestone.")
    ]


async def seed_cohort(app: Projects, groups: int = 2) -> Cohort:
    """A cohort (placement 4 January to 12 March 2027) at one practice, `groups` groups of one student each."""
    cohort = Cohort(app, uuid.uuid4(), partner=(await app.register(name="Riverside Food Bank"))["id"])
    practice, supervisor = uuid.uuid4(), uuid.uuid4()
    cohort.groups = {uuid.uuid4(): f"23{n:05d}" for n in range(groups)}
    students = {group_id: uuid.uuid4() for group_id in cohort.groups}
    async with app.service.engine.begin() as connection:
        await connection.execute(
            insert(orm.cohorts).values(
                id=cohort.id,
                academic_year="2026-27",
                placement_start=date(2027, 1, 4),
                placement_end=date(2027, 3, 12),
                min_group_size=1,
                max_group_size=6,
                created_at=NOW,
            )
        )
        await connection.execute(
            insert(orm.practices).values(
                id=practice, name="Canal Side", ods_code="E85001", area="Brent", created_at=NOW
            )
        )
        await connection.execute(
            insert(orm.supervisors).values(
                id=supervisor, user_id=SUPERVISOR, name="Dr Ahmed", email="a@nhs.example", created_at=NOW
            )
        )
        await connection.execute(
            insert(orm.students),
            [
                {"id": students[g], "university_id": uid, "name": f"S {uid}", "email": f"{uid}@uni.example"}
                | {"created_at": NOW}
                for g, uid in cohort.groups.items()
            ],
        )
        await connection.execute(
            insert(orm.groups),
            [
                {"id": g, "cohort_id": cohort.id, "practice_id": practice, "name": f"G{n}", "created_at": NOW}
                for n, g in enumerate(cohort.groups)
            ],
        )
        await connection.execute(
            insert(orm.group_students),
            [{"group_id": g, "student_id": students[g], "cohort_id": cohort.id} for g in cohort.groups],
        )
        await connection.execute(
            insert(orm.group_supervisors), [{"group_id": g, "supervisor_id": supervisor} for g in cohort.groups]
        )
    return cohort


@asynccontextmanager
async def projects_on(
    url: str, clock: Clock, *, namespace: str | None = None, interval_s: float = 3600.0
) -> AsyncIterator[Projects]:
    """The projects app on the database at `url`; its scheduler reads the day from `clock` and first ticks at start."""
    settings = ProjectsSettings(
        PROJECTS_DATABASE_URL=url,
        BROKER_NAMESPACE=namespace or f"t-{uuid.uuid4().hex[:8]}",
        RABBITMQ_URL="amqp://guest:guest@127.0.0.1:1/",  # nothing listens: events stay in the outbox
        OUTBOX_MAX_BACKOFF_S=60,
        REMINDER_INTERVAL_S=interval_s,
    )
    service = build(settings)
    service.reminders.today = clock
    async with LifespanManager(service.app, startup_timeout=30):
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://projects") as client:
            yield Projects(service, client)
    await service.engine.dispose()
