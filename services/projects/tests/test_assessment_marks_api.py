"""Rubrics, marks, moderation and release over HTTP, on SQLite and PostgreSQL: who may do and see what, input
that names the criterion at fault, the `assess` action waiting for a full set of marks, and no mark on the bus."""

import json
import uuid
from typing import Any

import pytest

from medic.projects.adapters import orm
from medic.shared.auth import Role
from services.projects.tests.project_support import Year, act, allowed, auth_as, put, submitted_project
from services.projects.tests.test_assessment_support import (
    FULL_MARKS,
    RUBRIC,
    other_student,
    outsider_student,
    peer,
    record_marks,
    set_rubric,
    showcased_project,
)


async def test_a_coordinator_defines_the_rubric_and_the_cohorts_supervisors_read_it(year: Year) -> None:
    client = year.app.client
    rubric = await set_rubric(year)
    assert [c["key"] for c in rubric["criteria"]] == ["need", "impact"]
    assert rubric["criteria"][0]["weight"] == 1 and rubric["criteria"][1]["weight"] == 2
    for reader in (year.app.coordinator, year.supervisor, peer(year)):
        response = await client.get(f"/cohorts/{year.cohort}/rubric", headers=reader)
        assert response.status_code == 200 and response.json() == rubric
    stranger = auth_as(year.app, "dr.nobody", Role.SUPERVISOR)  # supervises no group of this cohort
    assert (await client.get(f"/cohorts/{year.cohort}/rubric", headers=stranger)).status_code == 404
    assert (await client.get(f"/cohorts/{year.cohort}/rubric", headers=year.student())).status_code == 403
    unknown = await client.put(f"/cohorts/{uuid.uuid4()}/rubric", json=RUBRIC, headers=year.app.coordinator)
    assert unknown.status_code == 404
    by_supervisor = await client.put(f"/cohorts/{year.cohort}/rubric", json=RUBRIC, headers=year.supervisor)
    assert by_supervisor.status_code == 403
    assert [t for t in await year.app.event_types() if t == "projects.cohort.rubric_set.v1"] == [
        "projects.cohort.rubric_set.v1"
    ]


