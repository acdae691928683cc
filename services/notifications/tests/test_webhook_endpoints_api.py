"""The webhook endpoints API: a partner manages its own organisation's endpoints (another's is 404), a coordinator any
partner's; the secret is shown at registration and at rotation only; bad input is a 422 naming the field and changes
nothing; a URL whose host is not public is refused."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select

from medic.notifications.adapters.orm_webhook_endpoints import webhook_endpoint_secrets, webhook_endpoints
from medic.notifications.bootstrap import NotificationsService
from medic.notifications.domain.partner_events import CATALOGUE
from medic.notifications.domain.webhook_endpoints import MAX_ENDPOINTS_PER_PARTNER
from medic.shared.auth import Role, issue_token
from services.notifications.tests import webhook_endpoints_routes

if TYPE_CHECKING:  # conftest is not importable at run time (--import-mode=importlib); fixtures hand these out
    from services.notifications.tests.conftest import ServiceWith

PUBLIC_URL = "https://93.184.215.14/hooks/medic"  # a global address: no DNS needed to check it
TYPES = sorted(CATALOGUE)[:2]


class Api:
    """The running service, and requests to it as a coordinator or as a partner organisation's user."""

    def __init__(self, service: NotificationsService, client: httpx.AsyncClient) -> None:
        self.service = service
        self.client = client

    def headers(self, role: Role, organisation_id: uuid.UUID | None = None) -> dict[str, str]:
        if role is Role.PARTNER and organisation_id is None:
            organisation_id = uuid.uuid4()
        token = issue_token(self.service.settings, roles=[role], organisation_id=organisation_id)
        return {"Authorization": f"Bearer {token}"}

    def coordinator(self) -> dict[str, str]:
        return self.headers(Role.COORDINATOR)

    def partner(self, organisation_id: uuid.UUID) -> dict[str, str]:
        return self.headers(Role.PARTNER, organisation_id)

    async def register(self, partner_id: uuid.UUID, **fields: Any) -> dict[str, Any]:
        body = {"url": PUBLIC_URL, "event_types": TYPES, **fields}
        reply = await self.client.post("/webhooks/endpoints", json=body, headers=self.partner(partner_id))
        assert reply.status_code == 201, reply.text
        created: dict[str, Any] = reply.json()
        return created

    async def stored(self) -> list[dict[str, Any]]:
        async with self.service.engine.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(select(webhook_endpoints))]


@pytest.fixture
async def start(service_with: ServiceWith) -> AsyncIterator[Callable[..., Awaitable[Api]]]:
    """`await start(SETTING=value, ...)`: the service with those settings, and a client for it."""
    async with contextlib.AsyncExitStack() as stack:

        async def started(**overrides: Any) -> Api:
            service = await service_with(**overrides)
            transport = httpx.ASGITransport(app=service.app)
            client = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://test"))
            return Api(service, client)

        yield started


@pytest.fixture
async def api(start: Callable[..., Awaitable[Api]]) -> Api:
    return await start()


def field_of(reply: httpx.Response) -> list[Any]:
    assert reply.status_code == 422, reply.text
    return [error["loc"] for error in reply.json()["detail"]]


async def test_a_partner_registers_an_endpoint_and_sees_its_secret_only_then(api: Api) -> None:
    org = uuid.uuid4()
    created = await api.register(org, description="Our CRM", rate_limit_per_s=5)
    assert created["secret"].startswith("whsec_")
    assert created["partner_id"] == str(org)
    assert created["url"] == PUBLIC_URL
    assert created["event_types"] == TYPES
    assert (created["enabled"], created["paused"], created["rate_limit_per_s"]) == (True, False, 5)
    assert created["disabled_reason"] is None and created["previous_secret_signs_until"] is None

    read = await api.client.get(f"/webhooks/endpoints/{created['id']}", headers=api.partner(org))
    assert read.status_code == 200
    assert "secret" not in read.json()
    assert read.json() == {k: v for k, v in created.items() if k != "secret"}
    listed = await api.client.get("/webhooks/endpoints", headers=api.partner(org))
    assert [item["id"] for item in listed.json()] == [created["id"]]
    assert created["secret"] not in listed.text + read.text


async def test_the_secret_is_stored_encrypted(api: Api) -> None:
    created = await api.register(uuid.uuid4())
    async with api.service.engine.connect() as connection:
        sealed = (await connection.execute(select(webhook_endpoint_secrets.c.sealed))).scalar_one()
    assert created["secret"] not in sealed
    assert created["secret"].removeprefix("whsec_") not in sealed


