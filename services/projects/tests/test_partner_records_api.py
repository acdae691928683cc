"""A partner's records over HTTP: profile edits, areas of work, archiving, contacts; each with its events."""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from medic.projects.adapters.orm_partners import partner_contacts
from services.projects.tests.test_partner_support import BACKENDS, Projects, running_projects


@pytest.fixture(params=BACKENDS)
async def projects(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Projects]:
    async with running_projects(request.param, tmp_path) as running:
        yield running


async def test_detail_shows_the_registration_contact_and_no_agreements(projects: Projects) -> None:
    partner = await projects.register()
    detail = await projects.detail(partner["id"])
    assert detail["archived"] is False
    assert detail["agreements"] == []
    (contact,) = detail["contacts"]
    assert contact["email"] == "hello@riverside.example"
    assert contact["name"] is None
    assert contact["primary"] is True
    assert detail["contact_email"] == "hello@riverside.example"


async def test_renaming_and_replacing_areas_publish_the_whole_profile(projects: Projects) -> None:
    partner = await projects.register(areas_of_work=["food poverty"])
    url = f"/partners/{partner['id']}"
    renamed = await projects.client.patch(
        url, json={"name": " Riverside  Pantry ", "kind": "community_group"}, headers=projects.coordinator
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["kind"]) == ("Riverside Pantry", "community_group")

    areas = await projects.client.put(
        f"{url}/areas-of-work", json={"areas_of_work": ["Diet", "diet", " Sleep "]}, headers=projects.coordinator
    )
    assert areas.status_code == 200, areas.text
    assert areas.json()["areas_of_work"] == ["Diet", "Sleep"]

    unchanged = await projects.client.patch(
        url, json={"name": "Riverside   Pantry", "kind": None}, headers=projects.coordinator
    )
    assert unchanged.status_code == 200
    staged = await projects.outbox()
    assert [t for t, _ in staged] == [
        "projects.partner.registered.v1",
        "projects.partner.updated.v1",
        "projects.partner.updated.v1",
    ]  # a change to nothing publishes nothing
    last = json.loads(staged[-1][1])["data"]
    assert last == {
        "partner_id": partner["id"],
        "revision": 3,
        "name": "Riverside Pantry",
        "kind": "community_group",
        "areas_of_work": ["Diet", "Sleep"],
    }


async def test_a_name_another_partner_has_is_a_409_and_changes_nothing(projects: Projects) -> None:
    await projects.register(name="Hillside Trust")
    partner = await projects.register()
    taken = await projects.client.patch(
        f"/partners/{partner['id']}", json={"name": "HILLSIDE trust"}, headers=projects.coordinator
    )
    assert taken.status_code == 409
    assert taken.json()["detail"][0]["loc"] == ["body", "name"]
    assert (await projects.detail(partner["id"]))["name"] == "Riverside Food Bank"
    assert len(await projects.outbox()) == 2