async def test_a_cohort_without_a_rubric_has_an_empty_one_and_takes_no_marks(year: Year) -> None:
    client = year.app.client
    response = await client.get(f"/cohorts/{year.cohort}/rubric", headers=year.app.coordinator)
    assert response.status_code == 200
    assert response.json() == {"cohort_id": str(year.cohort), "criteria": [], "updated_at": None}
    pid = (await submitted_project(year))["id"]
    await put(
        year, pid, "showcase", {"format": "talk", "title": "Fresh food", "abstract": "We cooked."}, year.student()
    )
    await act(year, pid, "showcase", year.supervisor)
    refused = await client.put(f"/projects/{pid}/marks", json={"marks": FULL_MARKS}, headers=year.supervisor)
    assert refused.status_code == 409 and "no rubric" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("criteria", "loc"),
    [
        ([], ["body", "criteria"]),
        ([RUBRIC["criteria"][0], RUBRIC["criteria"][0]], ["body", "criteria", 1, "key"]),
        ([{**RUBRIC["criteria"][0], "key": "Needs Analysis"}], ["body", "criteria", 0, "key"]),
        ([{**RUBRIC["criteria"][0], "max_mark": 0}], ["body", "criteria", 0, "max_mark"]),
        ([{**RUBRIC["criteria"][0], "max_mark": 101}], ["body", "criteria", 0, "max_mark"]),
        ([{**RUBRIC["criteria"][0], "weight": 0}], ["body", "criteria", 0, "weight"]),
        ([{**RUBRIC["criteria"][0], "title": "  "}], ["body", "criteria", 0, "title"]),
    ],
)
async def test_a_bad_rubric_is_422_naming_the_field_and_changes_nothing(
    year: Year, criteria: list[dict[str, Any]], loc: list[Any]
) -> None:
    before = await year.app.event_types()
    response = await year.app.client.put(
        f"/cohorts/{year.cohort}/rubric", json={"criteria": criteria}, headers=year.app.coordinator
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert await year.app.count(orm.rubrics) == 0 and await year.app.event_types() == before


async def test_assess_waits_for_one_assessor_to_give_every_mark(year: Year) -> None:
    client = year.app.client
    pid = await showcased_project(year)
    refused = await client.post(f"/projects/{pid}/actions/assess", json={}, headers=year.supervisor)
    assert refused.status_code == 409 and "assessment incomplete" in refused.json()["reasons"][0]

    partial = await record_marks(year, pid, {"need": 7}, year.supervisor)
    assert not partial["assessment_complete"] and partial["markings"][0]["complete"] is False
    other_half = await record_marks(year, pid, {"impact": 12}, peer(year))  # two halves are not one full set
    assert not other_half["assessment_complete"]
    assert (await client.post(f"/projects/{pid}/actions/assess", json={}, headers=year.supervisor)).status_code == 409

    full = await record_marks(year, pid, FULL_MARKS, peer(year), comment="A clear poster")
    assert full["assessment_complete"]
    assert [m["marks"] for m in full["markings"]] == [FULL_MARKS]  # a peer assessor sees only their own marks
    project = (await client.get(f"/projects/{pid}", headers=year.supervisor)).json()
    assert "assess" in allowed(project)
    assessed = await client.post(f"/projects/{pid}/actions/assess", json={}, headers=year.supervisor)
    assert assessed.status_code == 200 and assessed.json()["state"] == "assessed"

    after = await client.put(f"/projects/{pid}/marks", json={"marks": {"need": 1}}, headers=peer(year))
    assert after.status_code == 409 and "showcased" in after.json()["detail"]  # marks are frozen once assessed
    rubric = await client.put(f"/cohorts/{year.cohort}/rubric", json=RUBRIC, headers=year.app.coordinator)
    assert rubric.status_code == 409 and "marks have been given" in rubric.json()["detail"]

    sheet = (await client.get(f"/projects/{pid}/marks", headers=year.supervisor)).json()
    assert {m["assessor"] for m in sheet["markings"]} == {"dr.ahmed", "dr.brown"}  # the group's staff see all


@pytest.mark.parametrize(
    ("marks", "loc", "message"),
    [
        ({"need": 11}, ["body", "marks", "need"], "need is marked 0 to 10"),
        ({"need": 7, "impact": 21}, ["body", "marks", "impact"], "impact is marked 0 to 20"),
        ({"poster": 3}, ["body", "marks", "poster"], "poster is not a criterion"),
        ({"need": -1}, ["body", "marks", "need"], ""),
        ({}, ["body", "marks"], ""),
    ],
)
async def test_a_bad_mark_is_422_naming_the_criterion_and_changes_nothing(
    year: Year, marks: dict[str, int], loc: list[str], message: str
) -> None:
    pid = await showcased_project(year)
    before = await year.app.event_types()
    response = await year.app.client.put(f"/projects/{pid}/marks", json={"marks": marks}, headers=year.supervisor)
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == loc and message in error["msg"]
    assert await year.app.count(orm.assessor_marks) == 0 and await year.app.event_types() == before


async def test_marks_wait_for_the_showcase_and_outsiders_cannot_mark(year: Year) -> None:
    client = year.app.client
    await set_rubric(year)
    pid = (await year.start())["id"]
    early = await client.put(f"/projects/{pid}/marks", json={"marks": FULL_MARKS}, headers=year.supervisor)
    assert early.status_code == 409 and "showcased" in early.json()["detail"]
    # Before the showcase, another group's supervisor has no standing to the project at all.
    assert (
        await client.put(f"/projects/{pid}/marks", json={"marks": FULL_MARKS}, headers=peer(year))
    ).status_code == 404
    stranger = auth_as(year.app, "dr.nobody", Role.SUPERVISOR)
    for headers, code in ((stranger, 404), (year.student(), 403), (year.partner_user, 403)):
        response = await client.put(f"/projects/{pid}/marks", json={"marks": FULL_MARKS}, headers=headers)
        assert response.status_code == code
    assert await year.app.count(orm.assessor_marks) == 0


async def test_students_see_only_their_released_moderated_marks_and_partners_never(year: Year) -> None:
    client, coordinator = year.app.client, year.app.coordinator
    pid = await showcased_project(year)
    await record_marks(year, pid, FULL_MARKS, year.supervisor, comment="Strong needs analysis")

    def marks_of(headers: dict[str, str]) -> Any:
        return client.get(f"/projects/{pid}/marks", headers=headers)

    for headers in (year.student(), other_student(year), outsider_student(year), year.partner_user):
        assert (await marks_of(headers)).status_code == 404  # nothing released yet
    nothing = await client.post(f"/cohorts/{year.cohort}/marks/release", headers=coordinator)
    assert nothing.status_code == 409 and "1 project(s) await moderation" in nothing.json()["detail"]

    bad = await client.put(f"/projects/{pid}/moderation", json={"marks": {"need": 8}}, headers=coordinator)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "marks", "impact"]  # all needed
    by_supervisor = await client.put(f"/projects/{pid}/moderation", json={"marks": FULL_MARKS}, headers=year.supervisor)
    assert by_supervisor.status_code == 403
    agreed = {"need": 8, "impact": 16}
    moderated = await client.put(
        f"/projects/{pid}/moderation", json={"marks": agreed, "note": "agreed with second marker"}, headers=coordinator
    )
    assert moderated.status_code == 200, moderated.text
    assert moderated.json()["moderation"]["percentage"] == 80.0  # (8/10 * 1 + 16/20 * 2) / 3
    assert (await marks_of(year.student())).status_code == 404  # moderated is not released

    released = await client.post(f"/cohorts/{year.cohort}/marks/release", headers=coordinator)
    assert released.status_code == 200 and released.json() == {"released": [pid], "awaiting_moderation": []}
    seen = await marks_of(year.student())
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert [(m["key"], m["mark"], m["max_mark"]) for m in body["marks"]] == [("need", 8, 10), ("impact", 16, 20)]
    assert body["percentage"] == 80.0
    assert "markings" not in body and "note" not in str(body)  # no assessor's marks, comment or moderator's note
    assert (await marks_of(other_student(year))).status_code == 200  # every student of the group
    for headers in (outsider_student(year), year.partner_user):
        assert (await marks_of(headers)).status_code == 404

    again = await client.put(f"/projects/{pid}/moderation", json={"marks": FULL_MARKS}, headers=coordinator)
    assert again.status_code == 409 and "released" in again.json()["detail"]
    assert (await client.post(f"/cohorts/{year.cohort}/marks/release", headers=coordinator)).status_code == 409

    types = await year.app.event_types()
    assert "projects.project.marks_moderated.v1" in types and types.count("projects.cohort.marks_released.v1") == 1


