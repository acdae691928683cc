"""The consent area's routes, table-driven (consent_routes.ROUTES): each as each role (403 unless admitted),
without a token (401), and an unknown participant 404. Bodies come from the OpenAPI examples. Coordinators see every
participant: there is no one else's object to hide."""

from typing import Any

from medic.shared.auth import Role
from services.outreach.tests.consent_routes import ROUTES
from services.outreach.tests.consent_support import participant, publish_all
from services.outreach.tests.school_support import Outreach
from tests.support import example_value

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _requests(app: Outreach, participant_id: str) -> dict[tuple[str, str], tuple[str, str, Any]]:
    document = app.service.app.openapi()
    components = document.get("components", {}).get("schemas", {})
    requests = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if (method.upper(), path) not in ROUTES:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            body = example_value(content["application/json"]["schema"], components) if content else None
            target = path.replace("{participant_id}", participant_id)
            requests[(method.upper(), path)] = (method.upper(), target, body)
    return requests


async def _send(app: Outreach, request: tuple[str, str, Any], headers: dict[str, str] | None) -> int:
    method, path, body = request
    return (await app.client.request(method, path, json=body, headers=headers or {})).status_code


async def test_every_consent_route_admits_only_its_roles(outreach_app: Outreach) -> None:
    await publish_all(outreach_app)
    someone = await participant(outreach_app)
    requests = _requests(outreach_app, someone)
    assert set(requests) == set(ROUTES)
    wrong = []
    for key, roles in ROUTES.items():
        if (status := await _send(outreach_app, requests[key], None)) != 401:
            wrong.append(f"{key} without a token: {status}")
        for role in Role:
            if role in roles:
                continue
            if (status := await _send(outreach_app, requests[key], outreach_app.auth(role))) != 403:
                wrong.append(f"{key} as {role.value}: {status}")
    # Coordinators last (they change things), in the table's order: give, then withdraw what was given.
    for key in ROUTES:
        status = await _send(outreach_app, requests[key], outreach_app.coordinator)
        if status not in range(200, 300):
            wrong.append(f"{key} as a coordinator: {status}")
    assert wrong == []


async def test_an_unknown_participant_is_404_on_every_participant_route(outreach_app: Outreach) -> None:
    await publish_all(outreach_app)
    requests = _requests(outreach_app, UNKNOWN)
    wrong = []
    for key, roles in ROUTES.items():
        if "{participant_id}" not in key[1]:
            continue
        for role in roles:
            if (status := await _send(outreach_app, requests[key], outreach_app.auth(role))) != 404:
                wrong.append(f"{key} as {role.value}: {status}")
    assert wrong == []
