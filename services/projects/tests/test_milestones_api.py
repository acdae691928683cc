"""Cohort milestones over HTTP: a coordinator sets them, the cohort's people read them, bad input changes nothing."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from medic.projects.adapters import orm
from medic.shared.auth import Role
from services.projects.tests.test_milestones_support import SUPERVISOR, Cohort, seed_cohort
from services.projects.tests.test_partner_support import BACKENDS, running_projects

SET_EVENT = "projects.cohort_milestone.set.v1"


@pytest.fixture(params=BACKENDS)
async def cohort(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cohort]:
    async with running_projects(request.param, tmp_path) as app:
        yield await seed_cohort(app)


async def put(cohort: Cohort, kind: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    path = f"/cohorts/{cohort.id}/milestones/{kind}"
    return await cohort.app.client.put(path, json=body, headers=headers or cohort.coordinator)


async def set_events(cohort: Cohort) -> list[dict[str, Any]]:
    return [json.loads(body)["data"] for event_type, body in await cohort.app.outbox() if event_type == SET_EVENT]


async def test_a_coordinator_sets_milestones_and_the_cohorts_people_read_them(cohort: Cohort) -> None:
    for kind, day in [("showcase", "2027-03-10"), ("proposal_due", "2027-01-15"), ("evaluation_due", "2027-03-01")]:
        response = await put(cohort, kind, {"due_on": day})
        assert response.status_code == 200, response.text
        assert response.json()["kind"] == kind and response.json()["due_on"] == day
    students = [cohort.headers(university_id, Role.STUDENT) for university_id in cohort.groups.values()]
    readers = [cohort.coordinator, cohort.headers(SUPERVISOR, Role.SUPERVISOR), *students]
    for headers in readers:
        response = await cohort.app.client.get(f"/cohorts/{cohort.id}/milestones", headers=headers)
        assert response.status_code == 200, response.text
        assert [(m["kind"], m["due_on"]) for m in response.json()] == [
            ("proposal_due", "2027-01-15"),
            ("evaluation_due", "2027-03-01"),
            ("showcase", "2027-03-10"),
        ]
    assert [(e["milestone"], e["due_on"]) for e in await set_events(cohort)] == [
        ("showcase", "2027-03-10"),
        ("proposal_due", "2027-01-15"),
        ("evaluation_due", "2027-03-01"),
    ]
    assert all(e["cohort_id"] == str(cohort.id) for e in await set_events(cohort))


async def test_moving_a_milestone_publishes_and_setting_the_same_day_again_does_not(cohort: Cohort) -> None:
    first = (await put(cohort, "governance_due", {"due_on": "2027-01-29"})).json()
    again = await put(cohort, "governance_due", {"due_on": "2027-01-29"})
    assert again.status_code == 200 and again.json() == first
    moved = await put(cohort, "governance_due", {"due_on": "2027-02-05"})
    assert moved.status_code == 200 and moved.json()["due_on"] == "2027-02-05"
    assert [e["due_on"] for e in await set_events(cohort)] == ["2027-01-29", "2027-02-05"]
    assert await cohort.app.count(orm.cohort_milestones) == 1


@pytest.mark.parametrize(
    ("kind", "body", "where"),
    [
        ("proposal_due", {"due_on": "soon"}, ["body", "due_on"]),
        ("proposal_due", {"due_on": 1800000000}, ["body", "due_on"]),  # not a Unix time
        ("proposal_due", {"due_on": "2027-02-30"}, ["body", "due_on"]),
        ("proposal_due", {"due_on": "2031-01-15"}, ["body", "due_on"]),  # years from the placement: a typo
        ("proposal_due", {}, ["body", "due_on"]),
        ("proposal_due", {"due_on": "2027-01-15", "note": "x"}, ["body", "note"]),
        ("poster_due", {"due_on": "2027-01-15"}, ["path", "kind"]),
    ],
)
async def test_bad_input_names_the_field_and_changes_nothing(
    cohort: Cohort, kind: str, body: dict[str, Any], where: list[str]
) -> None:
    response = await put(cohort, kind, body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == where
    assert await cohort.app.count(orm.cohort_milestones) == 0 and await set_events(cohort) == []


async def test_only_coordinators_set_and_outsiders_of_the_cohort_read_404(cohort: Cohort) -> None:
    client = cohort.app.client
    path = f"/cohorts/{cohort.id}/milestones"
    student = cohort.headers(next(iter(cohort.groups.values())), Role.STUDENT)
    partner = cohort.app.auth(Role.PARTNER, organisation=uuid.UUID(cohort.partner))
    for headers in (cohort.headers(SUPERVISOR, Role.SUPERVISOR), student, partner):
        assert (await put(cohort, "showcase", {"due_on": "2027-03-10"}, headers)).status_code == 403
    assert (await client.get(path, headers=partner)).status_code == 403
    for outsider in (cohort.headers("dr.nobody", Role.SUPERVISOR), cohort.headers("2399999", Role.STUDENT)):
        assert (await client.get(path, headers=outsider)).status_code == 404
    unknown = uuid.uuid4()
    assert (await client.get(f"/cohorts/{unknown}/milestones", headers=cohort.app.coordinator)).status_code == 404
    response = await client.put(
        f"/cohorts/{unknown}/milestones/showcase", json={"due_on": "2027-03-10"}, headers=cohort.app.coordinator
    )
    assert response.status_code == 404
    assert await cohort.app.count(orm.cohort_milestones) == 0 and await set_events(cohort) == []