async def test_a_coordinator_registers_for_a_partner_it_names(api: Api) -> None:
    body = {"url": PUBLIC_URL, "event_types": TYPES}
    assert field_of(await api.client.post("/webhooks/endpoints", json=body, headers=api.coordinator())) == [
        ["body", "partner_id"]
    ]
    org = uuid.uuid4()
    reply = await api.client.post(
        "/webhooks/endpoints", json={**body, "partner_id": str(org)}, headers=api.coordinator()
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["partner_id"] == str(org)
    assert [row["partner_id"] for row in await api.stored()] == [org]


async def test_a_partner_cannot_register_for_another_organisation(api: Api) -> None:
    body = {"url": PUBLIC_URL, "event_types": TYPES, "partner_id": str(uuid.uuid4())}
    reply = await api.client.post("/webhooks/endpoints", json=body, headers=api.partner(uuid.uuid4()))
    assert reply.status_code == 404
    assert await api.stored() == []


@pytest.mark.parametrize(
    "event_types",
    [[], ["project.exploded.v1"], [TYPES[0], TYPES[0]], ["projects.project.approved.v1"], [TYPES[0], "x"]],
)
async def test_event_types_must_come_from_the_catalogue_once_each(api: Api, event_types: list[str]) -> None:
    reply = await api.client.post(
        "/webhooks/endpoints", json={"url": PUBLIC_URL, "event_types": event_types}, headers=api.partner(uuid.uuid4())
    )
    assert all(loc[:2] == ["body", "event_types"] for loc in field_of(reply)), reply.text
    assert await api.stored() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hook",  # http is for local development only
        "ftp://93.184.215.14/hook",
        "https://localhost/hook",
        "https://127.0.0.1:8443/hook",
        "https://2130706433/hook",  # 127.0.0.1 in decimal
        "https://0x7f.0.0.1/hook",  # in hex
        "https://017700000001/hook",  # in octal
        "https://[::ffff:127.0.0.1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.1.2.3/hook",
        "https://[fd00::1]/hook",
        "https://no-such-host.invalid/hook",
        "https://someone:password@93.184.215.14/hook",
        "https://93.184.215.14/hook#fragment",
        "https://",
        "not a url",
        "https://93.184.215.14/" + "a" * 2048,
    ],
)
async def test_a_url_that_is_not_https_to_a_public_address_is_refused(api: Api, url: str) -> None:
    reply = await api.client.post(
        "/webhooks/endpoints", json={"url": url, "event_types": TYPES}, headers=api.partner(uuid.uuid4())
    )
    assert field_of(reply) == [["body", "url"]]
    assert url not in reply.text  # the refusal says why without repeating the URL
    assert await api.stored() == []


async def test_loopback_and_http_only_behind_their_development_settings(start: Callable[..., Awaitable[Api]]) -> None:
    api = await start(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOW_LOOPBACK=True)
    created = await api.register(uuid.uuid4(), url="http://localhost:8080/hook")
    assert created["url"] == "http://localhost:8080/hook"
    private = await api.client.post(
        "/webhooks/endpoints",
        json={"url": "http://10.0.0.1/hook", "event_types": TYPES},
        headers=api.partner(uuid.uuid4()),
    )
    assert field_of(private) == [["body", "url"]]  # loopback is allowed, private addresses still are not


@pytest.mark.parametrize(
    "fields",
    [
        {"rate_limit_per_s": 0},
        {"rate_limit_per_s": 1001},
        {"rate_limit_per_s": "5"},
        {"description": "x" * 501},
        {"description": "line\nbreak"},
        {"enabled": "yes"},
        {"colour": "blue"},
    ],
)
async def test_other_bad_fields_are_a_422_naming_them(api: Api, fields: dict[str, Any]) -> None:
    body = {"url": PUBLIC_URL, "event_types": TYPES, **fields}
    reply = await api.client.post("/webhooks/endpoints", json=body, headers=api.partner(uuid.uuid4()))
    assert [loc[:2] for loc in field_of(reply)] == [["body", next(iter(fields))]]
    assert await api.stored() == []


async def test_a_partner_has_a_limited_number_of_endpoints(api: Api) -> None:
    org = uuid.uuid4()
    for _ in range(MAX_ENDPOINTS_PER_PARTNER):
        await api.register(org)
    reply = await api.client.post(
        "/webhooks/endpoints", json={"url": PUBLIC_URL, "event_types": TYPES}, headers=api.partner(org)
    )
    assert reply.status_code == 409
    assert reply.json()["detail"][0]["loc"] == ["body", "partner_id"]
    await api.register(uuid.uuid4())  # another partner is not affected