async def test_the_showcase_lists_the_cohorts_shown_projects_for_its_assessors(year: Year) -> None:
    client = year.app.client
    pid = await showcased_project(year)
    for headers in (year.app.coordinator, year.supervisor, peer(year)):
        response = await client.get(f"/cohorts/{year.cohort}/showcase", headers=headers)
        assert response.status_code == 200
        assert [(p["project_id"], p["showcase"]["title"]) for p in response.json()] == [(pid, "Fresh food")]
    stranger = auth_as(year.app, "dr.nobody", Role.SUPERVISOR)
    assert (await client.get(f"/cohorts/{year.cohort}/showcase", headers=stranger)).status_code == 404


async def test_no_mark_comment_or_note_goes_into_any_event(year: Year) -> None:
    client, coordinator = year.app.client, year.app.coordinator
    pid = await showcased_project(year)
    await record_marks(year, pid, {"need": 7, "impact": 13}, peer(year), comment="SECRET-COMMENT")
    moderation = {"marks": {"need": 9, "impact": 17}, "note": "SECRET-NOTE"}
    assert (await client.put(f"/projects/{pid}/moderation", json=moderation, headers=coordinator)).status_code == 200
    assert (await client.post(f"/cohorts/{year.cohort}/marks/release", headers=coordinator)).status_code == 200
    rows = await year.app.outbox()
    marking_events = [event_type for event_type, _ in rows if "marks" in event_type or "rubric" in event_type]
    assert len(marking_events) == 4  # rubric set, marks recorded, moderated, released
    for _, body in rows:
        assert "SECRET" not in body
        data = json.loads(body)["data"]
        assert not {"marks", "need", "impact", "comment", "note", "percentage"} & set(data)
        assert not {7, 9, 13, 17} & {value for value in data.values() if isinstance(value, int)}
