"""Every route of the projects API, table-driven: who may call it, and who gets 404 for someone else's object.

`ROUTES` is the specification: for each route, the roles it admits (any other role is 403, no token is 401),
and the roles whose users, standing outside the seeded objects (a student and a supervisor of the other group,
a user of another partner organisation), get 404 as if the object did not exist. A route missing from the
table fails the first test, so a new route cannot go untested. Bodies are built from the OpenAPI examples, so
a 404 is never hidden behind a 422.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from medic.projects.adapters import orm
from medic.shared.auth import Role
from services.projects.tests.project_support import Year, auth_as
from tests.support import example_value

C, SV, ST, P = Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT, Role.PARTNER
STAFF = frozenset({C, SV})
TEAM = frozenset({C, SV, ST})
SETUP_READERS = TEAM
PUBLIC: frozenset[Role] = frozenset()  # no bearer token: the link's token is the credential


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    outsiders_get_404: frozenset[Role] = frozenset()
    public: bool = False


def rule(*roles: Role, outsiders: tuple[Role, ...] = ()) -> Rule:
    return Rule(frozenset(roles), frozenset(outsiders))


ROUTES: dict[tuple[str, str], Rule] = {
    # Partners: supervisors read every partner; a partner user only their own organisation.
    ("POST", "/partners"): rule(C),
    ("GET", "/partners"): rule(C, SV, P),
    ("GET", "/partners/{partner_id}"): rule(C, SV, P, outsiders=(P,)),
    ("PATCH", "/partners/{partner_id}"): rule(C),
    ("PUT", "/partners/{partner_id}/areas-of-work"): rule(C),
    ("POST", "/partners/{partner_id}/archive"): rule(C),
    ("POST", "/partners/{partner_id}/unarchive"): rule(C),
    ("POST", "/partners/{partner_id}/contacts"): rule(C, P, outsiders=(P,)),
    ("PATCH", "/partners/{partner_id}/contacts/{contact_id}"): rule(C, P, outsiders=(P,)),
    ("DELETE", "/partners/{partner_id}/contacts/{contact_id}"): rule(C, P, outsiders=(P,)),
    ("POST", "/partners/{partner_id}/agreements"): rule(C),
    ("PATCH", "/partners/{partner_id}/agreements/{agreement_id}"): rule(C),
    # Set-up: coordinators write; supervisors and students read what concerns their own groups.
    ("POST", "/imports/practices"): rule(C),
    ("POST", "/imports/students"): rule(C),
    ("POST", "/imports/groups"): rule(C),
    ("POST", "/cohorts"): rule(C),
    ("GET", "/cohorts"): rule(C, SV, ST),
    ("GET", "/cohorts/{cohort_id}"): rule(C, SV, ST),  # the outsiders are in the same cohort
    ("PATCH", "/cohorts/{cohort_id}"): rule(C),
    ("POST", "/practices"): rule(C),
    ("GET", "/practices"): rule(C, SV, ST),
    ("GET", "/practices/{practice_id}"): rule(C, SV, ST, outsiders=(SV, ST)),
    ("PATCH", "/practices/{practice_id}"): rule(C),
    ("POST", "/supervisors"): rule(C),
    ("GET", "/supervisors"): rule(C, SV, ST),
    ("GET", "/supervisors/{supervisor_id}"): rule(C, SV, ST, outsiders=(SV, ST)),
    ("PATCH", "/supervisors/{supervisor_id}"): rule(C),
    ("POST", "/students"): rule(C),
    ("GET", "/students"): rule(C, SV, ST),
    ("GET", "/students/{student_id}"): rule(C, SV, ST, outsiders=(SV, ST)),
    ("POST", "/groups"): rule(C),
    ("GET", "/groups"): rule(C, SV, ST),
    ("GET", "/groups/{group_id}"): rule(C, SV, ST, outsiders=(SV, ST)),
    ("PUT", "/groups/{group_id}/students/{student_id}"): rule(C),
    ("DELETE", "/groups/{group_id}/students/{student_id}"): rule(C),
    ("PUT", "/groups/{group_id}/supervisors/{supervisor_id}"): rule(C),
    ("DELETE", "/groups/{group_id}/supervisors/{supervisor_id}"): rule(C),
    ("PUT", "/cohorts/{cohort_id}/milestones/{kind}"): rule(C),
    ("GET", "/cohorts/{cohort_id}/milestones"): rule(C, SV, ST),
    # Reporting: a supervisor's report covers only their own groups.
    ("GET", "/cohorts/{cohort_id}/report"): rule(C, SV),
    ("GET", "/cohorts/{cohort_id}/report.csv"): rule(C, SV),
    ("GET", "/projects/export.csv"): rule(C),
    # Projects: the group's students and supervisors, the project's partners, coordinators; anyone else 404.
    ("POST", "/projects"): rule(C, ST, outsiders=(ST,)),
    ("GET", "/projects"): rule(C, SV, ST, P),
    ("GET", "/projects/{project_id}"): rule(C, SV, ST, P, outsiders=(SV, ST, P)),
    ("GET", "/projects/{project_id}/history"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/proposal"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/governance"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/dbs-attestation"): rule(*TEAM, outsiders=(SV, ST)),
    ("POST", "/projects/{project_id}/delivery-sessions"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/evaluation"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/showcase"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/progress"): rule(*TEAM, outsiders=(SV, ST)),
    ("POST", "/projects/{project_id}/actions/{action}"): rule(*TEAM, outsiders=(SV, ST)),
    ("POST", "/projects/{project_id}/verification-link"): rule(*TEAM, outsiders=(SV, ST)),
    # Assessment: any supervisor of the cohort (the other group's too) marks and nominates once a project is
    # showcased; before that, and for reflections and others' marks, only the group's own people stand to it.
    ("PUT", "/cohorts/{cohort_id}/rubric"): rule(C),
    ("GET", "/cohorts/{cohort_id}/rubric"): rule(C, SV),
    ("GET", "/cohorts/{cohort_id}/showcase"): rule(C, SV),
    ("POST", "/cohorts/{cohort_id}/marks/release"): rule(C),
    ("GET", "/cohorts/{cohort_id}/nominations"): rule(C),
    ("PUT", "/projects/{project_id}/marks"): rule(C, SV, outsiders=(SV,)),
    ("GET", "/projects/{project_id}/marks"): rule(C, SV, ST, P, outsiders=(SV, ST, P)),
    ("PUT", "/projects/{project_id}/moderation"): rule(C),
    ("POST", "/projects/{project_id}/nominations"): rule(C, SV, outsiders=(SV,)),
    ("PUT", "/projects/{project_id}/reflection"): rule(C, ST, outsiders=(ST,)),
    ("GET", "/projects/{project_id}/reflection"): rule(C, ST, outsiders=(ST,)),
    ("GET", "/projects/{project_id}/reflections"): rule(C, SV, ST, P, outsiders=(SV, ST, P)),
    ("GET", "/projects/{project_id}/reflections/{student_id}"): rule(C, SV, ST, P, outsiders=(SV, ST, P)),
    # QI records: the group writes them; its supervisors read them.
    ("POST", "/projects/{project_id}/measures/{measure_id}/data-points"): rule(*TEAM, outsiders=(SV, ST)),
    ("DELETE", "/projects/{project_id}/measures/{measure_id}/data-points/{point_id}"): rule(*TEAM, outsiders=(SV, ST)),
    ("POST", "/projects/{project_id}/change-ideas"): rule(*TEAM, outsiders=(SV, ST)),
    ("DELETE", "/projects/{project_id}/change-ideas/{idea_id}"): rule(*TEAM, outsiders=(SV, ST)),
    ("POST", "/projects/{project_id}/pdsa-cycles"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/pdsa-cycles/{cycle_id}/plan"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/pdsa-cycles/{cycle_id}/do"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/pdsa-cycles/{cycle_id}/study"): rule(*TEAM, outsiders=(SV, ST)),
    ("PUT", "/projects/{project_id}/pdsa-cycles/{cycle_id}/act"): rule(*TEAM, outsiders=(SV, ST)),
    ("GET", "/verifications/{token}"): Rule(PUBLIC, public=True),
    ("POST", "/verifications/{token}"): Rule(PUBLIC, public=True),
}
# Served by every service, to anyone: probes and documents.
UNGUARDED = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/asyncapi.json")}


def test_every_route_is_in_the_table(year: Year) -> None:
    document = year.app.service.app.openapi()
    served = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert served - UNGUARDED == set(ROUTES), "add the new route to ROUTES with who may call it"


@dataclass
class Request:
    method: str
    path: str
    json: Any = None
    content: str | None = None
    headers: dict[str, str] | None = None


async def _requests(year: Year) -> dict[tuple[str, str], Request]:
    """One request per route, aimed at the seeded objects of group A (or made-up ids for parts of them)."""
    document = year.app.service.app.openapi()
    components = document.get("components", {}).get("schemas", {})
    project = await year.start()
    async with year.app.service.engine.connect() as connection:
        practice_id = (
            await connection.execute(select(orm.groups.c.practice_id).where(orm.groups.c.id == year.group))
        ).scalar_one()
        supervisor_id = (
            await connection.execute(select(orm.supervisors.c.id).where(orm.supervisors.c.user_id == "dr.ahmed"))
        ).scalar_one()
    ids = {
        "partner_id": year.partner,
        "cohort_id": str(year.cohort),
        "practice_id": str(practice_id),
        "supervisor_id": str(supervisor_id),
        "student_id": str(year.students[0]),
        "group_id": str(year.group),
        "project_id": project["id"],
        "action": "approve",
        "kind": "proposal_due",
        "token": "t" * 43,
    }
    requests = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            concrete = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)
            request = Request(method.upper(), concrete)
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                request.json = example_value(content["application/json"]["schema"], components)
                if path == "/projects":
                    request.json["group_id"] = str(year.group)
            elif "text/csv" in content:
                request.content, request.headers = "", {"Content-Type": "text/csv"}
            requests[(method.upper(), path)] = request
    return requests


def _outsider(year: Year, role: Role) -> dict[str, str]:
    """A user of `role` who stands outside group A, its project and its partner."""
    users = {
        C: auth_as(year.app, "module-lead", C),
        SV: auth_as(year.app, "dr.brown", SV),
        ST: auth_as(year.app, "2300003", ST),
        P: auth_as(year.app, "p.x", P, organisation=uuid.UUID(year.other_partner)),
        Role.OPS: auth_as(year.app, "ops", Role.OPS),
    }
    return users[role]


async def _send(year: Year, request: Request, headers: dict[str, str] | None) -> int:
    response = await year.app.client.request(
        request.method,
        request.path,
        json=request.json,
        content=request.content,
        headers={**(request.headers or {}), **(headers or {})},
    )
    return response.status_code


async def test_every_route_admits_only_its_roles_and_hides_others_objects(year: Year) -> None:
    requests = await _requests(year)
    wrong: list[str] = []
    for key, rule in ROUTES.items():
        request = requests[key]
        if rule.public:
            status = await _send(year, request, None)
            if status in (401, 403):
                wrong.append(f"{key}: public route answered {status}")
            continue
        if (status := await _send(year, request, None)) != 401:
            wrong.append(f"{key} without a token: {status}, not 401")
        for role in (SV, ST, P, Role.OPS):
            status = await _send(year, request, _outsider(year, role))
            if role not in rule.roles:
                expected: set[int] = {403}
            elif role in rule.outsiders_get_404:
                expected = {404}
            else:
                expected = set(range(200, 500)) - {401, 403, 404}
            if status not in expected:
                wrong.append(f"{key} as an outside {role.value}: {status}")
    # Coordinators last: their requests change things, and no one else's checks should see those changes.
    for key, rule in ROUTES.items():
        if not rule.public:
            status = await _send(year, requests[key], _outsider(year, C))
            if status in (401, 403) or status >= 500:
                wrong.append(f"{key} as a coordinator: {status}")
    assert wrong == []


@pytest.mark.parametrize("role", [SV, ST, P])
async def test_insiders_see_the_project_of_their_group_or_organisation(year: Year, role: Role) -> None:
    project = await year.start()
    insider = {SV: year.supervisor, ST: year.student(), P: year.partner_user}[role]
    response = await year.app.client.get(f"/projects/{project['id']}", headers=insider)
    assert response.status_code == 200
