"""Every route of the outreach API, table-driven: who may call it (any other role is 403, no token is 401), and
404 for a school that does not exist. A route missing from the table fails the first test, so a new route cannot go
untested. Bodies are built from the OpenAPI examples, so a 403 or 404 is never hidden behind a 422.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from medic.outreach.adapters.orm_primary import primary_terms
from medic.outreach.entrypoints.http.survey_models import EXAMPLE_ITEMS
from medic.shared.auth import Role
from services.outreach.tests import consent_routes, erasure_routes, mentoring_routes, safeguarding_routes
from services.outreach.tests.activity_support import register, schedule
from services.outreach.tests.primary_support import STUDENT, delivered, known_partner, token
from services.outreach.tests.school_support import SCHOOL, Outreach
from services.outreach.tests.survey_support import questionnaire
from services.outreach.tests.watcch_support import act, enter, setup
from tests.support import example_value

C, SV, ST, P, OPS = Role.COORDINATOR, Role.SUPERVISOR, Role.STUDENT, Role.PARTNER, Role.OPS

# Coordinators write; students read schools (they need their names for sessions); partners, ops and supervisors
# (outreach has none) are refused. The partner list keeps its readers.
ROUTES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/partners"): frozenset({C, SV, ST}),
    ("POST", "/schools"): frozenset({C}),
    ("GET", "/schools"): frozenset({C, ST}),
    ("GET", "/schools/{urn}"): frozenset({C, ST}),
    ("PATCH", "/schools/{urn}"): frozenset({C}),
    ("PUT", "/schools/{urn}/contact"): frozenset({C}),
    ("POST", "/imports/schools"): frozenset({C}),
    ("PUT", "/schools/{urn}/partner"): frozenset({C}),
    ("DELETE", "/schools/{urn}/partner"): frozenset({C}),
    # The primary programme: students read terms, topics and forms and act on the sessions they deliver; partners
    # read their schools' sessions only. Object-level: another's session is 404 (test_primary_api.py).
    ("POST", "/primary/terms"): frozenset({C}),
    ("GET", "/primary/terms"): frozenset({C, ST}),
    ("GET", "/primary/terms/{term_id}"): frozenset({C, ST}),
    ("GET", "/primary/terms/{term_id}/summary"): frozenset({C}),
    ("GET", "/primary/topics"): frozenset({C, ST}),
    ("POST", "/primary/topics"): frozenset({C}),
    ("POST", "/primary/topics/{topic_id}/retire"): frozenset({C}),
    ("GET", "/primary/forms/{kind}"): frozenset({C, ST}),
    ("POST", "/primary/forms/{kind}"): frozenset({C}),
    ("POST", "/primary/sessions"): frozenset({C}),
    ("GET", "/primary/sessions"): frozenset({C, ST, P}),
    ("GET", "/primary/sessions/{session_id}"): frozenset({C, ST, P}),
    ("POST", "/primary/sessions/{session_id}/actions/{session_action}"): frozenset({C}),
    ("POST", "/primary/sessions/{session_id}/delivery"): frozenset({C, ST}),
    ("PUT", "/primary/sessions/{session_id}/teacher-feedback"): frozenset({C}),
    ("PUT", "/primary/sessions/{session_id}/pupil-feedback"): frozenset({C, ST}),
    ("PUT", "/primary/sessions/{session_id}/reflection"): frozenset({ST}),
    ("GET", "/primary/sessions/{session_id}/reflections"): frozenset({C, ST}),
    ("GET", "/area-lookups"): frozenset({C}),
    ("POST", "/area-lookups"): frozenset({C}),
    ("POST", "/area-lookups/postcode"): frozenset({C}),
    # WATCCH: coordinators only; the application form and the referee's link are public (listed, and checked
    # below to answer without a token).
    ("POST", "/watcch/applications"): frozenset({C, SV, ST, P, OPS}),
    ("GET", "/watcch/referee/{token}"): frozenset({C, SV, ST, P, OPS}),
    ("POST", "/watcch/referee/{token}"): frozenset({C, SV, ST, P, OPS}),
    ("POST", "/watcch/cycles"): frozenset({C}),
    ("GET", "/watcch/cycles"): frozenset({C}),
    ("GET", "/watcch/cycles/{cycle_id}"): frozenset({C}),
    ("POST", "/watcch/cycles/{cycle_id}/applications"): frozenset({C}),
    ("PATCH", "/watcch/cycles/{cycle_id}"): frozenset({C}),
    ("POST", "/watcch/cycles/{cycle_id}/close"): frozenset({C}),
    ("POST", "/watcch/cycles/{cycle_id}/open"): frozenset({C}),
    ("GET", "/watcch/cycles/{cycle_id}/waitlist"): frozenset({C}),
    ("GET", "/watcch/applications"): frozenset({C}),
    ("GET", "/watcch/applications/{application_id}"): frozenset({C}),
    ("GET", "/watcch/applications/{application_id}/decision"): frozenset({C}),
    ("POST", "/watcch/applications/{application_id}/actions/{action}"): frozenset({C}),
    ("POST", "/watcch/applications/{application_id}/referee-link"): frozenset({C}),
    # WATCCH activities: coordinators; students read the activities (not who registered). Listed in the order the
    # coordinator's requests run: cancel the registration, register again, then record attendance.
    ("POST", "/activities"): frozenset({C}),
    ("GET", "/activities"): frozenset({C, ST}),
    ("GET", "/activities/{activity_id}"): frozenset({C, ST}),
    ("POST", "/activities/{activity_id}/registrations/{participant_id}/cancellation"): frozenset({C}),
    ("POST", "/activities/{activity_id}/registrations"): frozenset({C}),
    ("GET", "/activities/{activity_id}/registrations"): frozenset({C}),
    ("PUT", "/activities/{activity_id}/attendance/{participant_id}"): frozenset({C}),
    ("GET", "/participants/{participant_id}/activities"): frozenset({C}),
    ("PUT", "/activities/{activity_id}/capacity"): frozenset({C}),
    ("PUT", "/activities/{activity_id}/pairs"): frozenset({C}),
    ("POST", "/activities/{activity_id}/cancellation"): frozenset({C}),
    # WATCCH progression outcomes: coordinators only; an unknown participant is 404 (the activities cases below).
    ("POST", "/participants/{participant_id}/outcomes"): frozenset({C}),
    ("GET", "/participants/{participant_id}/outcomes"): frozenset({C}),
    # The impact report and its CSV: coordinators (the policy is a query parameter; exact figures, `none`, too).
    # The research extract: coordinators (only participants whose research consent is valid today).
    ("GET", "/reports/impact"): frozenset({C}),
    ("GET", "/reports/impact.csv"): frozenset({C}),
    ("GET", "/reports/research-extract"): frozenset({C}),
    # Surveys: coordinators only.
    ("POST", "/surveys/questionnaires"): frozenset({C}),
    ("GET", "/surveys/questionnaires"): frozenset({C}),
    ("GET", "/surveys/questionnaires/{questionnaire_id}"): frozenset({C}),
    ("POST", "/surveys/questionnaires/{questionnaire_id}/versions"): frozenset({C}),
    ("GET", "/surveys/questionnaires/{questionnaire_id}/versions/{version}"): frozenset({C}),
    ("PUT", "/surveys/questionnaires/{questionnaire_id}/versions/{version}"): frozenset({C}),
    ("POST", "/surveys/responses"): frozenset({C}),
    ("GET", "/participants/{participant_id}/survey-responses"): frozenset({C}),
    ("GET", "/surveys/questionnaires/{questionnaire_id}/cycles/{cycle_id}/change"): frozenset({C}),
}
# Body fields naming an object, per route: field -> the key in `ids` (as for path parameters) whose value it takes.
BODY_IDS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/activities"): {"cycle_id": "cycle_id"},
    ("POST", "/activities/{activity_id}/registrations"): {"participant_id": "participant_id"},
    ("POST", "/surveys/responses"): {q: q for q in ("questionnaire_id", "participant_id", "cycle_id")},
}
# Public routes: no token needed (the token in a referee's path is the credential); never 401 or 403.
PUBLIC = {
    ("POST", "/watcch/applications"),
    ("GET", "/watcch/referee/{token}"),
    ("POST", "/watcch/referee/{token}"),
}
# Served by every service, to anyone: probes and documents.
UNGUARDED = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/asyncapi.json")}
UNKNOWN_URN = "999999"
# Routes whose object's state decides: a 409 there means the caller was admitted (role and object) and the
# state refused, e.g. a second delivery of the one delivered session.
STATEFUL = {
    ("POST", "/primary/sessions/{session_id}/actions/{session_action}"),
    ("POST", "/primary/sessions/{session_id}/delivery"),
    ("POST", "/primary/topics"),
    ("PUT", "/activities/{activity_id}/pairs"),  # the activity is a workshop, not a placement
    ("POST", "/activities/{activity_id}/cancellation"),  # attendance is recorded by then: it took place
}
PARTNER_ORGANISATION: dict[str, Any] = {}


# The areas whose routes are tabled (and tested for roles, 401 and object-level 404s) in their own modules.
AREA_TABLES = (safeguarding_routes.ROUTES, consent_routes.ROUTES, mentoring_routes.ROUTES, erasure_routes.ROUTES)


async def test_every_route_is_in_the_table(outreach_app: Outreach) -> None:
    document = outreach_app.service.app.openapi()
    served = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    tabled = set(ROUTES).union(*AREA_TABLES)
    assert served - UNGUARDED == tabled, "add the new route to ROUTES (or its area's table) with who may call it"
    assert sum(len(table) for table in (ROUTES, *AREA_TABLES)) == len(tabled), "a route is in two tables"


@dataclass
class Request:
    method: str
    path: str
    json: Any = None
    content: str | None = None
    headers: dict[str, str] | None = None


def _requests(outreach_app: Outreach, urn: str, ids: dict[str, str] | None = None) -> dict[tuple[str, str], Request]:
    """One request per route, aimed at the school `urn` and the objects `ids` names (path parameter -> value)."""
    document = outreach_app.service.app.openapi()
    components = document.get("components", {}).get("schemas", {})
    requests = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            target = re.sub(r"\{urn\}", urn, path)
            for name, value in (ids or {}).items():
                target = target.replace(f"{{{name}}}", value)
            request = Request(method.upper(), target)
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                request.json = example_value(content["application/json"]["schema"], components)
                for field, name in BODY_IDS.get((method.upper(), path), {}).items():
                    if name in (ids or {}):
                        request.json[field] = (ids or {})[name]
            elif "text/csv" in content:
                request.content, request.headers = content["text/csv"]["example"], {"Content-Type": "text/csv"}
            requests[(method.upper(), path)] = request
    return requests


async def _send(outreach_app: Outreach, request: Request, headers: dict[str, str] | None) -> int:
    response = await outreach_app.client.request(
        request.method,
        request.path,
        json=request.json,
        content=request.content,
        headers={**(request.headers or {}), **(headers or {})},
    )
    return response.status_code


async def _watcch_objects(outreach_app: Outreach) -> dict[str, str]:
    """An open cycle (the one the examples apply to; the generated bodies say Year 11, the first year group) and
    an ineligible application in it (re-evaluable)."""
    cycle = await setup(outreach_app, year_groups=["year_11", "year_12"])
    application = await enter(outreach_app, cycle["id"], home_postcode="EC1A 1BB", indicators={})
    return {"cycle_id": cycle["id"], "application_id": application["id"], "action": "reevaluate", "token": "x" * 43}


async def test_every_route_admits_only_its_roles(outreach_app: Outreach) -> None:
    await outreach_app.register(**{**SCHOOL, "urn": "123456"})
    ids = {**await _watcch_objects(outreach_app), **await _primary_objects(outreach_app)}
    ids |= await _activity_objects(outreach_app, ids["cycle_id"])
    ids |= await _survey_objects(outreach_app)
    requests = _requests(outreach_app, "123456", ids)
    wrong: list[str] = []
    for key, roles in ROUTES.items():
        if key in PUBLIC:
            continue
        if (status := await _send(outreach_app, requests[key], None)) != 401:
            wrong.append(f"{key} without a token: {status}, not 401")
        for role in (SV, ST, P, OPS):
            status = await _send(outreach_app, requests[key], _auth(outreach_app, role))
            admitted = set(range(200, 300)) | ({409} if key in STATEFUL else set())
            expected = admitted if role in roles else {403}
            if status not in expected:
                wrong.append(f"{key} as {role.value}: {status}")
    # Coordinators last: their requests change things, and no one else's checks should see those changes.
    for key in [k for k in ROUTES if k not in PUBLIC]:
        status = await _send(outreach_app, requests[key], outreach_app.coordinator)
        if C not in ROUTES[key]:  # a student's own reflection
            if status != 403:
                wrong.append(f"{key} as a coordinator: {status}, not 403")
            continue
        if status not in range(200, 300) and not ((key == ("POST", "/schools") or key in STATEFUL) and status == 409):
            wrong.append(f"{key} as a coordinator: {status}")
    assert wrong == []


async def test_an_unknown_school_is_404_to_everyone_who_may_call_the_route(outreach_app: Outreach) -> None:
    requests = _requests(outreach_app, UNKNOWN_URN)
    wrong = []
    for key, roles in ROUTES.items():
        if "{urn}" not in key[1]:
            continue
        for role in roles:
            if (status := await _send(outreach_app, requests[key], outreach_app.auth(role))) != 404:
                wrong.append(f"{key} as {role.value}: {status}")
    assert wrong == []


async def test_public_routes_answer_without_a_token(outreach_app: Outreach) -> None:
    requests = _requests(outreach_app, "123456", await _watcch_objects(outreach_app))
    wrong = []
    for key in PUBLIC:
        for headers in (None, outreach_app.auth(P)):
            if (status := await _send(outreach_app, requests[key], headers)) in (401, 403):
                wrong.append(f"{key}: {status}")
    assert wrong == []


async def test_an_unknown_watcch_object_is_404(outreach_app: Outreach) -> None:
    await _watcch_objects(outreach_app)
    unknown = "00000000-0000-4000-8000-000000000000"
    ids = {"cycle_id": unknown, "application_id": unknown, "action": "reevaluate", "token": "y" * 43}
    ids |= {"questionnaire_id": unknown, "version": "1"}  # the surveys: a change per cycle names a questionnaire
    requests = _requests(outreach_app, UNKNOWN_URN, ids)
    wrong = []
    for key in ROUTES:
        if not any(f"{{{name}}}" in key[1] for name in ids):
            continue
        headers = None if key in PUBLIC else outreach_app.coordinator
        if (status := await _send(outreach_app, requests[key], headers)) != 404:
            wrong.append(f"{key}: {status}")
    assert wrong == []


EXAMPLE_TERM = "4a0c4b9e-3f7d-4c55-9a3e-2f1d8c7b6a50"  # the term the session example plans in
EXAMPLE_PARTNER = "0b6f2f5e-7a59-4f57-a1a9-5d6c2f0e9b11"  # the partner the link example names


def _auth(outreach_app: Outreach, role: Role) -> dict[str, str]:
    """Students as the student delivering the primary session, partners as the organisation linked to its school."""
    if role is ST:
        return token(outreach_app, role, STUDENT)
    if role is P:
        return token(outreach_app, role, organisation=uuid.UUID(EXAMPLE_PARTNER))
    return outreach_app.auth(role)


async def _primary_objects(outreach_app: Outreach) -> dict[str, str]:
    """A session delivered by STUDENT at school 100001 (the session example's), linked to the example partner;
    the example's term."""
    session = await delivered(outreach_app, urn="100001")
    partner = await known_partner(outreach_app, partner_id=uuid.UUID(EXAMPLE_PARTNER))
    await outreach_app.client.put(
        "/schools/100001/partner", json={"partner_id": str(partner)}, headers=outreach_app.coordinator
    )
    async with outreach_app.service.engine.begin() as connection:
        await connection.execute(
            primary_terms.insert().values(
                id=uuid.UUID(EXAMPLE_TERM), name="Example", academic_year="2026/27", starts_on=date(2027, 1, 4),
                ends_on=date(2027, 3, 26), created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    return {
        "session_id": session["id"],
        "term_id": session["term_id"],
        "topic_id": "first_aid",
        "kind": "teacher",
        "session_action": "review_plan",
    }


async def test_an_unknown_primary_object_is_404_to_everyone_who_may_call_the_route(outreach_app: Outreach) -> None:
    await _primary_objects(outreach_app)
    unknown = "00000000-0000-4000-8000-000000000000"
    ids = {"session_id": unknown, "term_id": unknown, "topic_id": "no_such_topic", "session_action": "close"}
    requests = _requests(outreach_app, UNKNOWN_URN, ids)
    wrong = []
    for key, roles in ROUTES.items():
        if not any(f"{{{name}}}" in key[1] for name in ids):
            continue
        for role in roles:
            if (status := await _send(outreach_app, requests[key], _auth(outreach_app, role))) != 404:
                wrong.append(f"{key} as {role.value}: {status}")
    assert wrong == []


async def _activity_objects(outreach_app: Outreach, cycle_id: str) -> dict[str, str]:
    """In the cycle `cycle_id`: an enrolled participant registered for an activity that has started."""
    application = await enter(outreach_app, cycle_id)
    for action in ("accept", "enrol"):
        assert (await act(outreach_app, application["id"], action)).status_code == 200
    activity = await schedule(outreach_app, cycle_id)
    await register(outreach_app, activity["id"], application["participant_id"])
    return {"activity_id": activity["id"], "participant_id": application["participant_id"]}


async def test_an_unknown_or_another_activitys_object_is_404(outreach_app: Outreach) -> None:
    """An unknown cycle, activity or participant; a participant registered for another activity, not this one."""
    cycle = await setup(outreach_app, capacity=3)
    known = await _activity_objects(outreach_app, cycle["id"])
    other = await schedule(outreach_app, cycle["id"])
    unknown = "00000000-0000-4000-8000-000000000000"
    registering = ("POST", "/activities/{activity_id}/registrations")
    cases: list[tuple[dict[str, str], Callable[[tuple[str, str]], bool]]] = [
        ({"cycle_id": unknown}, lambda key: key == ("POST", "/activities")),
        ({"activity_id": unknown, "participant_id": known["participant_id"]}, lambda key: "{activity_id}" in key[1]),
        (
            {"activity_id": known["activity_id"], "participant_id": unknown},
            lambda key: "{participant_id}" in key[1] or key == registering,
        ),
        (
            {"activity_id": other["id"], "participant_id": known["participant_id"]},
            lambda key: "{activity_id}" in key[1] and "{participant_id}" in key[1],
        ),
    ]
    wrong = []
    for ids, applies in cases:
        requests = _requests(outreach_app, UNKNOWN_URN, ids)
        for key, roles in ROUTES.items():
            if not applies(key):
                continue
            for role in roles:
                if (status := await _send(outreach_app, requests[key], outreach_app.auth(role))) != 404:
                    wrong.append(f"{key} {ids} as {role.value}: {status}")
    assert wrong == []


async def _survey_objects(outreach_app: Outreach) -> dict[str, str]:
    """A questionnaire with the examples' items in versions 1 and 2 (2 is unanswered: correctable)."""
    q = await questionnaire(outreach_app, EXAMPLE_ITEMS)
    url = f"/surveys/questionnaires/{q['id']}/versions"
    response = await outreach_app.client.post(url, json={"items": EXAMPLE_ITEMS}, headers=outreach_app.coordinator)
    assert response.status_code == 201, response.text
    return {"questionnaire_id": q["id"], "version": "2"}


async def test_an_unknown_survey_object_is_404(outreach_app: Outreach) -> None:
    """An unknown questionnaire, version or cycle (an unknown participant: the activities cases above)."""
    cycle = await setup(outreach_app)
    known = {**await _activity_objects(outreach_app, cycle["id"]), **await _survey_objects(outreach_app)}
    unknown = "00000000-0000-4000-8000-000000000000"
    responding = ("POST", "/surveys/responses")
    cases: list[tuple[dict[str, str], Callable[[tuple[str, str]], bool]]] = [
        ({"questionnaire_id": unknown}, lambda key: "{questionnaire_id}" in key[1] or key == responding),
        ({"version": "99"}, lambda key: "{version}" in key[1]),
        ({"cycle_id": unknown}, lambda key: key[1].startswith("/surveys/") and "{cycle_id}" in key[1]),
        ({"cycle_id": unknown}, lambda key: key == responding),
        ({"participant_id": unknown}, lambda key: key == responding),
    ]
    wrong = []
    for changed, applies in cases:
        ids = {**known, "cycle_id": cycle["id"], **changed}
        requests = _requests(outreach_app, UNKNOWN_URN, ids)
        for key, roles in ROUTES.items():
            if not applies(key):
                continue
            for role in roles:
                if (status := await _send(outreach_app, requests[key], outreach_app.auth(role))) != 404:
                    wrong.append(f"{key} {changed} as {role.value}: {status}")
    assert wrong == []
