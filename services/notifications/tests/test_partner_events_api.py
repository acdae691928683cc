"""The partner events area over HTTP: the public catalogue, and the school links (coordinators manage them; a partner
reads its own, another's is a 404), each route checked for every role from the area's table."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from medic.notifications.domain.partner_events import CATALOGUE
from medic.shared.auth import Role, issue_token
from services.notifications.tests.partner_events_routes import PUBLIC, ROUTES

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from medic.notifications.settings import NotificationsSettings
    from services.notifications.tests.conftest import AuthHeaders, DeliverTo, EnvelopeFactory

OUTREACH = "/services/outreach"
OURS, THEIRS = uuid.uuid4(), uuid.uuid4()


def school(urn: str, name: str) -> dict[str, Any]:
    return {
        "urn": urn,
        "laestab": "2013614",
        "name": name,
        "phase": "primary",
        "local_authority_code": "201",
        "local_authority_name": "City of London",
        "state_funded": True,
    }


@pytest.fixture
async def known(envelope: EnvelopeFactory, deliver_to: DeliverTo) -> None:
    """Two partners and three schools, as projects and outreach published them."""
    await deliver_to(
        *(
            envelope(
                type="projects.partner.registered.v1",
                data={"partner_id": str(p), "name": n, "kind": "school", "areas_of_work": []},
            )
            for p, n in ((OURS, "Hillside Primary"), (THEIRS, "Riverside Trust"))
        ),
        *(
            envelope(type="outreach.school.registered.v1", source=OUTREACH, data=school(urn, name))
            for urn, name in (
                ("100000", "Hillside Primary School"),
                ("100001", "Riverside Academy"),
                ("100002", "Brookside Infants"),
            )
        ),
    )


def partner_of(settings: NotificationsSettings, organisation: uuid.UUID) -> dict[str, str]:
    token = issue_token(settings, roles=[Role.PARTNER], organisation_id=organisation)
    return {"Authorization": f"Bearer {token}"}


async def link(client: httpx.AsyncClient, auth: AuthHeaders, urn: str, partner: uuid.UUID) -> dict[str, Any]:
    reply = await client.put(
        f"/webhooks/school-links/{urn}", json={"partner_id": str(partner)}, headers=auth(Role.COORDINATOR)
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


# --- the catalogue --------------------------------------------------------------------------------------------------


async def test_anyone_may_read_the_catalogue_with_each_types_schema(client: httpx.AsyncClient) -> None:
    reply = await client.get("/webhooks/event-types")
    assert reply.status_code == 200
    items = reply.json()["items"]
    assert [item["name"] for item in items] == sorted(CATALOGUE)
    for item in items:
        assert item["description"] == CATALOGUE[item["name"]].description
        assert item["data_schema"] == CATALOGUE[item["name"]].json_schema()
    one = await client.get("/webhooks/event-types/project.approved.v1")
    assert one.status_code == 200 and one.json()["name"] == "project.approved.v1"
    assert {"partner_id", "sequence", "occurred_at", "to_state"} <= set(one.json()["data_schema"]["required"])


@pytest.mark.parametrize(("name", "status"), [("project.nope.v1", 404), ("Project.approved", 422), ("x" * 101, 422)])
async def test_a_type_not_in_the_catalogue_is_a_404_and_a_malformed_name_a_422(
    client: httpx.AsyncClient, name: str, status: int
) -> None:
    reply = await client.get(f"/webhooks/event-types/{name}")
    assert reply.status_code == status
    if status == 422:
        assert reply.json()["detail"][0]["loc"] == ["path", "name"]


# --- who may call what ----------------------------------------------------------------------------------------------


def _path(template: str) -> str:
    return template.replace("{urn}", "100000").replace("{name}", "project.approved.v1")


async def test_each_route_admits_exactly_the_roles_in_its_table(
    client: httpx.AsyncClient, settings: NotificationsSettings, auth: AuthHeaders, known: None
) -> None:
    await link(client, auth, "100000", OURS)
    wrong = []
    for (method, template), roles in ROUTES.items():
        path = _path(template)
        body = {"partner_id": str(OURS)} if method == "PUT" else None
        if (status := (await client.request(method, path, json=body)).status_code) != 401:
            wrong.append(f"{method} {template} without a token: {status}")
        for role in Role:
            headers = partner_of(settings, OURS) if role is Role.PARTNER else auth(role)
            status = (await client.request(method, path, json=body, headers=headers)).status_code
            if (status != 403) != (role in roles):
                wrong.append(f"{method} {template} as {role.value}: {status}")
            if method == "DELETE" and status == 204:
                await link(client, auth, "100000", OURS)
    for method, template in PUBLIC:
        if (status := (await client.request(method, _path(template))).status_code) != 200:
            wrong.append(f"{method} {template} without a token: {status}")
    assert wrong == []


async def test_a_partner_reads_its_own_links_and_another_partners_is_a_404(
    client: httpx.AsyncClient, settings: NotificationsSettings, auth: AuthHeaders, known: None
) -> None:
    await link(client, auth, "100000", OURS)
    await link(client, auth, "100001", THEIRS)
    ours = partner_of(settings, OURS)

    mine = (await client.get("/webhooks/school-links", headers=ours)).json()["items"]
    assert [(item["urn"], item["school_name"], item["partner_name"]) for item in mine] == [
        ("100000", "Hillside Primary School", "Hillside Primary")
    ]
    assert (await client.get("/webhooks/school-links/100000", headers=ours)).status_code == 200
    assert (await client.get("/webhooks/school-links/100001", headers=ours)).status_code == 404
    assert (await client.get("/webhooks/school-links/100002", headers=ours)).status_code == 404  # linked to nobody
    theirs = await client.get("/webhooks/school-links", params={"partner_id": str(THEIRS)}, headers=ours)
    assert theirs.status_code == 200 and theirs.json()["items"] == []

    everyone = (await client.get("/webhooks/school-links", headers=auth(Role.COORDINATOR))).json()["items"]
    assert [(item["urn"], item["partner_id"]) for item in everyone] == [("100000", str(OURS)), ("100001", str(THEIRS))]
    one = await client.get("/webhooks/school-links", params={"partner_id": str(THEIRS)}, headers=auth(Role.COORDINATOR))
    assert [item["urn"] for item in one.json()["items"]] == ["100001"]


async def test_linking_again_moves_the_school_and_unlinking_ends_it(
    client: httpx.AsyncClient, settings: NotificationsSettings, auth: AuthHeaders, known: None
) -> None:
    first = await link(client, auth, "100000", OURS)
    moved = await link(client, auth, "100000", THEIRS)
    assert (moved["partner_id"], moved["partner_name"]) == (str(THEIRS), "Riverside Trust")
    assert moved["linked_at"] >= first["linked_at"]
    assert (await client.get("/webhooks/school-links/100000", headers=partner_of(settings, OURS))).status_code == 404

    coordinator = auth(Role.COORDINATOR)
    assert (await client.delete("/webhooks/school-links/100000", headers=coordinator)).status_code == 204
    assert (await client.get("/webhooks/school-links/100000", headers=coordinator)).status_code == 404
    assert (await client.delete("/webhooks/school-links/100000", headers=coordinator)).status_code == 404


@pytest.mark.parametrize(
    ("urn", "body", "location", "status"),
    [
        ("100009", {"partner_id": str(OURS)}, ["path", "urn"], 404),  # outreach has no such school
        ("100000", {"partner_id": str(uuid.uuid4())}, ["body", "partner_id"], 404),  # projects has no such partner
        ("10000", {"partner_id": str(OURS)}, ["path", "urn"], 422),
        ("1000000", {"partner_id": str(OURS)}, ["path", "urn"], 422),
        ("10000a", {"partner_id": str(OURS)}, ["path", "urn"], 422),
        ("100000", {"partner_id": "nope"}, ["body", "partner_id"], 422),
        ("100000", {}, ["body", "partner_id"], 422),
        ("100000", {"partner_id": str(OURS), "urn": "100001"}, ["body", "urn"], 422),
    ],
)
async def test_a_bad_link_is_refused_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient,
    auth: AuthHeaders,
    known: None,
    urn: str,
    body: dict[str, Any],
    location: list[str],
    status: int,
) -> None:
    """Malformed input is a 422; a school or partner that does not exist a 404 (as across the API)."""
    coordinator = auth(Role.COORDINATOR)
    reply = await client.put(f"/webhooks/school-links/{urn}", json=body, headers=coordinator)
    assert reply.status_code == status, reply.text
    assert reply.json()["detail"][0]["loc"] == location
    assert (await client.get("/webhooks/school-links", headers=coordinator)).json()["items"] == []


async def test_a_links_partner_name_is_the_newest_published_whatever_the_order_received(
    client: httpx.AsyncClient, auth: AuthHeaders, envelope: EnvelopeFactory, deliver_to: DeliverTo, known: None
) -> None:
    def updated(revision: int, name: str) -> Any:
        return envelope(
            type="projects.partner.updated.v1",
            data={"partner_id": str(OURS), "revision": revision, "name": name, "kind": "school", "areas_of_work": []},
        )

    await deliver_to(updated(3, "Hillside Primary (Academy)"), updated(2, "Hillside Primary School Trust"))
    assert (await link(client, auth, "100000", OURS))["partner_name"] == "Hillside Primary (Academy)"
