"""`GET /directory/contacts/{kind}/{contact_id}`: staff see a contact's address on file and the latest emails to it;
every other role is refused, an unknown contact is a 404, bad input a 422 naming the field."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from medic.notifications.bootstrap import NotificationsService
from medic.notifications.domain.emails import EmailRequest
from medic.shared.auth import Role, issue_token
from medic.shared.contracts.projects.contacts import ContactAddressRemovedV1, ContactKind
from services.notifications.tests.directory_routes import ROUTES
from services.notifications.tests.directory_support import address, deliver, envelope_of, running_service, uow_of
from tests.support import any_organisation

PATH = "/directory/contacts/{kind}/{contact_id}"


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[NotificationsService]:
    async with running_service("sqlite", tmp_path) as running:
        yield running


@pytest.fixture
async def client(service: NotificationsService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as client:
        yield client


def as_(service: NotificationsService, role: Role) -> dict[str, str]:
    token = issue_token(service.settings, roles=[role], organisation_id=any_organisation([role]))
    return {"Authorization": f"Bearer {token}"}


async def test_each_role_as_the_table_says(service: NotificationsService, client: httpx.AsyncClient) -> None:
    contact = uuid.uuid4()
    await deliver(service, envelope_of(address(ContactKind.SUPERVISOR, contact, "a.patel@nhs.example", "Dr Patel")))
    url = PATH.format(kind="supervisor", contact_id=contact)
    allowed = ROUTES[("GET", PATH)]
    for role in Role:
        response = await client.get(url, headers=as_(service, role))
        assert response.status_code == (200 if role in allowed else 403), (role, response.text)
    assert (await client.get(url)).status_code == 401


async def test_staff_see_the_address_and_the_latest_emails_to_it(
    service: NotificationsService, client: httpx.AsyncClient
) -> None:
    contact, partner = uuid.uuid4(), uuid.uuid4()
    kind = ContactKind.PARTNER_CONTACT
    await deliver(
        service, envelope_of(address(kind, contact, "Amina@Partner.example", "Amina", partner_id=partner, primary=True))
    )
    uow = uow_of(service)
    async with uow:
        for cause in ("first", "second", "third"):
            await uow.emails.enqueue(EmailRequest("verification_request", cause, "amina@partner.example", None, {}))
        await uow.emails.enqueue(EmailRequest("verification_request", "first", "someone@else.example", None, {}))
        await uow.commit()

    url = PATH.format(kind="partner_contact", contact_id=contact)
    response = await client.get(url, params={"limit": 2}, headers=as_(service, Role.COORDINATOR))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["email"], body["display_name"], body["partner_id"], body["primary"]) == (
        "amina@partner.example",
        "Amina",
        str(partner),
        True,
    )
    assert [e["recipient"] for e in body["emails"]] == ["amina@partner.example"] * 2
    assert {e["cause_id"] for e in body["emails"]} <= {"first", "second", "third"}

    await deliver(service, envelope_of(ContactAddressRemovedV1(contact_id=contact, kind=kind)))
    removed = (await client.get(url, headers=as_(service, Role.COORDINATOR))).json()
    assert (removed["email"], removed["display_name"], removed["emails"]) == (None, None, [])
    assert removed["removed_at"] is not None


async def test_an_unknown_contact_is_a_404_and_bad_input_a_422_naming_the_field(
    service: NotificationsService, client: httpx.AsyncClient
) -> None:
    headers = as_(service, Role.COORDINATOR)
    contact = uuid.uuid4()
    await deliver(service, envelope_of(address(ContactKind.STUDENT, contact, "sam@student.example", "Sam")))
    other_kind = await client.get(PATH.format(kind="supervisor", contact_id=contact), headers=headers)
    assert other_kind.status_code == 404  # a student's id is not a supervisor's
    unknown = await client.get(PATH.format(kind="student", contact_id=uuid.uuid4()), headers=headers)
    assert unknown.status_code == 404
    for url, params, field in (
        (PATH.format(kind="child", contact_id=contact), {}, ["path", "kind"]),
        (PATH.format(kind="student", contact_id="nope"), {}, ["path", "contact_id"]),
        (PATH.format(kind="student", contact_id=contact), {"limit": 0}, ["query", "limit"]),
        (PATH.format(kind="student", contact_id=contact), {"limit": 101}, ["query", "limit"]),
    ):
        response = await client.get(url, params=params, headers=headers)
        assert response.status_code == 422, url
        assert response.json()["detail"][0]["loc"] == field