@pytest.mark.parametrize(
    ("path", "method", "body", "field"),
    [
        ("", "patch", {"name": "   "}, "name"),
        ("", "patch", {"name": "x" * 201}, "name"),
        ("", "patch", {"kind": "pub"}, "kind"),
        ("", "patch", {"colour": "red"}, "colour"),
        ("/areas-of-work", "put", {"areas_of_work": [f"a{i}" for i in range(21)]}, "areas_of_work"),
        ("/areas-of-work", "put", {"areas_of_work": ["tab\there"]}, "areas_of_work"),
        ("/areas-of-work", "put", {}, "areas_of_work"),
        ("/contacts", "post", {"name": "A", "email": "nope"}, "email"),
        ("/contacts", "post", {"name": " ", "email": "a@example.org"}, "name"),
        ("/contacts", "post", {"email": "a@example.org"}, "name"),
        ("/contacts", "post", {"name": "A", "email": "a@example.org", "role": "x" * 101}, "role"),
        ("/contacts", "post", {"name": "A", "email": "a@example.org", "primary": "maybe"}, "primary"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    projects: Projects, path: str, method: str, body: dict[str, Any], field: str
) -> None:
    partner = await projects.register()
    before = await projects.detail(partner["id"])
    response = await projects.client.request(
        method, f"/partners/{partner['id']}{path}", json=body, headers=projects.coordinator
    )
    assert response.status_code == 422, response.text
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert await projects.detail(partner["id"]) == before
    assert len(await projects.outbox()) == 1


async def test_archiving_hides_the_partner_from_the_default_list_and_twice_is_a_409(projects: Projects) -> None:
    kept = await projects.register(name="Hillside Trust")
    partner = await projects.register()
    url = f"/partners/{partner['id']}"
    archived = await projects.client.post(f"{url}/archive", headers=projects.coordinator)
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived"] is True
    assert archived.json()["archived_at"] is not None

    again = await projects.client.post(f"{url}/archive", headers=projects.coordinator)
    assert again.status_code == 409
    assert "already archived" in again.json()["detail"][0]["msg"]

    async def listed(archived: str | None) -> list[str]:
        params = {"archived": archived} if archived else {}
        response = await projects.client.get("/partners", params=params, headers=projects.coordinator)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()]

    assert await listed(None) == [kept["id"]]
    assert await listed("false") == [kept["id"]]
    assert await listed("true") == [partner["id"]]
    assert await listed("all") == [kept["id"], partner["id"]]
    assert (
        await projects.client.get("/partners", params={"archived": "yes"}, headers=projects.coordinator)
    ).status_code == 422

    assert (await projects.client.post(f"{url}/unarchive", headers=projects.coordinator)).status_code == 200
    not_archived = await projects.client.post(f"{url}/unarchive", headers=projects.coordinator)
    assert not_archived.status_code == 409
    assert await listed(None) == [kept["id"], partner["id"]]
    assert (await projects.event_types())[2:] == ["projects.partner.archived.v1", "projects.partner.unarchived.v1"]


async def test_contacts_are_added_edited_and_removed_keeping_one_primary(projects: Projects) -> None:
    partner = await projects.register()
    contacts = f"/partners/{partner['id']}/contacts"
    first_id = (await projects.detail(partner["id"]))["contacts"][0]["id"]
    added = await projects.client.post(
        contacts,
        json={
            "name": "Amina  Yusuf",
            "email": "Amina@Riverside.example",
            "role": "volunteer coordinator",
            "primary": True,
        },
        headers=projects.coordinator,
    )
    assert added.status_code == 201, added.text
    amina = added.json()
    assert (amina["name"], amina["email"], amina["primary"]) == ("Amina Yusuf", "amina@riverside.example", True)
    detail = await projects.detail(partner["id"])
    assert [(c["id"], c["primary"]) for c in detail["contacts"]] == [(first_id, False), (amina["id"], True)]
    assert detail["contact_email"] == "amina@riverside.example"

    named = await projects.client.patch(
        f"{contacts}/{first_id}", json={"name": "Front desk", "role": "reception"}, headers=projects.coordinator
    )
    assert named.status_code == 200, named.text
    assert (named.json()["name"], named.json()["role"], named.json()["primary"]) == ("Front desk", "reception", False)

    unflag = await projects.client.patch(
        f"{contacts}/{amina['id']}", json={"primary": False}, headers=projects.coordinator
    )
    assert unflag.status_code == 409
    assert unflag.json()["detail"][0]["loc"] == ["body", "primary"]
    taken = await projects.client.patch(
        f"{contacts}/{first_id}", json={"email": "AMINA@riverside.example"}, headers=projects.coordinator
    )
    assert taken.status_code == 409
    assert taken.json()["detail"][0]["loc"] == ["body", "email"]

    removed = await projects.client.delete(f"{contacts}/{amina['id']}", headers=projects.coordinator)
    assert removed.status_code == 204
    (left,) = (await projects.detail(partner["id"]))["contacts"]
    assert (left["id"], left["primary"]) == (first_id, True)
    missing = await projects.client.delete(f"{contacts}/{amina['id']}", headers=projects.coordinator)
    assert missing.status_code == 404
    assert await projects.count(partner_contacts) == 1

    assert (await projects.event_types())[1:] == [
        "projects.partner_contact.updated.v1",  # the first contact stops being primary
        "projects.partner_contact.added.v1",
        "projects.partner_contact.updated.v1",  # named
        "projects.partner_contact.removed.v1",
        "projects.partner_contact.updated.v1",  # the first contact is primary again
    ]


async def test_no_event_carries_a_contact_name_or_address(projects: Projects) -> None:
    partner = await projects.register(contact_email="first.person@riverside.example")
    contacts = f"/partners/{partner['id']}/contacts"
    added = await projects.client.post(
        contacts,
        json={"name": "Zebedee Quartermain", "email": "zq@riverside.example", "role": "trustee"},
        headers=projects.coordinator,
    )
    contact_id = added.json()["id"]
    await projects.client.patch(
        f"{contacts}/{contact_id}",
        json={"name": "Xanthe Quartermain", "email": "xq@riverside.example", "primary": True},
        headers=projects.coordinator,
    )
    await projects.client.delete(f"{contacts}/{contact_id}", headers=projects.coordinator)

    staged = await projects.outbox()
    assert len(staged) == 6  # registered, added, 2 updated (the primary moved), removed, updated (it moved back)
    for _, body in staged:
        for secret in ("riverside.example", "Quartermain", "Zebedee", "Xanthe", "trustee", "first.person"):
            assert secret not in body


async def test_unknown_partner_or_contact_is_a_404_and_changes_nothing(projects: Projects) -> None:
    partner = await projects.register()
    nobody = uuid.uuid4()
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("get", f"/partners/{nobody}", None),
        ("patch", f"/partners/{nobody}", {"name": "X"}),
        ("put", f"/partners/{nobody}/areas-of-work", {"areas_of_work": []}),
        ("post", f"/partners/{nobody}/archive", None),
        ("post", f"/partners/{nobody}/unarchive", None),
        ("post", f"/partners/{nobody}/contacts", {"name": "A", "email": "a@example.org"}),
        ("patch", f"/partners/{partner['id']}/contacts/{nobody}", {"name": "A"}),
        ("delete", f"/partners/{partner['id']}/contacts/{nobody}", None),
        ("patch", f"/partners/{partner['id']}/agreements/{nobody}", {"status": "active"}),
    ]
    for method, path, body in requests:
        response = await projects.client.request(method, path, json=body, headers=projects.coordinator)
        assert response.status_code == 404, (method, path, response.text)
    assert len(await projects.outbox()) == 1
