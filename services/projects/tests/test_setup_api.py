"""The set-up HTTP API on SQLite and PostgreSQL: what each route stores and publishes, bad input, conflicts."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from medic.projects.adapters import orm
from services.projects.tests.setup_support import BACKENDS, Projects, database_url, running_projects


@pytest.fixture(params=BACKENDS)
async def projects(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Projects]:
    async with database_url(request.param, tmp_path) as url, running_projects(url) as running:
        yield running


async def test_a_year_is_set_up_and_every_change_is_an_event_without_personal_data(projects: Projects) -> None:
    cohort = await projects.cohort()
    assert (cohort["academic_year"], cohort["min_group_size"], cohort["max_group_size"]) == ("2026-27", 2, 6)
    practice = await projects.practice(ods_code="e85001", name="  Riverside   Medical Centre ")
    assert (practice["ods_code"], practice["name"]) == ("E85001", "Riverside Medical Centre")
    tutor = await projects.supervisor(practice_ids=[practice["id"]], email="A.Patel@NHS.example")
    assert (tutor["practice_ids"], tutor["email"]) == ([practice["id"]], "a.patel@nhs.example")
    first = await projects.student("20230001", name="Sam Okafor", email="sam.okafor@student.example.ac.uk")
    second = await projects.student("20230002", name="Priya Shah", email="priya.shah@student.example.ac.uk")
    group = await projects.group(cohort, practice, student_ids=[first["id"]], supervisor_ids=[tutor["id"]])
    assert group["student_ids"] == [first["id"]]
    added = await projects.client.put(f"/groups/{group['id']}/students/{second['id']}", headers=projects.coordinator)
    assert added.status_code == 200, added.text
    assert sorted(added.json()["student_ids"]) == sorted([first["id"], second["id"]])

    events = await projects.outbox()
    assert [event_type for event_type, _ in events] == [
        "projects.cohort.created.v1",
        "projects.practice.registered.v1",
        "projects.supervisor.registered.v1",
        "projects.student.registered.v1",
        "projects.student.registered.v1",
        "projects.group.created.v1",
        "projects.group.changed.v1",
        "projects.group.formed.v1",  # two students: the cohort's minimum
    ]
    formed = events[-1][1]
    assert formed["subject"] == f"groups/{group['id']}"
    assert formed["data"]["supervisor_ids"] == [tutor["id"]]
    assert (formed["data"]["cohort_id"], formed["data"]["practice_id"]) == (cohort["id"], practice["id"])
    staged = await projects.outbox_text()
    for personal in ("Sam Okafor", "sam.okafor", "Priya Shah", "priya.shah", "Asha", "a.patel", "20230001"):
        assert personal.lower() not in staged.lower()


async def test_lists_are_paged_in_a_stable_order(projects: Projects) -> None:
    for university_id in ("20230003", "20230001", "20230002"):
        await projects.student(university_id)
    page = await projects.client.get("/students", params={"limit": 2}, headers=projects.coordinator)
    rest = await projects.client.get("/students", params={"limit": 2, "offset": 2}, headers=projects.coordinator)
    ids = [s["university_id"] for s in page.json() + rest.json()]
    assert ids == ["20230001", "20230002", "20230003"]
    too_many = await projects.client.get("/students", params={"limit": 501}, headers=projects.coordinator)
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_groups_filter_by_cohort(projects: Projects) -> None:
    this_year, next_year = await projects.cohort("2026-27"), await projects.cohort("2027-28")
    practice = await projects.practice()
    mine = await projects.group(this_year, practice)
    await projects.group(next_year, practice)
    listed = await projects.client.get("/groups", params={"cohort_id": this_year["id"]}, headers=projects.coordinator)
    assert [g["id"] for g in listed.json()] == [mine["id"]]


GOOD = {
    "/cohorts": {"academic_year": "2026-27", "placement_start": "2026-09-07", "placement_end": "2026-11-13"},
    "/practices": {"name": "Riverside Medical Centre", "ods_code": "Y03053", "area": "Hackney"},
    "/supervisors": {"user_id": "gp-tutor-1", "name": "Dr Asha Patel", "email": "a.patel@nhs.example"},
    "/students": {"university_id": "20231234", "name": "Sam Okafor", "email": "sam@student.example.ac.uk"},
}


@pytest.mark.parametrize(
    ("path", "change", "field"),
    [
        ("/cohorts", {"academic_year": "2026-28"}, "academic_year"),
        ("/cohorts", {"academic_year": "2026/27"}, "academic_year"),
        ("/cohorts", {"placement_start": "07/09/2026"}, "placement_start"),
        ("/cohorts", {"placement_end": 1788000000}, "placement_end"),
        ("/cohorts", {"placement_end": "2026-02-30"}, "placement_end"),
        ("/cohorts", {"min_group_size": 0}, "min_group_size"),
        ("/cohorts", {"max_group_size": 21}, "max_group_size"),
        ("/cohorts", {"colour": "blue"}, "colour"),
        ("/practices", {"ods_code": "Y0305"}, "ods_code"),
        ("/practices", {"ods_code": "RAL01"}, "ods_code"),
        ("/practices", {"name": "   "}, "name"),
        ("/practices", {"name": "Nul \u0000 Practice"}, "name"),
        ("/practices", {"area": "x" * 101}, "area"),
        ("/supervisors", {"user_id": "has space"}, "user_id"),
        ("/supervisors", {"email": "not-an-email"}, "email"),
        ("/supervisors", {"practice_ids": ["not-a-uuid"]}, "practice_ids"),
        ("/students", {"university_id": "12345"}, "university_id"),
        ("/students", {"university_id": "A1234567"}, "university_id"),
        ("/students", {"name": ""}, "name"),
        ("/students", {"email": "sam@localhost"}, "email"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    projects: Projects, path: str, change: dict[str, Any], field: str
) -> None:
    before = await projects.snapshot()
    body = json.dumps({**GOOD[path], **change})
    headers = {**projects.coordinator, "Content-Type": "application/json"}
    response = await projects.client.post(path, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert await projects.snapshot() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"placement_end": "2026-09-07"}, "placement_end"),  # not after the start
        ({"min_group_size": 4, "max_group_size": 3}, "max_group_size"),
        ({"max_group_size": 1}, "max_group_size"),  # below the default minimum (2)
    ],
)
async def test_fields_that_contradict_each_other_are_a_409_naming_the_field(
    projects: Projects, change: dict[str, Any], field: str
) -> None:
    response = await projects.client.post("/cohorts", json={**GOOD["/cohorts"], **change}, headers=projects.coordinator)
    assert response.status_code == 409, response.text
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert await projects.count(orm.cohorts) == 0


async def test_the_group_size_range_defaults_from_the_settings(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/projects.db"
    async with running_projects(url, CAP_GROUP_MIN_SIZE=4, CAP_GROUP_MAX_SIZE=5) as projects:
        cohort = await projects.cohort()
        assert (cohort["min_group_size"], cohort["max_group_size"]) == (4, 5)
        chosen = await projects.cohort("2027-28", min_group_size=2, max_group_size=2)
        assert (chosen["min_group_size"], chosen["max_group_size"]) == (2, 2)


async def test_duplicates_are_a_409_naming_the_field(projects: Projects) -> None:
    cohort, practice = await projects.cohort(), await projects.practice()
    await projects.supervisor()
    await projects.student()
    await projects.group(cohort, practice)
    before = await projects.snapshot()
    duplicates = [
        ("/cohorts", {**GOOD["/cohorts"], "placement_start": "2026-09-01"}, "academic_year"),
        ("/practices", {**GOOD["/practices"], "ods_code": "y03053", "name": "Other"}, "ods_code"),
        ("/supervisors", {**GOOD["/supervisors"], "user_id": "gp-tutor-1"}, "user_id"),
        ("/students", {**GOOD["/students"], "university_id": "20231234"}, "university_id"),
        ("/groups", {"cohort_id": cohort["id"], "practice_id": practice["id"], "name": " A1"}, "name"),
    ]
    for path, body, field in duplicates:
        response = await projects.client.post(path, json=body, headers=projects.coordinator)
        assert response.status_code == 409, (path, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", field]
    assert await projects.snapshot() == before


async def test_group_membership_rules(projects: Projects) -> None:
    cohort = await projects.cohort(min_group_size=2, max_group_size=3)
    practice = await projects.practice()
    tutor, other_tutor = await projects.supervisor("t1"), await projects.supervisor("t2")
    students = [await projects.student(f"2023000{i}") for i in range(5)]
    a1 = await projects.group(
        cohort, practice, student_ids=[s["id"] for s in students[:3]], supervisor_ids=[tutor["id"]]
    )
    a2 = await projects.group(cohort, practice, name="A2")
    too_many = {"cohort_id": cohort["id"], "practice_id": practice["id"], "name": "A3"}
    too_many["student_ids"] = [s["id"] for s in students[1:]]  # four, for a cohort of three at most
    refused = await projects.client.post("/groups", json=too_many, headers=projects.coordinator)
    assert refused.status_code == 409
    assert refused.json()["detail"][0]["loc"] == ["body", "student_ids"]
    url = f"/groups/{a1['id']}"
    before = await projects.snapshot()

    refusals = [
        ("put", f"{url}/students/{students[3]['id']}", 409, "student_id"),  # full
        ("put", f"/groups/{a2['id']}/students/{students[0]['id']}", 409, "student_id"),  # in A1 already
        ("delete", f"{url}/students/{students[4]['id']}", 404, "student_id"),  # not a member
        ("delete", f"{url}/supervisors/{tutor['id']}", 409, "supervisor_id"),  # the last one
        ("delete", f"{url}/supervisors/{other_tutor['id']}", 404, "supervisor_id"),
    ]
    for method, path, code, field in refusals:
        response = await projects.client.request(method, path, headers=projects.coordinator)
        assert response.status_code == code, (path, response.text)
        assert response.json()["detail"][0]["loc"] == ["path", field]
    assert await projects.snapshot() == before

    again = await projects.client.put(f"{url}/students/{students[0]['id']}", headers=projects.coordinator)
    assert again.status_code == 200
    assert await projects.snapshot() == before  # already in: nothing changes, nothing published

    removed = await projects.client.delete(f"{url}/students/{students[2]['id']}", headers=projects.coordinator)
    assert removed.status_code == 200
    at_minimum = await projects.client.delete(f"{url}/students/{students[1]['id']}", headers=projects.coordinator)
    assert at_minimum.status_code == 409  # formed: keeps two
    moved = await projects.client.put(f"/groups/{a2['id']}/students/{students[2]['id']}", headers=projects.coordinator)
    assert moved.status_code == 200
    swapped = await projects.client.put(f"{url}/supervisors/{other_tutor['id']}", headers=projects.coordinator)
    assert swapped.status_code == 200
    gone = await projects.client.delete(f"{url}/supervisors/{tutor['id']}", headers=projects.coordinator)
    assert gone.json()["supervisor_ids"] == [other_tutor["id"]]
    types = [event_type for event_type, _ in await projects.outbox()]
    assert types.count("projects.group.formed.v1") == 1  # A1 formed on creation, never again


async def test_changing_a_cohort_s_range_must_fit_its_groups(projects: Projects) -> None:
    cohort = await projects.cohort(min_group_size=2, max_group_size=4)
    practice = await projects.practice()
    students = [await projects.student(f"2023000{i}") for i in range(3)]
    await projects.group(cohort, practice, student_ids=[s["id"] for s in students])
    url = f"/cohorts/{cohort['id']}"
    for change, field in (({"max_group_size": 2}, "max_group_size"), ({"min_group_size": 4}, "min_group_size")):
        refused = await projects.client.patch(url, json=change, headers=projects.coordinator)
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", field]
    changed = await projects.client.patch(
        url, json={"max_group_size": 3, "placement_end": "2026-11-20"}, headers=projects.coordinator
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["max_group_size"], changed.json()["placement_end"]) == (3, "2026-11-20")
    late = await projects.client.patch(url, json={"placement_start": "2026-12-01"}, headers=projects.coordinator)
    assert late.status_code == 409
    assert late.json()["detail"][0]["loc"] == ["body", "placement_end"]
    staged = len(await projects.outbox())
    same = await projects.client.patch(url, json={"max_group_size": 3}, headers=projects.coordinator)
    assert same.status_code == 200
    assert len(await projects.outbox()) == staged  # nothing changed, nothing published
    assert [t for t, _ in await projects.outbox()].count("projects.cohort.changed.v1") == 1


async def test_practices_and_supervisors_change(projects: Projects) -> None:
    first, second = await projects.practice("Y03053"), await projects.practice("E85001")
    tutor = await projects.supervisor(practice_ids=[first["id"]])
    renamed = await projects.client.patch(
        f"/practices/{first['id']}",
        json={"name": "Riverside Health", "ods_code": "y03054"},
        headers=projects.coordinator,
    )
    assert (renamed.json()["name"], renamed.json()["ods_code"]) == ("Riverside Health", "Y03054")
    taken = await projects.client.patch(
        f"/practices/{first['id']}", json={"ods_code": "E85001"}, headers=projects.coordinator
    )
    assert taken.status_code == 409
    relinked = await projects.client.patch(
        f"/supervisors/{tutor['id']}", json={"practice_ids": [second["id"]]}, headers=projects.coordinator
    )
    assert relinked.json()["practice_ids"] == [second["id"]]
    unknown = await projects.client.patch(
        f"/supervisors/{tutor['id']}", json={"practice_ids": [tutor["id"]]}, headers=projects.coordinator
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"][0]["loc"] == ["body", "practice_ids"]
    types = [t for t, _ in await projects.outbox()]
    assert types.count("projects.practice.changed.v1") == 1
    assert types.count("projects.supervisor.changed.v1") == 1


async def test_unknown_ids_are_404_naming_where_they_were(projects: Projects) -> None:
    cohort, practice = await projects.cohort(), await projects.practice()
    group = await projects.group(cohort, practice)
    nobody = "00000000-0000-4000-8000-000000000000"
    for path in ("/cohorts", "/practices", "/supervisors", "/students", "/groups"):
        response = await projects.client.get(f"{path}/{nobody}", headers=projects.coordinator)
        assert response.status_code == 404, path
    for method, path, field in [
        ("patch", f"/cohorts/{nobody}", "cohort_id"),
        ("patch", f"/practices/{nobody}", "practice_id"),
        ("patch", f"/supervisors/{nobody}", "supervisor_id"),
        ("put", f"/groups/{nobody}/students/{nobody}", "group_id"),
        ("put", f"/groups/{group['id']}/students/{nobody}", "student_id"),
        ("put", f"/groups/{group['id']}/supervisors/{nobody}", "supervisor_id"),
        ("delete", f"/groups/{nobody}/supervisors/{nobody}", "group_id"),
    ]:
        body: dict[str, Any] | None = {} if method == "patch" else None
        response = await projects.client.request(method, path, json=body, headers=projects.coordinator)
        assert response.status_code == 404, path
        assert response.json()["detail"][0]["loc"] == ["path", field]
    for body, field in [
        ({"cohort_id": nobody, "practice_id": practice["id"], "name": "B"}, "cohort_id"),
        ({"cohort_id": cohort["id"], "practice_id": nobody, "name": "B"}, "practice_id"),
        (
            {"cohort_id": cohort["id"], "practice_id": practice["id"], "name": "B", "student_ids": [nobody]},
            "student_ids",
        ),
    ]:
        response = await projects.client.post("/groups", json=body, headers=projects.coordinator)
        assert response.status_code == 404
        assert response.json()["detail"][0]["loc"] == ["body", field]
    assert await projects.count(orm.groups) == 1


async def test_every_request_body_is_documented_with_examples(projects: Projects) -> None:
    document = (await projects.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        if not path.startswith(("/cohorts", "/practices", "/supervisors", "/students", "/groups", "/imports")):
            continue
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type, body in content.items():
                if media_type == "text/csv":
                    assert body["example"].count("\n") >= 2, (method, path)
                    continue
                schema = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]
                for name, field in schema["properties"].items():
                    assert "examples" in field or "examples" in str(field), (method, path, name)
            assert operation["summary"], (method, path)
