"""Projects over HTTP: a whole cycle by every kind of user, refusals that say why, and who sees what."""

import uuid
from typing import Any

import pytest

from medic.projects.adapters import orm
from medic.shared.auth import Role
from services.projects.tests.project_support import PROPOSAL, Year, allowed, auth_as


async def test_a_project_goes_from_draft_to_closed_with_an_event_for_every_step(year: Year) -> None:
    client, student, other_student, supervisor = (
        year.app.client,
        year.student(),
        year.student("2300002"),
        year.supervisor,
    )
    coordinator = year.app.coordinator
    project = await year.start()
    pid = project["id"]
    assert project["state"] == "draft" and "proposal" in project["editable_sections"]
    (submit,) = [a for a in project["actions"] if a["action"] == "submit_proposal"]
    assert not submit["allowed"] and "local health need" in submit["blocked_by"][0]

    async def put(path: str, body: dict[str, Any], headers: dict[str, str], code: int = 200) -> dict[str, Any]:
        response = await client.put(f"/projects/{pid}/{path}", json=body, headers=headers)
        assert response.status_code == code, response.text
        result: dict[str, Any] = response.json()
        return result

    async def act(action: str, headers: dict[str, str], reason: str | None = None) -> dict[str, Any]:
        response = await client.post(f"/projects/{pid}/actions/{action}", json={"reason": reason}, headers=headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    await put("proposal", {**PROPOSAL, "partner_ids": [year.partner]}, other_student)  # either student of the group
    assert (await act("submit_proposal", student))["state"] == "proposed"
    assert (await act("request_changes", supervisor, "make the aim measurable"))["state"] == "changes_requested"
    await put(
        "proposal", {**PROPOSAL, "partner_ids": [year.partner], "title": "Cooking on a budget, measured"}, student
    )
    await act("submit_proposal", student)
    approved = await act("approve", supervisor)
    assert approved["state"] == "approved" and "start_delivery" not in allowed(approved)

    refused = await client.post(f"/projects/{pid}/actions/start_delivery", json={}, headers=student)
    assert refused.status_code == 409
    assert refused.json()["state"] == "approved"
    assert refused.json()["reasons"] == ["governance not cleared: a supervisor must clear it first"]

    governance = {
        "classification": "service_evaluation",
        "classification_reason": "evaluates a service",
        "risk_assessment": "low risk",
        "works_with_children_or_vulnerable_adults": True,
    }
    await put("governance", governance, student)
    blocked = await client.post(f"/projects/{pid}/actions/clear_governance", json={}, headers=supervisor)
    assert blocked.status_code == 409 and "DBS check not attested for 2" in blocked.json()["reasons"][0]
    await put("dbs-attestation", {"student_ids": [str(s) for s in year.students]}, supervisor)
    cleared = await act("clear_governance", supervisor)
    assert cleared["governance"]["cleared"] and "start_delivery" in allowed(cleared)
    await act("start_delivery", student)
    session = {"held_on": "2027-01-20", "place": "Community hall", "format": "workshop", "reach": {"adults": 14}}
    response = await client.post(f"/projects/{pid}/delivery-sessions", json=session, headers=student)
    assert response.status_code == 201, response.text
    await act("start_evaluation", student)
    evaluation = {"results": "met", "what_worked": "demos", "limitations": "small", "sustainability": "handed over"}
    await put("evaluation", evaluation, student)
    await put("progress", {"ihi_score": 3.5, "audit_codes": {"needs_analysis": True}}, student)
    await act("submit", student)
    await put("showcase", {"format": "poster", "title": "Fresh food", "abstract": "We cooked."}, student)
    showcased = await act("showcase", supervisor)
    assess = next(a for a in showcased["actions"] if a["action"] == "assess")
    assert not assess["allowed"]  # marks come with assessment; until then, no one can assess

    partner_view = (await client.get(f"/projects/{pid}", headers=year.partner_user)).json()
    assert partner_view["state"] == "showcased" and "governance" not in partner_view and partner_view["actions"] == []

    types = await year.app.event_types()
    expected = [
        "projects.project.created.v1",
        "projects.project.proposal_submitted.v1",
        "projects.project.changes_requested.v1",
        "projects.project.proposal_submitted.v1",
        "projects.project.approved.v1",
        "projects.project.governance_cleared.v1",
        "projects.project.delivery_started.v1",
        "projects.project.evaluation_started.v1",
        "projects.project.submitted.v1",
        "projects.project.verification_requested.v1",
        "projects.project.showcased.v1",
    ]
    project_events = [t for t in types if t.startswith("projects.project.") and t != "projects.project.updated.v1"]
    assert project_events == expected
    bodies = " ".join(body for _, body in await year.app.outbox())
    assert "s0@uni.example" not in bodies and "Student 0" not in bodies  # no student's personal data on the bus
    assert "make the aim measurable" not in bodies  # nor a reviewer's comment

    withdrawn = await act("withdraw", coordinator, "placement ended early")
    assert withdrawn["state"] == "withdrawn" and allowed(withdrawn) == set()

    # The history keeps who did what and why, for the project's people; partners do not see reviewers' reasons.
    history = (await client.get(f"/projects/{pid}/history", headers=student)).json()
    assert [(h["action"], h["to_state"]) for h in history][:3] == [
        ("submit_proposal", "proposed"),
        ("request_changes", "changes_requested"),
        ("submit_proposal", "proposed"),
    ]
    assert history[1]["reason"] == "make the aim measurable" and history[1]["taken_by"] == "dr.ahmed"
    assert history[-1] == {**history[-1], "action": "withdraw", "reason": "placement ended early"}
    assert (await client.get(f"/projects/{pid}/history", headers=year.partner_user)).status_code == 403


async def test_another_groups_student_another_practices_supervisor_and_another_partner_get_404(year: Year) -> None:
    client = year.app.client
    pid = (await year.start())["id"]
    outsiders = [
        year.student("2300003"),  # a student of the other group
        auth_as(year.app, "dr.brown", Role.SUPERVISOR),  # the other group's supervisor
        auth_as(year.app, "p.x", Role.PARTNER, organisation=uuid.UUID(year.other_partner)),
        auth_as(year.app, "nobody", Role.STUDENT),
    ]
    for headers in outsiders:
        assert (await client.get(f"/projects/{pid}", headers=headers)).status_code == 404
        response = await client.put(f"/projects/{pid}/proposal", json={**PROPOSAL, "partner_ids": []}, headers=headers)
        assert response.status_code in (403, 404)  # partners may not edit at all; the others do not see it
        listed = await client.get("/projects", headers=headers)
        assert listed.status_code == 200 and listed.json()["items"] == []
    for headers in (year.student(), year.supervisor, year.partner_user, year.app.coordinator):
        assert (await client.get(f"/projects/{pid}", headers=headers)).status_code == 200
        assert [p["id"] for p in (await client.get("/projects", headers=headers)).json()["items"]] == [pid]


async def test_a_student_cannot_start_a_project_for_another_group_nor_a_second_for_their_own(year: Year) -> None:
    client = year.app.client
    body = {"group_id": str(year.other_group), "title": "T", "topic": "t", "partner_ids": [year.partner]}
    response = await client.post("/projects", json=body, headers=year.student())
    assert response.status_code == 404
    await year.start()
    again = await client.post("/projects", json={**body, "group_id": str(year.group)}, headers=year.student())
    assert again.status_code == 409 and again.json()["detail"][0]["loc"] == ["body", "group_id"]
    assert await year.app.count(orm.projects) == 1


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("proposal", {**PROPOSAL, "partner_ids": [str(uuid.uuid4())]}, "partner_ids"),
        ("proposal", {**PROPOSAL, "partner_ids": [], "title": "   "}, "title"),
        ("proposal", {**PROPOSAL, "partner_ids": [], "measures": [PROPOSAL["measures"][0]] * 2}, "measures"),
        ("proposal", {**PROPOSAL, "partner_ids": [], "measures": [PROPOSAL["measures"][0]] * 6}, "measures"),
        ("proposal", {**PROPOSAL, "partner_ids": [], "aim": {**PROPOSAL["aim"], "by_when": "soon"}}, "aim"),
        ("governance", {"classification": "vibes"}, "classification"),
        ("progress", {"ihi_score": 3.2}, "ihi_score"),
        ("progress", {"ihi_score": 6}, "ihi_score"),
    ],
)
async def test_bad_input_names_the_field_and_changes_nothing(
    year: Year, path: str, body: dict[str, Any], field: str
) -> None:
    project = await year.start()
    before = await year.app.event_types()
    response = await year.app.client.put(f"/projects/{project['id']}/{path}", json=body, headers=year.app.coordinator)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"][0]["loc"]
    after = (await year.app.client.get(f"/projects/{project['id']}", headers=year.app.coordinator)).json()
    assert after["version"] == project["version"] and await year.app.event_types() == before


