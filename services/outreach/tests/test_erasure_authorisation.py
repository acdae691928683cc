"""The erasure area's routes, table-driven (erasure_routes.py): each as every role (403 unless admitted), without a
token (401), and an unknown participant, person, review or item (404)."""

import uuid

from medic.shared.auth import Role
from services.outreach.tests import watcch_support as watcch
from services.outreach.tests.erasure_routes import ROUTES
from services.outreach.tests.school_support import Outreach
from tests.support import example_value

ROLES = (Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT, Role.PARTNER, Role.OPS)


def _requests(app: Outreach, ids: dict[str, str]) -> dict[tuple[str, str], tuple[str, object]]:
    document = app.service.app.openapi()
    components = document.get("components", {}).get("schemas", {})
    requests = {}
    for method, path in ROUTES:
        operation = document["paths"][path][method.lower()]
        target = path
        for name, value in ids.items():
            target = target.replace(f"{{{name}}}", value)
        content = operation.get("requestBody", {}).get("content", {})
        body = example_value(content["application/json"]["schema"], components) if content else None
        requests[(method, path)] = (target, body)
    return requests


async def test_every_route_admits_only_its_roles(outreach_app: Outreach) -> None:
    app = outreach_app
    unknown = str(uuid.uuid4())
    requests = _requests(app, {"participant_id": unknown, "person_id": "2309999", "review_id": unknown,
                               "item_id": unknown})  # fmt: skip
    wrong = []
    for (method, path), (target, body) in requests.items():
        if (status := (await app.client.request(method, target, json=body)).status_code) != 401:
            wrong.append(f"{method} {path} without a token: {status}")
        for role in ROLES:
            status = (await app.client.request(method, target, json=body, headers=app.auth(role))).status_code
            if role not in ROUTES[(method, path)] and status != 403:
                wrong.append(f"{method} {path} as {role.value}: {status}, not 403")
            if role in ROUTES[(method, path)] and status in (401, 403):
                wrong.append(f"{method} {path} as {role.value}: {status}")
    assert wrong == []


async def test_an_unknown_object_is_404_and_a_known_one_is_not(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle = await watcch.setup(app)
    entered = await watcch.enter(app, cycle["id"])
    registered = await app.client.post(
        "/safeguarding/people", json={"person_id": "2301234", "full_name": "Sam Okafor"}, headers=app.coordinator
    )
    assert registered.status_code == 201, registered.text
    review = (await app.client.post("/retention/reviews", headers=app.coordinator)).json()
    unknown = str(uuid.uuid4())
    wrong = []
    for ids, known in (
        ({"participant_id": unknown, "person_id": "2309999", "review_id": unknown, "item_id": unknown}, False),
        ({"participant_id": entered["participant_id"], "person_id": "2301234", "review_id": review["id"]}, True),
    ):
        for (method, path), (target, body) in _requests(app, ids).items():
            if "{" not in path or (known and "{item_id}" in path):
                continue
            status = (await app.client.request(method, target, json=body, headers=app.coordinator)).status_code
            if (status == 404) == known:
                wrong.append(f"{method} {path} {'known' if known else 'unknown'}: {status}")
    assert wrong == []
