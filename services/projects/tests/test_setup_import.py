"""CSV imports of practices, students and groups on SQLite and PostgreSQL: every line error at once, nothing
imported when any line is bad, the same file twice changes and publishes nothing, changed rows update."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given

from medic.projects.adapters import orm
from medic.shared.auth import Role
from services.projects.tests.setup_csv import practices_csv, students_csv
from services.projects.tests.setup_support import BACKENDS, Projects, database_url, running_projects

PRACTICES = """ods_code,name,area
Y03053,Riverside Medical Centre,Hackney
e85001,"Canal Side Surgery, Brent",Brent
"""
STUDENTS = """university_id,name,email
20230001,Sam Okafor,Sam.Okafor@student.example.ac.uk
20230002,Priya Shah,priya.shah@student.example.ac.uk
20230003,Tom Brennan,tom.brennan@student.example.ac.uk
20230004,Ada Lovelace,ada.lovelace@student.example.ac.uk
"""
GROUPS = """cohort,group,practice_ods_code,student_university_id,supervisor_user_ids
2026-27,A1,Y03053,20230001,tutor-1;tutor-2
2026-27,A1,Y03053,20230002,
2026-27,B1,E85001,20230003,tutor-2
2026-27,B1,E85001,20230004,
"""


@pytest.fixture(params=BACKENDS)
async def projects(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Projects]:
    async with database_url(request.param, tmp_path) as url, running_projects(url) as running:
        yield running


def summary(created: int = 0, updated: int = 0, unchanged: int = 0) -> dict[str, int]:
    return {"created": created, "updated": updated, "unchanged": unchanged}


def errors(response: Any) -> list[tuple[int, str]]:
    return [(error["loc"][1], error["loc"][2]) for error in response.json()["detail"]]


async def test_practices_import_then_the_same_file_again_changes_nothing(projects: Projects) -> None:
    first = await projects.import_csv("practices", PRACTICES)
    assert first.status_code == 200, first.text
    assert first.json() == summary(created=2)
    listed = (await projects.client.get("/practices", headers=projects.coordinator)).json()
    assert [(p["ods_code"], p["name"]) for p in listed] == [
        ("E85001", "Canal Side Surgery, Brent"),
        ("Y03053", "Riverside Medical Centre"),
    ]
    before = await projects.snapshot()
    again = await projects.import_csv("practices", "\ufeff" + PRACTICES.replace("e85001", "E85001"))  # as Excel saves
    assert again.json() == summary(unchanged=2)
    assert await projects.snapshot() == before

    moved = await projects.import_csv("practices", "name,area,ods_code\nRiverside Medical Centre,Islington,Y03053\n")
    assert moved.json() == summary(updated=1)
    types = [t for t, _ in await projects.outbox()]
    assert types == ["projects.practice.registered.v1"] * 2 + ["projects.practice.changed.v1"]


async def test_every_bad_line_is_reported_with_its_number_and_column_and_nothing_is_imported(
    projects: Projects,
) -> None:
    text = (
        "ods_code,name,area\n"
        "Y03053,Riverside Medical Centre,Hackney\n"
        "\n"  # blank lines are skipped, and still counted
        "Y0305,,Hackney\n"  # line 4: two errors
        'E85001,"Canal Side",   \n'  # line 5
        "y03053,Riverside again,Hackney\n"  # line 6: the same practice as line 2
        "F84003,Too,many,cells\n"  # line 7
    )
    response = await projects.import_csv("practices", text)
    assert response.status_code == 422, response.text
    assert errors(response) == [(4, "name"), (4, "ods_code"), (5, "area"), (6, "ods_code"), (7, "row")]
    assert "line 2" in response.json()["detail"][3]["msg"]
    assert await projects.count(orm.practices) == 0
    assert await projects.outbox() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(1, "header")]),
        ("ods_code,name\nY03053,Riverside\n", [(1, "area")]),
        ("ods_code,name,area,colour\nY03053,Riverside,Hackney,blue\n", [(1, "colour")]),
        ("ods_code,name,area,name\n", [(1, "name")]),
        ('ods_code,name,area\nY03053,"Riverside,Hackney\n', [(2, "row")]),  # a quote never closed
    ],
)
async def test_a_file_that_is_not_the_table_is_refused_by_its_header(
    projects: Projects, text: str, expected: list[tuple[int, str]]
) -> None:
    response = await projects.import_csv("practices", text)
    assert response.status_code == 422, response.text
    assert errors(response) == expected
    assert await projects.count(orm.practices) == 0


async def test_only_utf8_csv_is_read(projects: Projects) -> None:
    as_json = {**projects.coordinator, "Content-Type": "application/json"}
    wrong_type = await projects.client.post("/imports/practices", content=b"{}", headers=as_json)
    assert wrong_type.status_code == 415
    latin1 = {**projects.coordinator, "Content-Type": "text/csv; charset=latin-1"}
    body = "ods_code,name,area\nY03053,Café Surgery,Hackney\n".encode("latin-1")
    not_utf8 = await projects.client.post("/imports/practices", content=body, headers=latin1)
    assert not_utf8.status_code == 400
    assert await projects.count(orm.practices) == 0


async def test_students_import_keeps_names_and_emails_out_of_events(projects: Projects) -> None:
    first = await projects.import_csv("students", STUDENTS)
    assert first.json() == summary(created=4)
    students = (await projects.client.get("/students", headers=projects.coordinator)).json()
    assert students[0]["email"] == "sam.okafor@student.example.ac.uk"
    renamed = await projects.import_csv("students", STUDENTS.replace("Sam Okafor", "Samuel Okafor"))
    assert renamed.json() == summary(updated=1, unchanged=3)
    staged = await projects.outbox_text()
    for personal in ("Okafor", "Priya", "student.example", "20230001"):
        assert personal not in staged
    types = [t for t, _ in await projects.outbox()]
    assert types == ["projects.student.registered.v1"] * 4 + ["projects.student.changed.v1"]

    bad = await projects.import_csv("students", "university_id,name,email\n12345,Sam,sam@localhost\n")
    assert errors(bad) == [(2, "email"), (2, "university_id")]


async def seed(projects: Projects) -> None:
    await projects.cohort(min_group_size=2, max_group_size=3)
    assert (await projects.import_csv("practices", PRACTICES)).status_code == 200
    assert (await projects.import_csv("students", STUDENTS)).status_code == 200
    for user_id in ("tutor-1", "tutor-2"):
        await projects.supervisor(user_id)


async def test_groups_import_forms_groups_and_again_changes_nothing(projects: Projects) -> None:
    await seed(projects)
    first = await projects.import_csv("groups", GROUPS)
    assert first.status_code == 200, first.text
    assert first.json() == summary(created=2)
    groups = (await projects.client.get("/groups", headers=projects.coordinator)).json()
    assert [(g["name"], len(g["student_ids"]), len(g["supervisor_ids"])) for g in groups] == [
        ("A1", 2, 2),
        ("B1", 2, 1),
    ]
    types = [t for t, _ in await projects.outbox()]
    assert types.count("projects.group.created.v1") == 2
    assert types.count("projects.group.formed.v1") == 2

    before = await projects.snapshot()
    assert (await projects.import_csv("groups", GROUPS)).json() == summary(unchanged=2)
    assert await projects.snapshot() == before

    # Ada moves from B1 to A1; B1 gets Tom alone... which is below the minimum, so Priya moves too.
    moved = GROUPS.replace("B1,E85001,20230004", "A1,Y03053,20230004").replace(
        "A1,Y03053,20230002", "B1,E85001,20230002"
    )
    assert (await projects.import_csv("groups", moved)).json() == summary(updated=2)
    groups = (await projects.client.get("/groups", headers=projects.coordinator)).json()
    students = {
        s["university_id"]: s["id"]
        for s in (await projects.client.get("/students", headers=projects.coordinator)).json()
    }
    assert set(groups[0]["student_ids"]) == {students["20230001"], students["20230004"]}
    assert set(groups[1]["student_ids"]) == {students["20230002"], students["20230003"]}
    assert [t for t, _ in await projects.outbox()].count("projects.group.formed.v1") == 2  # formed already


@pytest.mark.parametrize(
    ("change", "status", "expected"),
    [
        # Lines malformed on their own: 422.
        (
            ("2026-27,A1,Y03053,20230002,", "2026-28,A1,Y03053,2023,"),
            422,
            [(3, "cohort"), (3, "student_university_id")],
        ),
        (("2026-27,B1,E85001,20230004,", "2026-27,B1,Y03053,20230004,"), 422, [(5, "practice_ods_code")]),
        (("2026-27,B1,E85001,20230004,", "2026-27,B1,E85001,20230001,"), 422, [(5, "student_university_id")]),
        # Naming what does not exist: 404.
        (
            ("2026-27,A1,Y03053,20230002,", "2027-28,A1,Y03053,20230009,nobody"),
            404,
            [(3, "cohort"), (3, "student_university_id"), (3, "supervisor_user_ids")],
        ),
        ((",B1,E85001,", ",B1,F84003,"), 404, [(4, "practice_ods_code")]),
        # Contradicting the cohort's rules: 409.
        (
            ("2026-27,A1,Y03053,20230002,", "2026-27,C1,Y03053,20230002,"),
            409,
            [(2, "student_university_id"), (3, "student_university_id")],
        ),
    ],
)
async def test_groups_import_errors_are_reported_together_and_nothing_is_imported(
    projects: Projects, change: tuple[str, str], status: int, expected: list[tuple[int, str]]
) -> None:
    await seed(projects)
    before = await projects.snapshot()
    response = await projects.import_csv("groups", GROUPS.replace(*change))  # every occurrence
    assert response.status_code == status, response.text
    assert errors(response) == expected
    assert await projects.snapshot() == before


async def test_a_student_in_a_group_the_file_leaves_alone_cannot_be_placed_by_it(projects: Projects) -> None:
    await seed(projects)
    assert (await projects.import_csv("groups", GROUPS)).status_code == 200
    before = await projects.snapshot()
    only_a1 = "\n".join(line for line in GROUPS.splitlines() if "B1" not in line) + "\n2026-27,A1,Y03053,20230003,\n"
    response = await projects.import_csv("groups", only_a1)
    assert response.status_code == 409, response.text
    assert errors(response) == [(4, "student_university_id")]
    assert "'B1'" in response.json()["detail"][0]["msg"]
    assert await projects.snapshot() == before


async def test_only_coordinators_import(projects: Projects) -> None:
    for role in (Role.SUPERVISOR, Role.STUDENT, Role.PARTNER, Role.OPS):
        response = await projects.import_csv("practices", PRACTICES, headers=projects.as_(role))
        assert response.status_code == 403
    assert await projects.count(orm.practices) == 0


@pytest.fixture
async def sqlite_projects(tmp_path: Path) -> AsyncIterator[Projects]:
    async with running_projects(f"sqlite+aiosqlite:///{tmp_path}/projects.db") as running:
        yield running


@hypothesis.settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(practices=practices_csv(), students=students_csv())
async def test_any_well_formed_file_imports_and_again_changes_nothing(
    sqlite_projects: Projects, practices: str, students: str
) -> None:
    """Whatever is stored already (earlier examples share the database), a well-formed file imports, and the same
    file a second time changes nothing and publishes nothing."""
    projects = sqlite_projects
    for kind, text in (("practices", practices), ("students", students)):
        first = await projects.import_csv(kind, text)
        assert first.status_code == 200, first.text
        rows = sum(first.json().values())
        assert rows == len(text.splitlines()) - 1
        before = await projects.snapshot()
        again = await projects.import_csv(kind, text)
        assert again.json() == summary(unchanged=rows)
        assert await projects.snapshot() == before
