"""What the project tests share: a seeded CAP year (cohort, practices, groups, people, partners), tokens for
each kind of user, a valid proposal, and a project taken to a given point. It holds no tests;
the `year` fixture is in conftest.py."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert

from medic.projects.adapters import orm
from medic.shared.auth import Role, issue_token
from services.projects.tests.test_partner_support import Projects

NOW = datetime(2026, 11, 25, tzinfo=UTC)


@dataclass
class Year:
    """A cohort with two groups at two practices, each with its students and supervisor, and a partner."""

    app: Projects
    cohort: uuid.UUID
    group: uuid.UUID
    other_group: uuid.UUID
    students: list[uuid.UUID]
    partner: str
    other_partner: str

    def student(self, university_id: str = "2300001") -> dict[str, str]:
        return auth_as(self.app, university_id, Role.STUDENT)

    @property
    def supervisor(self) -> dict[str, str]:
        return auth_as(self.app, "dr.ahmed", Role.SUPERVISOR)

    @property
    def partner_user(self) -> dict[str, str]:
        return auth_as(self.app, "p.jones", Role.PARTNER, organisation=uuid.UUID(self.partner))

    async def start(self, **fields: Any) -> dict[str, Any]:
        body = {"group_id": str(self.group), "title": "Cooking on a budget", "topic": "nutrition"}
        response = await self.app.client.post(
            "/projects", json={**body, "partner_ids": [self.partner], **fields}, headers=self.student()
        )
        assert response.status_code == 201, response.text
        project: dict[str, Any] = response.json()
        return project


def auth_as(app: Projects, user: str, *roles: Role, organisation: uuid.UUID | None = None) -> dict[str, str]:
    """Headers of the user whose token's subject is `user` (a student's university id, a supervisor's user id)."""
    token = issue_token(app.service.settings, roles=roles, subject=user, organisation_id=organisation)
    return {"Authorization": f"Bearer {token}"}


async def seed_year(app: Projects) -> Year:
    cohort, practice, other_practice = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    group, other_group = uuid.uuid4(), uuid.uuid4()
    supervisor, other_supervisor = uuid.uuid4(), uuid.uuid4()
    students = [uuid.uuid4() for _ in range(3)]
    async with app.service.engine.begin() as connection:
        await connection.execute(
            insert(orm.cohorts).values(
                id=cohort,
                academic_year="2026-27",
                placement_start=date(2027, 1, 4),
                placement_end=date(2027, 3, 12),
                min_group_size=2,
                max_group_size=6,
                created_at=NOW,
            )
        )
        await connection.execute(
            insert(orm.practices),
            [
                {
                    "id": practice,
                    "name": "Canal Side Surgery",
                    "ods_code": "E85001",
                    "area": "Hammersmith",
                    "created_at": NOW,
                },
                {
                    "id": other_practice,
                    "name": "Hill Practice",
                    "ods_code": "E85002",
                    "area": "Fulham",
                    "created_at": NOW,
                },
            ],
        )
        await connection.execute(
            insert(orm.supervisors),
            [
                {
                    "id": supervisor,
                    "user_id": "dr.ahmed",
                    "name": "Dr Ahmed",
                    "email": "a@nhs.example",
                    "created_at": NOW,
                },
                {
                    "id": other_supervisor,
                    "user_id": "dr.brown",
                    "name": "Dr Brown",
                    "email": "b@nhs.example",
                    "created_at": NOW,
                },
            ],
        )
        await connection.execute(
            insert(orm.students),
            [
                {
                    "id": s,
                    "university_id": f"230000{i + 1}",
                    "name": f"Student {i}",
                    "email": f"s{i}@uni.example",
                    "created_at": NOW,
                }
                for i, s in enumerate(students)
            ],
        )
        await connection.execute(
            insert(orm.groups),
            [
                {"id": group, "cohort_id": cohort, "practice_id": practice, "name": "A", "created_at": NOW},
                {"id": other_group, "cohort_id": cohort, "practice_id": other_practice, "name": "B", "created_at": NOW},
            ],
        )
        await connection.execute(
            insert(orm.group_students),
            [
                {"group_id": group, "student_id": students[0], "cohort_id": cohort},
                {"group_id": group, "student_id": students[1], "cohort_id": cohort},
                {"group_id": other_group, "student_id": students[2], "cohort_id": cohort},
            ],
        )
        await connection.execute(
            insert(orm.group_supervisors),
            [
                {"group_id": group, "supervisor_id": supervisor},
                {"group_id": other_group, "supervisor_id": other_supervisor},
            ],
        )
    partner = (await app.register(name="Riverside Food Bank"))["id"]
    other_partner = (await app.register(name="Northside Youth Network"))["id"]
    return Year(app, cohort, group, other_group, students[:2], partner, other_partner)


PROPOSAL: dict[str, Any] = {
    "title": "Cooking on a budget",
    "topic": "nutrition",
    "need": {"summary": "Families report little access to fresh food", "evidence": ["practice audit"]},
    "aim": {
        "what": "more families cook fresh meals",
        "how_much": "20% more",
        "by_when": "2027-03-01",
        "target_population": "families at the practice",
    },
    "measures": [
        {
            "name": "fresh meals",
            "type": "outcome",
            "definition": "fresh meals a week",
            "data_source": "survey",
            "baseline": "2",
            "target": "3",
        }
    ],
}


def allowed(project: dict[str, Any]) -> set[str]:
    return {a["action"] for a in project["actions"] if a["allowed"]}


async def act(
    year: Year, project_id: str, action: str, headers: dict[str, str], reason: str | None = None
) -> dict[str, Any]:
    response = await year.app.client.post(
        f"/projects/{project_id}/actions/{action}", json={"reason": reason}, headers=headers
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def put(year: Year, project_id: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = await year.app.client.put(f"/projects/{project_id}/{path}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def submitted_project(year: Year) -> dict[str, Any]:
    """A project taken by its group and supervisor from draft to submitted, by the shortest path."""
    student, supervisor = year.student(), year.supervisor
    pid = (await year.start())["id"]
    await put(year, pid, "proposal", {**PROPOSAL, "partner_ids": [year.partner]}, student)
    await act(year, pid, "submit_proposal", student)
    await act(year, pid, "approve", supervisor)
    governance = {"classification": "audit", "classification_reason": "audit of uptake", "risk_assessment": "low"}
    await put(year, pid, "governance", governance, student)
    await act(year, pid, "clear_governance", supervisor)
    await act(year, pid, "start_delivery", student)
    session = {"held_on": "2027-01-20", "place": "Community hall", "format": "workshop", "reach": {"adults": 14}}
    response = await year.app.client.post(f"/projects/{pid}/delivery-sessions", json=session, headers=student)
    assert response.status_code == 201, response.text
    await act(year, pid, "start_evaluation", student)
    evaluation = {"results": "met", "what_worked": "demos", "limitations": "small", "sustainability": "handed over"}
    await put(year, pid, "evaluation", evaluation, student)
    return await act(year, pid, "submit", student)