async def test_an_edit_in_the_wrong_state_is_409_saying_why(year: Year) -> None:
    project = await year.start()
    response = await year.app.client.put(
        f"/projects/{project['id']}/evaluation", json={"results": "early"}, headers=year.student()
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "a student cannot edit the evaluation of a draft project",
        "state": "draft",
        "section": "evaluation",
    }


async def test_an_unknown_action_or_cursor_is_422(year: Year) -> None:
    project = await year.start()
    client = year.app.client
    response = await client.post(f"/projects/{project['id']}/actions/teleport", json={}, headers=year.app.coordinator)
    assert response.status_code == 422
    assert (await client.get("/projects?cursor=nonsense", headers=year.app.coordinator)).status_code == 422


async def test_lists_filter_search_and_page(year: Year) -> None:
    client, coordinator = year.app.client, year.app.coordinator
    first = await year.start(title="Cooking on a budget")
    other_student = auth_as(year.app, "2300003", Role.STUDENT)
    body = {"group_id": str(year.other_group), "title": "Walking football", "topic": "physical activity"}
    second = (
        await client.post("/projects", json={**body, "partner_ids": [year.other_partner]}, headers=other_student)
    ).json()

    async def ids(**params: Any) -> list[str]:
        response = await client.get("/projects", params=params, headers=coordinator)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert await ids() == [second["id"], first["id"]]
    assert await ids(q="FOOTBALL") == [second["id"]]
    assert await ids(partner_id=year.partner) == [first["id"]]
    assert await ids(topic="Nutrition") == [first["id"]]
    assert await ids(state="draft", cohort_id=str(year.cohort)) == [second["id"], first["id"]]
    assert await ids(q="100%_") == []
    page = (await client.get("/projects", params={"limit": 1}, headers=coordinator)).json()
    assert [p["id"] for p in page["items"]] == [second["id"]] and page["next_cursor"]
    rest = (
        await client.get("/projects", params={"limit": 1, "cursor": page["next_cursor"]}, headers=coordinator)
    ).json()
    assert [p["id"] for p in rest["items"]] == [first["id"]] and rest["next_cursor"] is None