async def test_an_update_changes_only_what_it_names(api: Api) -> None:
    org = uuid.uuid4()
    created = await api.register(org, description="first", rate_limit_per_s=5)
    path = f"/webhooks/endpoints/{created['id']}"

    reply = await api.client.patch(path, json={"description": "second"}, headers=api.partner(org))
    assert reply.status_code == 200, reply.text
    assert (reply.json()["description"], reply.json()["rate_limit_per_s"]) == ("second", 5)

    reply = await api.client.patch(path, json={"rate_limit_per_s": None}, headers=api.partner(org))
    assert (reply.json()["description"], reply.json()["rate_limit_per_s"]) == ("second", None)

    new_types = [sorted(CATALOGUE)[-1]]
    reply = await api.client.patch(
        path, json={"event_types": new_types, "url": "https://[2606:4700::1111]:8443/h"}, headers=api.partner(org)
    )
    assert reply.json()["event_types"] == new_types
    assert reply.json()["url"] == "https://[2606:4700::1111]:8443/h"
    assert reply.json()["updated_at"] > created["updated_at"]


async def test_a_refused_update_changes_nothing(api: Api) -> None:
    org = uuid.uuid4()
    created = await api.register(org)
    path = f"/webhooks/endpoints/{created['id']}"
    for body, field in [
        ({"url": "https://127.0.0.1/h", "description": "changed"}, "url"),
        ({"event_types": ["nope.v1"], "description": "changed"}, "event_types"),
        ({"rate_limit_per_s": 0}, "rate_limit_per_s"),
    ]:
        reply = await api.client.patch(path, json=body, headers=api.partner(org))
        assert [loc[:2] for loc in field_of(reply)] == [["body", field]]
    read = await api.client.get(path, headers=api.partner(org))
    assert read.json() == {k: v for k, v in created.items() if k != "secret"}


async def test_disabling_and_enabling_again(api: Api) -> None:
    org = uuid.uuid4()
    created = await api.register(org)
    path = f"/webhooks/endpoints/{created['id']}"
    disabled = (await api.client.patch(path, json={"enabled": False}, headers=api.partner(org))).json()
    assert (disabled["enabled"], disabled["disabled_reason"]) == (False, "disabled by its owner")
    assert disabled["disabled_at"] is not None
    again = (await api.client.patch(path, json={"enabled": False}, headers=api.partner(org))).json()
    assert again["disabled_at"] == disabled["disabled_at"]  # disabling a disabled endpoint changes nothing about it
    enabled = (await api.client.patch(path, json={"enabled": True}, headers=api.partner(org))).json()
    assert (enabled["enabled"], enabled["disabled_reason"], enabled["disabled_at"]) == (True, None, None)

    registered_off = await api.register(org, enabled=False)
    assert registered_off["enabled"] is False and registered_off["disabled_reason"] is not None


