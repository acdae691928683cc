"""The projects HTTP API: validation, authentication and what a registration stores, on SQLite and PostgreSQL."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from medic.projects.adapters import orm
from medic.projects.bootstrap import ProjectsService
from medic.shared.auth import Role, issue_token
from services.projects.tests.test_partner_support import BACKENDS, running_projects
from tests.support import any_organisation

VALID = {"name": "Riverside Food Bank", "kind": "charity", "contact_email": "hello@riverside.example"}


@pytest.fixture(params=BACKENDS)
async def projects(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[ProjectsService, httpx.AsyncClient]]:
    async with running_projects(request.param, tmp_path) as running:
        yield running.service, running.client


def bearer(service: ProjectsService, *roles: Role) -> dict[str, str]:
    token = issue_token(service.settings, roles=roles, organisation_id=any_organisation(roles))
    return {"Authorization": f"Bearer {token}"}


async def rows(service: ProjectsService, table: Any) -> int:
    async with service.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_registering_stores_the_partner_and_stages_one_event(
    projects: tuple[ProjectsService, httpx.AsyncClient],
) -> None:
    service, client = projects
    body = {**VALID, "name": "  Riverside   Food Bank ", "areas_of_work": ["Food poverty", "food poverty", " "]}
    response = await client.post("/partners", json=body, headers=bearer(service, Role.COORDINATOR))

    assert response.status_code == 201, response.text
    partner = response.json()
    assert partner["name"] == "Riverside Food Bank"
    assert partner["areas_of_work"] == ["Food poverty"]
    assert response.headers["X-Correlation-ID"]
    async with service.engine.connect() as connection:
        query = select(orm.outbox.c.event_type, orm.outbox.c.body).order_by(orm.outbox.c.id)
        (event_type, body_json), (address_type, address_json) = (await connection.execute(query)).all()
    assert event_type == "projects.partner.registered.v1"
    assert partner["id"] in body_json.decode()
    assert "hello@riverside.example" not in body_json.decode()  # the contact stays in projects
    # ... but for its address, published for the notifications directory only, in the same transaction
    assert address_type == "projects.contact_address.set.v1"
    address = json.loads(address_json)["data"]
    assert (address["kind"], address["partner_id"], address["primary"]) == ("partner_contact", partner["id"], True)
    assert (address["email"], address["display_name"]) == ("hello@riverside.example", None)

    listed = await client.get("/partners", headers=bearer(service, Role.SUPERVISOR))
    assert [p["id"] for p in listed.json()] == [partner["id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "\u3000\u00a0 "}, "name"),  # spaces of other scripts are spaces too
        ({"kind": "pub"}, "kind"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"areas_of_work": "food"}, "areas_of_work"),
        ({"areas_of_work": [f"area {i}" for i in range(21)]}, "areas_of_work"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"name": "Nul \u0000 Trust"}, "name"),
        ({"name": "Lone \ud800 surrogate"}, "name"),
        ({"areas_of_work": ["tab\there"]}, "areas_of_work"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(
    projects: tuple[ProjectsService, httpx.AsyncClient], change: dict[str, Any], field: str
) -> None:
    service, client = projects
    # json.dumps escapes non-ASCII, so even a lone surrogate reaches the server as valid JSON text.
    headers = {**bearer(service, Role.COORDINATOR), "content-type": "application/json"}
    response = await client.post("/partners", content=json.dumps({**VALID, **change}), headers=headers)

    assert response.status_code == 422, response.text
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert await rows(service, orm.partners) == 0
    assert await rows(service, orm.outbox) == 0


async def test_missing_field_and_malformed_json_are_422(projects: tuple[ProjectsService, httpx.AsyncClient]) -> None:
    service, client = projects
    headers = bearer(service, Role.COORDINATOR)
    missing = await client.post("/partners", json={"name": "A"}, headers=headers)
    assert missing.status_code == 422
    assert {"kind", "contact_email"} <= {e["loc"][-1] for e in missing.json()["detail"]}
    huge = await client.get("/partners", params={"offset": 10**20}, headers=headers)
    assert huge.status_code == 422
    assert huge.json()["detail"][0]["loc"] == ["query", "offset"]
    garbled = await client.post("/partners", content=b"{nope", headers={**headers, "content-type": "application/json"})
    assert garbled.status_code == 422


@pytest.mark.parametrize(
    "email", ["a@example.test", "Hello.There+cap@Riverside.Example", "x@sub.domain-with-dash.school.uk"]
)
async def test_any_well_formed_address_is_accepted_reserved_domains_too(
    projects: tuple[ProjectsService, httpx.AsyncClient], email: str
) -> None:
    service, client = projects
    response = await client.post(
        "/partners", json={**VALID, "contact_email": email}, headers=bearer(service, Role.COORDINATOR)
    )
    assert response.status_code == 201, response.text
    assert response.json()["contact_email"] == email.lower()


@pytest.mark.parametrize(
    "email", ["a@localhost", "a..b@example.org", ".a@example.org", "a@-example.org", "a b@example.org", "a@b_c.org"]
)
async def test_a_malformed_address_is_a_422(projects: tuple[ProjectsService, httpx.AsyncClient], email: str) -> None:
    service, client = projects
    response = await client.post(
        "/partners", json={**VALID, "contact_email": email}, headers=bearer(service, Role.COORDINATOR)
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "contact_email"]


async def test_same_name_again_is_a_409(
    projects: tuple[ProjectsService, httpx.AsyncClient],
) -> None:
    service, client = projects
    headers = bearer(service, Role.COORDINATOR)
    assert (await client.post("/partners", json=VALID, headers=headers)).status_code == 201
    again = await client.post("/partners", json={**VALID, "name": "RIVERSIDE food bank"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["detail"][0]["loc"] == ["body", "name"]
    assert await rows(service, orm.outbox) == 2  # the first registration's event and its contact's address


async def test_authentication_and_roles(projects: tuple[ProjectsService, httpx.AsyncClient]) -> None:
    service, client = projects
    assert (await client.post("/partners", json=VALID)).status_code == 401
    bad = {"Authorization": "Bearer not-a-jwt"}
    assert (await client.post("/partners", json=VALID, headers=bad)).status_code == 401
    student = await client.post("/partners", json=VALID, headers=bearer(service, Role.STUDENT))
    assert student.status_code == 403
    assert (await client.get("/partners", headers=bearer(service, Role.STUDENT))).status_code == 403
    assert await rows(service, orm.partners) == 0
    for open_path in ("/healthz", "/openapi.json", "/docs", "/asyncapi.json"):
        assert (await client.get(open_path)).status_code == 200, open_path


async def test_the_edge_answers_before_the_body_is_read(projects: tuple[ProjectsService, httpx.AsyncClient]) -> None:
    service, client = projects
    as_json = {"content-type": "application/json"}
    assert (await client.post("/partners", content=b"{nope", headers=as_json)).status_code == 401
    student = {**as_json, **bearer(service, Role.STUDENT)}
    assert (await client.post("/partners", content=b"{nope", headers=student)).status_code == 403
    as_text = {**bearer(service, Role.COORDINATOR), "content-type": "text/plain"}
    assert (await client.post("/partners", content=json.dumps(VALID), headers=as_text)).status_code == 415
    deleted = await client.delete("/partners", headers=bearer(service, Role.COORDINATOR))
    assert deleted.status_code == 405
    assert deleted.headers["Allow"] == "GET, POST"
    assert await rows(service, orm.partners) == 0


async def test_the_document_names_every_answer(projects: tuple[ProjectsService, httpx.AsyncClient]) -> None:
    _, client = projects
    operations = (await client.get("/openapi.json")).json()["paths"]["/partners"]
    assert set(operations["post"]["responses"]) == {"201", "400", "401", "403", "408", "409", "413", "415", "422"}
    assert set(operations["get"]["responses"]) == {"200", "401", "403", "413", "422"}
    detail = (await client.get("/openapi.json")).json()["paths"]["/partners/{partner_id}"]
    assert set(detail["get"]["responses"]) == {"200", "401", "403", "404", "413", "422"}
    assert set(detail["patch"]["responses"]) == {"200", "400", "401", "403", "404", "408", "409", "413", "415", "422"}
    conflict = operations["post"]["responses"]["409"]["content"]["application/json"]["schema"]
    assert conflict == {"$ref": "#/components/schemas/FieldErrorsOut"}


async def test_asyncapi_documents_the_published_event(projects: tuple[ProjectsService, httpx.AsyncClient]) -> None:
    _, client = projects
    document = (await client.get("/asyncapi.json")).json()
    assert "projects.partner.registered.v1" in str(document)
    assert "PartnerRegisteredV1" in str(document["components"]["schemas"])


async def test_readiness_reports_the_unreachable_broker(projects: tuple[ProjectsService, httpx.AsyncClient]) -> None:
    _, client = projects
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["broker"].startswith("unavailable")
