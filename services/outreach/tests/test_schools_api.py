"""The schools API on SQLite and PostgreSQL: what it stores, what it publishes, what it refuses."""

import json
from typing import Any

import pytest

from medic.outreach.adapters import orm
from medic.shared.auth import Role
from services.outreach.tests.school_support import SCHOOL, Outreach

CONTACT = {"name": "Ms Amina Yusuf", "email": "a.yusuf@aldgate.example.sch.uk", "role": "teacher"}


async def test_registering_stores_the_school_and_stages_one_event_without_the_contact(outreach_app: Outreach) -> None:
    school = await outreach_app.register()
    assert school["postcode"] == "EC3A 5DE"
    assert (school["local_authority_code"], school["establishment_number"]) == ("201", "3614")
    assert school["contact"] is None

    reply = await outreach_app.client.put("/schools/100000/contact", json=CONTACT, headers=outreach_app.coordinator)
    assert reply.status_code == 200, reply.text
    assert reply.json()["contact"] == CONTACT

    ((event_type, body),) = await outreach_app.outbox()
    assert event_type == "outreach.school.registered.v1"
    data = json.loads(body)["data"]
    assert {k: data[k] for k in ("urn", "laestab", "phase", "state_funded")} == {
        "urn": "100000",
        "laestab": "2013614",
        "phase": "primary",
        "state_funded": True,
    }


async def test_the_contact_is_shown_to_coordinators_only_and_never_published(outreach_app: Outreach) -> None:
    await outreach_app.register()
    await outreach_app.client.put("/schools/100000/contact", json=CONTACT, headers=outreach_app.coordinator)
    await outreach_app.client.patch(
        "/schools/100000", json={"name": "Aldgate School"}, headers=outreach_app.coordinator
    )

    as_student = await outreach_app.client.get("/schools/100000", headers=outreach_app.auth(Role.STUDENT))
    assert as_student.status_code == 200
    assert as_student.json()["name"] == "Aldgate School"
    assert as_student.json()["contact"] is None
    listed = await outreach_app.client.get("/schools", headers=outreach_app.coordinator)
    assert listed.json()[0]["contact"] == CONTACT

    rows = await outreach_app.outbox()
    assert [t for t, _ in rows] == ["outreach.school.registered.v1", "outreach.school.updated.v1"]
    for _, body in rows:
        assert CONTACT["name"] not in body and CONTACT["email"] not in body and "Yusuf" not in body


async def test_a_change_that_changes_nothing_publishes_nothing(outreach_app: Outreach) -> None:
    await outreach_app.register()
    reply = await outreach_app.client.patch(
        "/schools/100000",
        json={"postcode": "EC3A5DE", "name": " The  Aldgate School "},
        headers=outreach_app.coordinator,
    )
    assert reply.status_code == 200, reply.text
    assert len(await outreach_app.outbox()) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"urn": "12345"}, "urn"),
        ({"laestab": "201361"}, "laestab"),
        ({"postcode": "NOT A CODE"}, "postcode"),
        ({"phase": "nursery"}, "phase"),
        ({"name": " "}, "name"),
        ({"state_funded": "maybe"}, "state_funded"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(
    outreach_app: Outreach, change: dict[str, Any], field: str
) -> None:
    reply = await outreach_app.client.post("/schools", json={**SCHOOL, **change}, headers=outreach_app.coordinator)
    assert reply.status_code == 422, reply.text
    assert [e["loc"][-1] for e in reply.json()["detail"]] == [field]
    assert await outreach_app.count(orm.schools) == 0
    assert await outreach_app.outbox() == []


async def test_a_bad_change_is_a_422_and_changes_nothing(outreach_app: Outreach) -> None:
    await outreach_app.register()
    reply = await outreach_app.client.patch("/schools/100000", json={"laestab": "12"}, headers=outreach_app.coordinator)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "laestab"]
    bad_contact = {**CONTACT, "email": "not-an-email"}
    reply = await outreach_app.client.put("/schools/100000/contact", json=bad_contact, headers=outreach_app.coordinator)
    assert reply.status_code == 422
    assert await outreach_app.count(orm.school_contacts) == 0
    assert len(await outreach_app.outbox()) == 1


async def test_a_second_school_with_the_same_urn_is_a_409(outreach_app: Outreach) -> None:
    await outreach_app.register()
    reply = await outreach_app.client.post(
        "/schools", json={**SCHOOL, "name": "Other"}, headers=outreach_app.coordinator
    )
    assert reply.status_code == 409
    assert reply.json()["detail"][0]["loc"] == ["body", "urn"]
    assert await outreach_app.count(orm.schools) == 1


async def test_unknown_schools_are_404(outreach_app: Outreach) -> None:
    for method, path, body in [
        ("GET", "/schools/999999", None),
        ("PATCH", "/schools/999999", {"name": "X"}),
        ("PUT", "/schools/999999/contact", CONTACT),
    ]:
        reply = await outreach_app.client.request(method, path, json=body, headers=outreach_app.coordinator)
        assert reply.status_code == 404, (method, path)
    assert await outreach_app.count(orm.school_contacts) == 0


async def test_the_list_filters_and_pages_by_urn(outreach_app: Outreach) -> None:
    await outreach_app.register(urn="100003", laestab="2020003", phase="secondary", state_funded=False)
    await outreach_app.register(urn="100001", laestab="2013601")
    await outreach_app.register(urn="100002", laestab="2013602", phase="special")

    async def urns(**query: Any) -> list[str]:
        reply = await outreach_app.client.get("/schools", params=query, headers=outreach_app.auth(Role.STUDENT))
        assert reply.status_code == 200, reply.text
        return [s["urn"] for s in reply.json()]

    assert await urns() == ["100001", "100002", "100003"]
    assert await urns(phase="special") == ["100002"]
    assert await urns(local_authority_code="202") == ["100003"]
    assert await urns(state_funded="true") == ["100001", "100002"]
    assert await urns(limit=1, offset=1) == ["100002"]
