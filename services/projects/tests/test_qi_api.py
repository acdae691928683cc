"""The QI records over HTTP, on SQLite and PostgreSQL: data points, change ideas and PDSA cycles; refusals that
name the field or the step; who may see and do what; and no free text on the bus."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from medic.projects.adapters import orm
from medic.shared.auth import Role
from services.projects.tests.project_support import PROPOSAL, Year, act, auth_as, put

TODAY = datetime.now(UTC).date()
ANNOTATION = "Mrs Example's family came back twice"  # free text that must stay out of events and partner views
PLAN = {
    "objective": "see whether a demonstration changes what families cook",
    "prediction": "half the families will cook a recipe within a week",
    "data_plan": "a card at the session and a call a week later",
    "who": "two students",
}
STUDY = {"results": "7 of 15 cooked a recipe", "against_prediction": "a little under the half predicted"}
ACT = {"decision": "adapt", "next_step": "microwave recipes in the next cycle"}


async def delivering(year: Year) -> dict[str, Any]:
    """A project of the year's group, approved, governance cleared and in delivery."""
    student, supervisor = year.student(), year.supervisor
    pid = (await year.start())["id"]
    await put(year, pid, "proposal", {**PROPOSAL, "partner_ids": [year.partner]}, student)
    await act(year, pid, "submit_proposal", student)
    await act(year, pid, "approve", supervisor)
    governance = {"classification": "audit", "classification_reason": "audit of uptake", "risk_assessment": "low"}
    await put(year, pid, "governance", governance, student)
    await act(year, pid, "clear_governance", supervisor)
    return await act(year, pid, "start_delivery", student)


async def send(
    year: Year, method: str, path: str, headers: dict[str, str], body: Any = None, code: int = 200
) -> dict[str, Any]:
    response = await year.app.client.request(method, path, json=body, headers=headers)
    assert response.status_code == code, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_data_points_are_recorded_in_date_order_and_partners_see_values_without_annotations(
    year: Year,
) -> None:
    project = await delivering(year)
    pid, (measure,) = project["id"], project["measures"]
    assert measure["name"] == "fresh meals" and measure["data_points"] == []
    points = f"/projects/{pid}/measures/{measure['id']}/data-points"
    before = {"measured_on": str(TODAY - timedelta(days=14)), "value": 2, "annotation": ANNOTATION}
    response = await year.app.client.post(points, json=before, headers=year.student())
    assert response.status_code == 201, response.text
    after = {"measured_on": str(TODAY), "value": 3.5}
    view = await send(year, "POST", points, year.student("2300002"), after, 201)
    (stored,) = view["measures"]
    assert [(p["measured_on"], p["value"], p["annotation"]) for p in stored["data_points"]] == [
        (before["measured_on"], 2.0, ANNOTATION),
        (after["measured_on"], 3.5, ""),
    ]
    assert response.headers["location"] == f"{points}/{stored['data_points'][0]['id']}"

    partner_view = await send(year, "GET", f"/projects/{pid}", year.partner_user)
    (figures,) = partner_view["measures"]
    assert [(p["measured_on"], p["value"]) for p in figures["data_points"]] == [
        (before["measured_on"], 2.0),
        (after["measured_on"], 3.5),
    ]
    assert ANNOTATION not in json.dumps(partner_view) and "pdsa_cycles" not in partner_view

    removed = await send(year, "DELETE", f"{points}/{stored['data_points'][0]['id']}", year.student())
    assert [p["value"] for p in removed["measures"][0]["data_points"]] == [3.5]
    reread = await send(year, "GET", f"/projects/{pid}", year.app.coordinator)
    assert reread["measures"] == removed["measures"] and reread["version"] == removed["version"]


async def test_bad_data_points_are_refused_naming_the_field_and_change_nothing(year: Year) -> None:
    project = await delivering(year)
    pid, measure_id = project["id"], project["measures"][0]["id"]
    points = f"/projects/{pid}/measures/{measure_id}/data-points"
    good = {"measured_on": str(TODAY), "value": 1}
    cases = [
        (points, {**good, "measured_on": str(TODAY + timedelta(days=3))}, ["body", "measured_on"]),
        (points, {**good, "measured_on": str(TODAY - timedelta(days=6 * 365))}, ["body", "measured_on"]),
        (points, {**good, "annotation": "a\x00b"}, ["body", "annotation"]),
        (points, {**good, "colour": "red"}, ["body", "colour"]),
    ]
    for path, body, loc in cases:
        response = await year.app.client.post(path, json=body, headers=year.student())
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"] == loc
    not_finite = await year.app.client.post(
        points,
        content=b'{"measured_on": "%s", "value": NaN}' % str(TODAY).encode(),
        headers={**year.student(), "Content-Type": "application/json"},
    )
    assert not_finite.status_code == 422 and not_finite.json()["detail"][0]["loc"] == ["body", "value"]
    unknown_measure = f"/projects/{pid}/measures/{uuid.uuid4()}/data-points"
    response = await year.app.client.post(unknown_measure, json=good, headers=year.student())
    assert response.status_code == 404 and response.json()["detail"].startswith("measure_id")
    unknown_point = await year.app.client.delete(f"{points}/{uuid.uuid4()}", headers=year.student())
    assert unknown_point.status_code == 404 and unknown_point.json()["detail"].startswith("point_id")
    view = await send(year, "GET", f"/projects/{pid}", year.student())
    assert view["measures"][0]["data_points"] == [] and view["version"] == project["version"]


