"""The addresses projects publishes for the notifications directory (`projects.contact_address.*`) and the
verification mail with its link: each in the transaction of the change that caused it, right after that change's own
event, under a subject of its own; nothing when nothing about the address changed. On SQLite and PostgreSQL."""

import importlib.util
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from medic.projects.adapters import orm
from medic.projects.bootstrap import MIGRATIONS
from services.projects.tests import setup_support, test_partner_support
from services.projects.tests.project_support import Year, submitted_project

SET = "projects.contact_address.set.v1"
REMOVED = "projects.contact_address.removed.v1"
TUTOR, SAM = "a.patel@nhs.example", "sam@student.example.ac.uk"


@pytest.fixture(params=setup_support.BACKENDS)
async def setup(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[setup_support.Projects]:
    async with (
        setup_support.database_url(request.param, tmp_path) as url,
        setup_support.running_projects(url) as running,
    ):
        yield running


@pytest.fixture(params=test_partner_support.BACKENDS)
async def partners(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[test_partner_support.Projects]:
    async with test_partner_support.running_projects(request.param, tmp_path) as running:
        yield running


def addresses(staged: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [(t, e["subject"], e["data"]) for t, e in staged if t.startswith("projects.contact_address.")]


async def test_a_supervisor_and_a_student_publish_their_address_when_registered_or_renamed(
    setup: setup_support.Projects,
) -> None:
    practice = await setup.practice()
    tutor = await setup.supervisor(practice_ids=[practice["id"]], name="Dr Asha Patel", email="A.Patel@NHS.example")
    assert tutor["email"] == TUTOR
    student = await setup.student("20230001", name="Sam Okafor", email=SAM)
    url = f"/supervisors/{tutor['id']}"
    moved = await setup.client.patch(url, json={"practice_ids": []}, headers=setup.coordinator)
    assert moved.status_code == 200, moved.text  # links only: no new address
    renamed = await setup.client.patch(url, json={"name": "Dr Asha Patel-Jones"}, headers=setup.coordinator)
    assert renamed.status_code == 200, renamed.text

    staged = await setup.outbox(directory=True)
    types = [t for t, _ in staged]
    assert types[types.index("projects.supervisor.registered.v1") + 1] == SET  # right after, same transaction
    assert types[types.index("projects.student.registered.v1") + 1] == SET

    def address(kind: str, contact_id: str, email: str, name: str) -> dict[str, Any]:
        return {"contact_id": contact_id, "kind": kind, "partner_id": None, "primary": False, "email": email,
                "display_name": name}  # fmt: skip

    assert addresses(staged) == [
        (SET, f"contacts/supervisor/{tutor['id']}", address("supervisor", tutor["id"], TUTOR, "Dr Asha Patel")),
        (SET, f"contacts/student/{student['id']}", address("student", student["id"], SAM, "Sam Okafor")),
        (SET, f"contacts/supervisor/{tutor['id']}", address("supervisor", tutor["id"], TUTOR, "Dr Asha Patel-Jones")),
    ]
    registered = next(e for t, e in staged if t == "projects.supervisor.registered.v1")
    first = next(e for t, e in staged if t == SET)
    assert first["correlationid"] == registered["correlationid"]


async def test_a_student_import_publishes_new_and_changed_addresses_only(setup: setup_support.Projects) -> None:
    first = "university_id,name,email\n20230001,Sam Okafor,sam@student.example.ac.uk\n20230002,Priya Shah,p@s.example\n"
    assert (await setup.import_csv("students", first)).status_code == 200
    second = (
        "university_id,name,email\n20230001,Sam Okafor,sam.o@student.example.ac.uk\n20230002,Priya Shah,p@s.example\n"
    )
    assert (await setup.import_csv("students", second)).status_code == 200

    sent = [(d["display_name"], d["email"]) for _, _, d in addresses(await setup.outbox(directory=True))]
    assert sent == [
        ("Sam Okafor", "sam@student.example.ac.uk"),
        ("Priya Shah", "p@s.example"),
        ("Sam Okafor", "sam.o@student.example.ac.uk"),  # Priya is unchanged: nothing
    ]


async def test_partner_contacts_publish_their_address_primary_flag_and_removal(
    partners: test_partner_support.Projects,
) -> None:
    partner = await partners.register(contact_email="hello@riverside.example")
    contacts = f"/partners/{partner['id']}/contacts"
    first_id = (await partners.detail(partner["id"]))["contacts"][0]["id"]
    added = await partners.client.post(
        contacts,
        json={"name": "Amina Yusuf", "email": "amina@riverside.example", "primary": True},
        headers=partners.coordinator,
    )
    amina = added.json()["id"]
    removed = await partners.client.delete(f"{contacts}/{amina}", headers=partners.coordinator)
    assert removed.status_code == 204

    staged = [(t, json.loads(body)) for t, body in await partners.outbox(directory=True)]
    pid = partner["id"]

    def address(contact_id: str, email: str, name: str | None, primary: bool) -> dict[str, Any]:
        return {"contact_id": contact_id, "kind": "partner_contact", "partner_id": pid, "primary": primary,
                "email": email, "display_name": name}  # fmt: skip

    assert [(t, d) for t, _, d in addresses(staged)] == [
        (SET, address(first_id, "hello@riverside.example", None, True)),  # the registration's contact
        (SET, address(first_id, "hello@riverside.example", None, False)),  # no longer primary
        (SET, address(amina, "amina@riverside.example", "Amina Yusuf", True)),
        (REMOVED, {"contact_id": amina, "kind": "partner_contact"}),
        (SET, address(first_id, "hello@riverside.example", None, True)),  # primary again
    ]
    types = [t for t, _ in staged]
    assert types[types.index("projects.partner_contact.removed.v1") + 1] == REMOVED
    assert all(
        e["subject"] == f"contacts/partner_contact/{e['data']['contact_id']}" for t, e in staged if "address" in t
    )
    others = " ".join(json.dumps(e) for t, e in staged if not t.startswith("projects.contact_address."))
    assert "@" not in others and "Amina" not in others  # the other events still carry ids only


async def test_issuing_a_verification_link_asks_notifications_to_mail_it_and_logs_no_token(year: Year) -> None:
    project = await submitted_project(year)
    with capture_logs() as logs:
        response = await year.app.client.post(
            f"/projects/{project['id']}/verification-link", headers=year.app.coordinator
        )
    assert response.status_code == 201, response.text
    link = response.json()

    staged = [(t, json.loads(body)) for t, body in await year.app.outbox(directory=True)]
    types = [t for t, _ in staged]
    issued = types.index("projects.project.verification_link_issued.v1")
    assert types[issued + 1] == "projects.verification_link.mail_requested.v1"
    mail = staged[issued + 1][1]["data"]
    assert mail == {
        "verification_id": link["verification_id"],
        "project_id": project["id"],
        "partner_id": staged[issued][1]["data"]["partner_id"],
        "contact_id": link["contact_id"],
        "link": link["link"],
        "expires_at": mail["expires_at"],
    }
    token = link["link"].rsplit("/", 1)[-1]
    assert token not in repr(logs)
    assert token not in json.dumps(staged[issued][1])  # `link_issued` still carries no link
    assert uuid.UUID(mail["verification_id"])


async def test_the_backfill_migration_publishes_every_address_registered_before(setup: setup_support.Projects) -> None:
    practice = await setup.practice()
    tutor = await setup.supervisor(practice_ids=[practice["id"]], name="Dr Asha Patel", email=TUTOR)
    student = await setup.student("20230001", name="Sam Okafor", email=SAM)
    async with setup.service.engine.begin() as connection:
        await connection.execute(orm.outbox.delete())  # as before addresses were published

    path = MIGRATIONS / "versions" / "0010_contact_addresses.py"
    spec = importlib.util.spec_from_file_location("backfill_0010", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    async with setup.service.engine.begin() as connection:
        assert await connection.run_sync(migration.backfill) == 2

    staged = await setup.outbox(directory=True)
    assert sorted(
        (d["kind"], d["contact_id"], d["email"], d["display_name"]) for _, _, d in addresses(staged)
    ) == sorted([("supervisor", tutor["id"], TUTOR, "Dr Asha Patel"), ("student", student["id"], SAM, "Sam Okafor")])
    assert len({e["correlationid"] for _, e in staged}) == 1
