"""Who sees what of the set-up, on SQLite and PostgreSQL: a table of viewers against every object and list, and
every set-up route against every role."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medic.shared.auth import Role
from services.projects.tests.setup_support import BACKENDS, Projects, database_url, running_projects

COLLECTIONS = ("cohorts", "practices", "supervisors", "students", "groups")


@dataclass
class Year:
    """Group A (students s1, s2; tutor-1) at practice P1 and group B (s3, s4; tutor-2) at P2, in cohort C; tutor-1
    is also linked to P3, where no group is; s5 is in no group. `ids[name]` is each object's id."""

    projects: Projects
    ids: dict[str, str]


@pytest.fixture(params=BACKENDS)
async def year(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Year]:
    async with database_url(request.param, tmp_path) as url, running_projects(url) as projects:
        ids: dict[str, str] = {"C": (await projects.cohort())["id"]}
        for name, code in (("P1", "Y00001"), ("P2", "Y00002"), ("P3", "Y00003")):
            ids[name] = (await projects.practice(code))["id"]
        ids["tutor-1"] = (await projects.supervisor("tutor-1", practice_ids=[ids["P3"]]))["id"]
        ids["tutor-2"] = (await projects.supervisor("tutor-2"))["id"]
        for n in range(1, 6):
            ids[f"s{n}"] = (await projects.student(f"2023000{n}"))["id"]
        for group, practice, students, tutor in (("A", "P1", "s1 s2", "tutor-1"), ("B", "P2", "s3 s4", "tutor-2")):
            body = {
                "name": group,
                "student_ids": [ids[s] for s in students.split()],
                "supervisor_ids": [ids[tutor]],
            }
            ids[group] = (await projects.group({"id": ids["C"]}, {"id": ids[practice]}, **body))["id"]
        yield Year(projects, ids)


EVERYTHING = {
    "cohorts": {"C"},
    "practices": {"P1", "P2", "P3"},
    "supervisors": {"tutor-1", "tutor-2"},
    "students": {"s1", "s2", "s3", "s4", "s5"},
    "groups": {"A", "B"},
}
NOTHING: dict[str, set[str]] = {collection: set() for collection in COLLECTIONS}

# (roles, subject) -> what each list shows; every other object of the year reads as 404.
VIEWERS: list[tuple[tuple[Role, ...], str, dict[str, set[str]]]] = [
    ((Role.COORDINATOR,), "coordinator-1", EVERYTHING),
    (
        (Role.SUPERVISOR,),
        "tutor-1",
        {
            "cohorts": {"C"},
            "practices": {"P1", "P3"},  # the group's, and the one the supervisor is linked to
            "supervisors": {"tutor-1"},
            "students": {"s1", "s2"},
            "groups": {"A"},
        },
    ),
    (
        (Role.STUDENT,),
        "20230001",
        {
            "cohorts": {"C"},
            "practices": {"P1"},
            "supervisors": {"tutor-1"},
            "students": {"s1"},  # their own record, not their group-mates'
            "groups": {"A"},
        },
    ),
    ((Role.STUDENT,), "20230005", {**NOTHING, "students": {"s5"}}),  # in no group yet
    ((Role.SUPERVISOR,), "unknown-tutor", NOTHING),
    (
        (Role.SUPERVISOR, Role.STUDENT),
        "20230003",
        {
            **NOTHING,
            "cohorts": {"C"},
            "practices": {"P2"},
            "supervisors": {"tutor-2"},
            "students": {"s3"},
            "groups": {"B"},
        },
    ),
]


@pytest.mark.parametrize(("roles", "subject", "visible"), VIEWERS, ids=[v[1] for v in VIEWERS])
async def test_each_viewer_sees_exactly_their_part_and_the_rest_is_404(
    year: Year, roles: tuple[Role, ...], subject: str, visible: dict[str, set[str]]
) -> None:
    projects, names = year.projects, {v: k for k, v in year.ids.items()}
    headers = projects.as_(*roles, subject=subject)
    for collection in COLLECTIONS:
        listed = await projects.client.get(f"/{collection}", headers=headers)
        assert listed.status_code == 200, listed.text
        assert {names[item["id"]] for item in listed.json()} == visible[collection], collection
        for name in EVERYTHING[collection]:
            read = await projects.client.get(f"/{collection}/{year.ids[name]}", headers=headers)
            assert read.status_code == (200 if name in visible[collection] else 404), (collection, name)


async def test_every_set_up_route_admits_only_its_roles(year: Year) -> None:
    """Reads: coordinators, supervisors, students; changes: coordinators only; partners and ops: nothing."""
    projects = year.projects
    document = (await projects.client.get("/openapi.json")).json()
    values = {
        "cohort_id": year.ids["C"],
        "practice_id": year.ids["P1"],
        "supervisor_id": year.ids["tutor-1"],
        "student_id": year.ids["s5"],
        "group_id": year.ids["A"],
    }
    checked = 0
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            if "setup" not in operation["tags"]:
                continue
            path = template.format(**values)
            admitted = {Role.COORDINATOR} if method != "get" else {Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT}
            for role in Role:
                before = await projects.snapshot()
                # No body: an admitted role gets past the role check to a 4xx about the body, never a 403.
                response = await projects.client.request(method, path, headers=projects.as_(role, subject="x"))
                assert (response.status_code == 403) == (role not in admitted), (method, path, role, response.text)
                if role not in admitted:
                    assert await projects.snapshot() == before
                checked += 1
    assert checked == len(Role) * 25  # every set-up operation