async def test_a_pdsa_cycle_goes_plan_do_study_act_and_refuses_a_skipped_or_fixed_step(year: Year) -> None:
    project = await delivering(year)
    pid, student = project["id"], year.student()
    ideas = await year.app.client.post(
        f"/projects/{pid}/change-ideas", json={"text": "cooking demonstrations"}, headers=student
    )
    assert ideas.status_code == 201, ideas.text
    (idea,) = ideas.json()["change_ideas"]
    started = await send(year, "POST", f"/projects/{pid}/pdsa-cycles", student, {"change_idea_id": idea["id"]}, 201)
    (cycle,) = started["pdsa_cycles"]
    assert cycle["change_idea_id"] == idea["id"] and cycle["stage"] == "planning"
    assert cycle["writable_steps"] == ["plan"] and cycle["plan"] is None
    steps = f"/projects/{pid}/pdsa-cycles/{cycle['id']}"

    skipped = await year.app.client.put(f"{steps}/study", json=STUDY, headers=student)
    assert skipped.status_code == 409
    assert skipped.json() == {
        "detail": "record the plan of this cycle before its study",
        "state": "in_delivery",
        "section": "pdsa",
        "cycle_id": cycle["id"],
        "stage": "planning",
        "writable_steps": ["plan"],
    }

    planned = await send(year, "PUT", f"{steps}/plan", student, PLAN)
    assert planned["pdsa_cycles"][0]["stage"] == "doing" and planned["pdsa_cycles"][0]["plan"]["who"] == "two students"
    corrected = await send(year, "PUT", f"{steps}/plan", student, {**PLAN, "prediction": "a third will cook"})
    assert corrected["pdsa_cycles"][0]["plan"]["prediction"] == "a third will cook"
    done = await send(year, "PUT", f"{steps}/do", student, {"what_happened": "18 families came"})
    assert done["pdsa_cycles"][0]["writable_steps"] == ["do", "study"]
    fixed = await year.app.client.put(f"{steps}/plan", json=PLAN, headers=student)
    assert fixed.status_code == 409 and fixed.json()["stage"] == "studying"
    assert fixed.json()["detail"] == "the plan of this cycle is fixed: its do is recorded already"
    await send(year, "PUT", f"{steps}/study", student, STUDY)
    acted = await send(year, "PUT", f"{steps}/act", student, ACT)
    (complete,) = acted["pdsa_cycles"]
    assert complete["stage"] == "complete" and complete["act"] == ACT and complete["do"]["deviations"] == ""

    unknown_cycle = await year.app.client.put(
        f"/projects/{pid}/pdsa-cycles/{uuid.uuid4()}/do", json={"what_happened": "x"}, headers=student
    )
    assert unknown_cycle.status_code == 404 and unknown_cycle.json()["detail"].startswith("cycle_id")
    bad_decision = await year.app.client.put(f"{steps}/act", json={**ACT, "decision": "maybe"}, headers=student)
    assert bad_decision.status_code == 422 and bad_decision.json()["detail"][0]["loc"] == ["body", "decision"]
    no_idea = await year.app.client.post(
        f"/projects/{pid}/pdsa-cycles", json={"change_idea_id": str(uuid.uuid4())}, headers=student
    )
    assert no_idea.status_code == 422 and no_idea.json()["detail"][0]["loc"] == ["body", "change_idea_id"]
    tested = await year.app.client.delete(f"/projects/{pid}/change-ideas/{idea['id']}", headers=student)
    assert tested.status_code == 409 and "a PDSA cycle tests this change idea" in tested.json()["detail"]
    duplicate = await year.app.client.post(
        f"/projects/{pid}/change-ideas", json={"text": "Cooking Demonstrations"}, headers=student
    )
    assert duplicate.status_code == 409 and duplicate.json()["section"] == "pdsa"


