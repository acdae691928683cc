"""The safeguarding routes, table-driven (safeguarding_routes.ROUTES): each as each role (403 unless admitted),
without a token (401), an unknown person or check (404), and another's record or check (404). Bodies come from the
OpenAPI examples, so a 403 or 404 is never hidden behind a 422."""

import uuid
from datetime import date
from typing import Any

from medic.shared.auth import Role
from services.outreach.tests.primary_support import token
from services.outreach.tests.safeguarding_routes import ROUTES
from services.outreach.tests.safeguarding_support import at, record_check, record_training, register, set_clock
from services.outreach.tests.school_support import Outreach
from tests.support import example_value

C, SV, ST, P, OPS = Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT, Role.PARTNER, Role.OPS
OWNER, OTHER = "2301234", "2301299"  # the examples' person; another student
QUERIES = {"/clearance": "?contact=supervised_occasional", "/reports/cleared": "?contact=unsupervised_or_regular"}
# A coordinator's request that may meet the state: registering the examples' person again.
STATEFUL = {("POST", "/safeguarding/people")}


def _request(app: Outreach, key: tuple[str, str], person_id: str, check_id: str) -> dict[str, Any]:
    method, path = key
    document = app.service.app.openapi()
    operation = document["paths"][path][method.lower()]
    target = path.replace("{person_id}", person_id).replace("{check_id}", check_id)
    target += next((q for suffix, q in QUERIES.items() if path.endswith(suffix)), "")
    request: dict[str, Any] = {"method": method, "url": target}
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        components = document.get("components", {}).get("schemas", {})
        request["json"] = example_value(content["application/json"]["schema"], components)
    return request


async def _objects(app: Outreach) -> tuple[str, str]:
    """The examples' person (cleared), the other student registered too; returns the owner's check and the other's."""
    set_clock(app, at(date(2027, 1, 10)))
    checks = []
    for person in (OWNER, OTHER):
        await register(app, person)
        checks.append((await record_check(app, person, issued_on="2026-09-01"))["check_id"])
        await record_training(app, person, date(2026, 9, 10), date(2029, 9, 10))
    return checks[0], checks[1]


async def _status(app: Outreach, request: dict[str, Any], headers: dict[str, str] | None) -> int:
    response = await app.client.request(**request, headers=headers or {})
    return response.status_code


async def test_every_safeguarding_route_admits_only_its_roles(outreach_app: Outreach) -> None:
    check, _ = await _objects(outreach_app)
    wrong = []
    for key, roles in ROUTES.items():
        request = _request(outreach_app, key, OWNER, check)
        if (status := await _status(outreach_app, request, None)) != 401:
            wrong.append(f"{key} without a token: {status}")
        for role in (SV, ST, P, OPS):
            headers = token(outreach_app, role, OWNER if role is ST else None)
            status = await _status(outreach_app, request, headers)
            expected = range(200, 300) if role in roles else range(403, 404)
            if status not in expected:
                wrong.append(f"{key} as {role.value}: {status}")
    for key in ROUTES:  # coordinators last: their requests change things
        status = await _status(outreach_app, _request(outreach_app, key, OWNER, check), outreach_app.coordinator)
        if status not in range(200, 300) and not (key in STATEFUL and status == 409):
            wrong.append(f"{key} as a coordinator: {status}")
    assert wrong == []


async def test_an_unknown_person_or_check_is_404_to_everyone_who_may_call_the_route(outreach_app: Outreach) -> None:
    check, _ = await _objects(outreach_app)
    unknown_check = str(uuid.uuid4())
    wrong = []
    for key, roles in ROUTES.items():
        if "{person_id}" not in key[1]:
            continue
        cases = [("nobody-1", check)]
        if "{check_id}" in key[1]:
            cases.append((OWNER, unknown_check))
        for person_id, check_id in cases:
            request = _request(outreach_app, key, person_id, check_id)
            for role in roles:
                headers = token(outreach_app, role, person_id if role is ST else None)
                if (status := await _status(outreach_app, request, headers)) != 404:
                    wrong.append(f"{key} {person_id}/{check_id} as {role.value}: {status}")
    assert wrong == []


async def test_anothers_record_or_check_is_404(outreach_app: Outreach) -> None:
    """A student reading another's record; a check named under a person it does not belong to."""
    check, others_check = await _objects(outreach_app)
    wrong = []
    for key, roles in ROUTES.items():
        if "{person_id}" not in key[1]:
            continue
        if ST in roles:
            request = _request(outreach_app, key, OWNER, check)
            if (status := await _status(outreach_app, request, token(outreach_app, ST, OTHER))) != 404:
                wrong.append(f"{key} as another student: {status}")
        if "{check_id}" in key[1]:
            request = _request(outreach_app, key, OWNER, others_check)
            if (status := await _status(outreach_app, request, outreach_app.coordinator)) != 404:
                wrong.append(f"{key} with another's check: {status}")
    assert wrong == []