async def test_rotation_answers_the_new_secret_and_how_long_the_old_one_still_signs(api: Api) -> None:
    org = uuid.uuid4()
    created = await api.register(org)
    before = datetime.now(UTC)
    reply = await api.client.post(f"/webhooks/endpoints/{created['id']}/secret/rotate", headers=api.partner(org))
    assert reply.status_code == 200, reply.text
    rotated = reply.json()
    assert rotated["endpoint_id"] == created["id"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    until = datetime.fromisoformat(rotated["previous_secret_signs_until"])
    overlap = timedelta(seconds=api.service.settings.webhook_secret_overlap_s)
    assert before + overlap <= until <= datetime.now(UTC) + overlap
    read = (await api.client.get(f"/webhooks/endpoints/{created['id']}", headers=api.partner(org))).json()
    assert read["previous_secret_signs_until"] == rotated["previous_secret_signs_until"]
    assert read["secret_rotated_at"] is not None
    assert rotated["secret"] not in str(read)


async def test_without_an_overlap_the_old_secret_stops_at_once(start: Callable[..., Awaitable[Api]]) -> None:
    api = await start(WEBHOOK_SECRET_OVERLAP_S=0)
    org = uuid.uuid4()
    created = await api.register(org)
    reply = await api.client.post(f"/webhooks/endpoints/{created['id']}/secret/rotate", headers=api.partner(org))
    assert reply.json()["previous_secret_signs_until"] is None


async def test_deleting_an_endpoint_deletes_its_secrets(api: Api) -> None:
    org = uuid.uuid4()
    created = await api.register(org)
    path = f"/webhooks/endpoints/{created['id']}"
    assert (await api.client.delete(path, headers=api.partner(org))).status_code == 204
    assert (await api.client.get(path, headers=api.partner(org))).status_code == 404
    assert (await api.client.delete(path, headers=api.partner(org))).status_code == 404
    async with api.service.engine.connect() as connection:
        assert (await connection.execute(select(webhook_endpoint_secrets))).all() == []


async def test_listing_by_partner_and_in_pages(api: Api) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    ids = [(await api.register(first))["id"], (await api.register(second))["id"], (await api.register(first))["id"]]
    everything = await api.client.get("/webhooks/endpoints", headers=api.coordinator())
    assert [item["id"] for item in everything.json()] == ids
    only_first = await api.client.get(
        "/webhooks/endpoints", params={"partner_id": str(first)}, headers=api.coordinator()
    )
    assert [item["id"] for item in only_first.json()] == [ids[0], ids[2]]
    page = await api.client.get("/webhooks/endpoints", params={"limit": 1, "offset": 1}, headers=api.coordinator())
    assert [item["id"] for item in page.json()] == [ids[1]]
    own = await api.client.get("/webhooks/endpoints", headers=api.partner(second))
    assert [item["id"] for item in own.json()] == [ids[1]]
    other = await api.client.get("/webhooks/endpoints", params={"partner_id": str(first)}, headers=api.partner(second))
    assert other.status_code == 404


# Authorisation, from the area's table


def _request(method: str, template: str, endpoint_id: str) -> tuple[str, str, dict[str, Any] | None]:
    path = template.replace("{endpoint_id}", endpoint_id)
    body: dict[str, Any] | None = None
    if (method, template) == ("POST", "/webhooks/endpoints"):
        body = {"url": PUBLIC_URL, "event_types": TYPES, "partner_id": str(uuid.uuid4())}
    elif method == "PATCH":
        body = {"description": "changed"}
    return method, path, body


async def test_each_route_admits_only_the_roles_in_its_table(api: Api) -> None:
    wrong = []
    for (method, template), roles in webhook_endpoints_routes.ROUTES.items():
        for role in Role:
            org = uuid.uuid4()
            endpoint_id = (await api.register(org))["id"]
            method, path, body = _request(method, template, endpoint_id)
            if role is Role.PARTNER and body is not None and "partner_id" in body:
                body["partner_id"] = str(org)
            headers = api.partner(org) if role is Role.PARTNER else api.headers(role)
            status = (await api.client.request(method, path, json=body, headers=headers)).status_code
            if (status < 300) != (role in roles) or status not in (200, 201, 204, 403):
                wrong.append(f"{method} {template} as {role.value}: {status}")
        method, path, body = _request(method, template, str(uuid.uuid4()))
        if (status := (await api.client.request(method, path, json=body)).status_code) != 401:
            wrong.append(f"{method} {template} without a token: {status}")
    assert wrong == []


async def test_another_organisations_endpoint_is_404_and_unchanged(api: Api) -> None:
    owner, stranger = uuid.uuid4(), uuid.uuid4()
    created = await api.register(owner)
    wrong = []
    for method, template in webhook_endpoints_routes.ROUTES:
        if "{endpoint_id}" not in template:
            continue
        method, path, body = _request(method, template, created["id"])
        status = (await api.client.request(method, path, json=body, headers=api.partner(stranger))).status_code
        if status != 404:
            wrong.append(f"{method} {template}: {status}")
    assert wrong == []
    read = await api.client.get(f"/webhooks/endpoints/{created['id']}", headers=api.partner(owner))
    assert read.json() == {k: v for k, v in created.items() if k != "secret"}  # not changed, not rotated


async def test_a_coordinator_manages_any_partners_endpoint(api: Api) -> None:
    created = await api.register(uuid.uuid4())
    path = f"/webhooks/endpoints/{created['id']}"
    assert (await api.client.get(path, headers=api.coordinator())).status_code == 200
    assert (await api.client.patch(path, json={"enabled": False}, headers=api.coordinator())).json()["enabled"] is False
    assert (await api.client.post(f"{path}/secret/rotate", headers=api.coordinator())).status_code == 200
    assert (await api.client.delete(path, headers=api.coordinator())).status_code == 204


async def test_an_unknown_endpoint_is_404(api: Api) -> None:
    path = f"/webhooks/endpoints/{uuid.uuid4()}"
    for method, body in [("GET", None), ("PATCH", {"description": "x"}), ("DELETE", None)]:
        assert (await api.client.request(method, path, json=body, headers=api.coordinator())).status_code == 404
    assert (await api.client.post(f"{path}/secret/rotate", headers=api.coordinator())).status_code == 404