async def test_wrong_state_or_standing_is_409_and_outsiders_get_404(year: Year) -> None:
    student, coordinator = year.student(), year.app.coordinator
    draft = await year.start()
    pid, measures = draft["id"], f"/projects/{draft['id']}/measures"
    await put(year, pid, "proposal", {**PROPOSAL, "partner_ids": [year.partner]}, student)
    measure_id = (await send(year, "GET", f"/projects/{pid}", student))["measures"][0]["id"]
    point = {"measured_on": str(TODAY), "value": 4}

    refused = await year.app.client.post(f"{measures}/{measure_id}/data-points", json=point, headers=student)
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "a student cannot edit the measures of a draft project",
        "state": "draft",
        "section": "measures",
    }
    idea = await year.app.client.post(f"/projects/{pid}/change-ideas", json={"text": "recipe cards"}, headers=student)
    assert idea.status_code == 409 and idea.json()["section"] == "pdsa"
    supervised = await year.app.client.post(
        f"/projects/{pid}/change-ideas", json={"text": "recipe cards"}, headers=year.supervisor
    )
    assert supervised.status_code == 409  # supervisors read the records; the group writes them
    # A baseline before delivery: coordinators may edit any section of an active project.
    await send(year, "POST", f"{measures}/{measure_id}/data-points", coordinator, point, 201)

    outsiders = [
        year.student("2300003"),  # a student of the other group
        auth_as(year.app, "dr.brown", Role.SUPERVISOR),  # the other group's supervisor
    ]
    for outsider in outsiders:
        for method, path, body in [
            ("POST", f"{measures}/{measure_id}/data-points", point),
            ("POST", f"/projects/{pid}/change-ideas", {"text": "recipe cards"}),
            ("POST", f"/projects/{pid}/pdsa-cycles", {"change_idea_id": str(uuid.uuid4())}),
            ("PUT", f"/projects/{pid}/pdsa-cycles/{uuid.uuid4()}/plan", PLAN),
            ("DELETE", f"/projects/{pid}/change-ideas/{uuid.uuid4()}", None),
        ]:
            response = await year.app.client.request(method, path, json=body, headers=outsider)
            assert response.status_code == 404, (method, path, response.text)
    other_partner = auth_as(year.app, "q.smith", Role.PARTNER, organisation=uuid.UUID(year.other_partner))
    assert (await year.app.client.get(f"/projects/{pid}", headers=other_partner)).status_code == 404
    partner = await year.app.client.post(f"{measures}/{measure_id}/data-points", json=point, headers=year.partner_user)
    assert partner.status_code == 403  # partners read figures; they do not record them


async def test_events_carry_the_section_and_ids_never_annotations_or_pdsa_text(year: Year) -> None:
    project = await delivering(year)
    pid, measure_id, student = project["id"], project["measures"][0]["id"], year.student()
    point = {"measured_on": str(TODAY), "value": 12, "annotation": ANNOTATION}
    await send(year, "POST", f"/projects/{pid}/measures/{measure_id}/data-points", student, point, 201)
    idea = (await send(year, "POST", f"/projects/{pid}/change-ideas", student, {"text": "tasting tables"}, 201))[
        "change_ideas"
    ][0]
    cycle = (await send(year, "POST", f"/projects/{pid}/pdsa-cycles", student, {"change_idea_id": idea["id"]}, 201))[
        "pdsa_cycles"
    ][0]
    await send(year, "PUT", f"/projects/{pid}/pdsa-cycles/{cycle['id']}/plan", student, PLAN)

    outbox = await year.app.outbox()
    updates = [json.loads(body)["data"] for event_type, body in outbox if event_type == "projects.project.updated.v1"]
    assert [u["section"] for u in updates][-4:] == ["measures", "pdsa", "pdsa", "pdsa"]
    assert all(u["project_id"] == pid for u in updates)
    everything = " ".join(body for _, body in outbox)
    for text in (ANNOTATION, "tasting tables", *PLAN.values()):
        assert text not in everything


async def test_a_project_stored_before_measures_had_ids_loads_and_takes_data_points(year: Year) -> None:
    project = await delivering(year)
    pid = project["id"]
    stored = orm.projects.c.id == uuid.UUID(pid)
    async with year.app.service.engine.begin() as connection:
        row = (await connection.execute(select(orm.projects.c.content).where(stored))).one()
        legacy = {key: value for key, value in row.content.items() if key not in {"change_ideas", "pdsa_cycles"}}
        legacy["measures"] = [
            {key: value for key, value in m.items() if key not in {"id", "data_points"}} for m in legacy["measures"]
        ]
        await connection.execute(update(orm.projects).where(stored).values(content=legacy))
    first = await send(year, "GET", f"/projects/{pid}", year.student())
    again = await send(year, "GET", f"/projects/{pid}", year.student())
    (measure,) = first["measures"]
    assert measure["id"] == again["measures"][0]["id"] and measure["name"] == "fresh meals"
    assert first["change_ideas"] == [] and first["pdsa_cycles"] == []
    point = {"measured_on": str(TODAY), "value": 5}
    points = f"/projects/{pid}/measures/{measure['id']}/data-points"
    added = await send(year, "POST", points, year.student(), point, 201)
    assert added["measures"][0]["id"] == measure["id"] and added["measures"][0]["data_points"][0]["value"] == 5.0
