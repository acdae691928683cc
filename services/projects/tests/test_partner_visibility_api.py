"""Who sees and changes which partner: coordinators everything; supervisors read without addresses; partner users
only their own organisation (another is 404) and its contacts; students nothing."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from medic.shared.auth import Role
from services.projects.tests.test_partner_support import BACKENDS, Projects, running_projects

NEW_CONTACT = {"name": "Amina Yusuf", "email": "amina@riverside.example", "role": "volunteer coordinator"}


@pytest.fixture(params=BACKENDS)
async def projects(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Projects]:
    async with running_projects(request.param, tmp_path) as running:
        yield running


@pytest.fixture
async def two(projects: Projects) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two partners: ours (with a second contact and an agreement) and theirs."""
    ours = await projects.register()
    theirs = await projects.register(name="Hillside Trust", contact_email="hello@hillside.example")
    added = await projects.client.post(
        f"/partners/{ours['id']}/contacts", json=NEW_CONTACT, headers=projects.coordinator
    )
    assert added.status_code == 201
    agreement = {"kind": "data_sharing", "starts_on": "2026-09-01", "ends_on": "2027-08-31"}
    assert (
        await projects.client.post(f"/partners/{ours['id']}/agreements", json=agreement, headers=projects.coordinator)
    ).status_code == 201
    return ours, theirs


def no_addresses(body: Any) -> bool:
    return "@" not in str(body)


async def test_supervisors_read_every_partner_without_contact_addresses(
    projects: Projects, two: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    ours, theirs = two
    supervisor = projects.auth(Role.SUPERVISOR)
    listed = await projects.client.get("/partners", headers=supervisor)
    assert [p["id"] for p in listed.json()] == [ours["id"], theirs["id"]]
    assert all(p["contact_email"] is None for p in listed.json())
    detail = await projects.client.get(f"/partners/{ours['id']}", headers=supervisor)
    assert detail.status_code == 200
    assert [c["name"] for c in detail.json()["contacts"]] == [None, "Amina Yusuf"]
    assert [c["email"] for c in detail.json()["contacts"]] == [None, None]
    assert len(detail.json()["agreements"]) == 1
    assert no_addresses(listed.json())
    assert no_addresses(detail.json())


async def test_partner_users_see_only_their_own_organisation_with_its_contacts(
    projects: Projects, two: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    ours, theirs = two
    partner_user = projects.auth(Role.PARTNER, organisation=uuid.UUID(ours["id"]))
    listed = await projects.client.get("/partners", params={"archived": "all"}, headers=partner_user)
    assert [p["id"] for p in listed.json()] == [ours["id"]]
    detail = await projects.client.get(f"/partners/{ours['id']}", headers=partner_user)
    assert detail.status_code == 200
    assert [c["email"] for c in detail.json()["contacts"]] == ["hello@riverside.example", "amina@riverside.example"]

    other = await projects.client.get(f"/partners/{theirs['id']}", headers=partner_user)
    assert other.status_code == 404
    unknown = await projects.client.get(f"/partners/{uuid.uuid4()}", headers=partner_user)
    assert (unknown.status_code, unknown.json()) == (other.status_code, other.json())  # nothing tells them apart


async def test_partner_users_edit_their_own_contacts_and_nothing_else(
    projects: Projects, two: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    ours, _ = two
    partner_user = projects.auth(Role.PARTNER, organisation=uuid.UUID(ours["id"]))
    contacts = f"/partners/{ours['id']}/contacts"
    added = await projects.client.post(
        contacts, json={"name": "Sam", "email": "sam@riverside.example"}, headers=partner_user
    )
    assert added.status_code == 201, added.text
    edited = await projects.client.patch(
        f"{contacts}/{added.json()['id']}", json={"primary": True}, headers=partner_user
    )
    assert edited.json()["primary"] is True
    assert (await projects.client.delete(f"{contacts}/{added.json()['id']}", headers=partner_user)).status_code == 204

    refused = [
        ("patch", f"/partners/{ours['id']}", {"name": "Ours"}),
        ("put", f"/partners/{ours['id']}/areas-of-work", {"areas_of_work": ["x"]}),
        ("post", f"/partners/{ours['id']}/archive", None),
        ("post", f"/partners/{ours['id']}/unarchive", None),
        (
            "post",
            f"/partners/{ours['id']}/agreements",
            {"kind": "data_sharing", "starts_on": "2026-09-01", "ends_on": "2027-08-31"},
        ),
        ("post", "/partners", {"name": "New", "kind": "charity", "contact_email": "a@example.org"}),
    ]
    for method, path, body in refused:
        response = await projects.client.request(method, path, json=body, headers=partner_user)
        assert response.status_code == 403, (method, path)


async def test_partner_users_of_another_organisation_get_404_and_change_nothing(
    projects: Projects, two: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    ours, theirs = two
    outsider = projects.auth(Role.PARTNER, organisation=uuid.UUID(theirs["id"]))
    before, staged = await projects.detail(ours["id"]), await projects.outbox()
    contact_id = before["contacts"][1]["id"]
    contacts = f"/partners/{ours['id']}/contacts"
    for method, path, body in [
        ("get", f"/partners/{ours['id']}", None),
        ("post", contacts, {"name": "Mallory", "email": "mallory@example.org"}),
        ("patch", f"{contacts}/{contact_id}", {"email": "mallory@example.org"}),
        ("delete", f"{contacts}/{contact_id}", None),
    ]:
        response = await projects.client.request(method, path, json=body, headers=outsider)
        assert response.status_code == 404, (method, path, response.text)
    assert await projects.detail(ours["id"]) == before
    assert await projects.outbox() == staged


async def test_supervisors_and_students_change_nothing(
    projects: Projects, two: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    ours, _ = two
    before = await projects.detail(ours["id"])
    contact_id = before["contacts"][0]["id"]
    for role in (Role.SUPERVISOR, Role.STUDENT, Role.OPS):
        headers = projects.auth(role)
        for method, path, body in [
            ("patch", f"/partners/{ours['id']}", {"name": "Ours"}),
            ("post", f"/partners/{ours['id']}/archive", None),
            ("post", f"/partners/{ours['id']}/contacts", NEW_CONTACT | {"email": "x@example.org"}),
            ("patch", f"/partners/{ours['id']}/contacts/{contact_id}", {"name": "X"}),
            ("delete", f"/partners/{ours['id']}/contacts/{contact_id}", None),
        ]:
            response = await projects.client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (role, method, path)
    for role in (Role.STUDENT, Role.OPS):
        assert (await projects.client.get(f"/partners/{ours['id']}", headers=projects.auth(role))).status_code == 403
        assert (await projects.client.get("/partners", headers=projects.auth(role))).status_code == 403
    assert await projects.detail(ours["id"]) == before
