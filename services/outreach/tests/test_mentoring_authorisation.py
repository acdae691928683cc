"""The mentoring area's authorisation table (mentoring_routes.py), route by route on both backends: each role not in
the table is 403, no token is 401; the roles in it are admitted (a 409 where the state refuses); an unknown
programme, participant, cycle or match is 404 to everyone admitted; another student's match is 404 to a student."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from medic.shared.auth import Role
from services.outreach.tests import mentoring_support as m
from services.outreach.tests.mentoring_routes import ROUTES
from services.outreach.tests.school_support import Outreach

UNKNOWN = "00000000-0000-4000-8000-000000000000"
# Where the state may refuse an admitted caller (409): a second open match; an action the caller may not take now.
STATEFUL = {
    ("POST", "/mentoring/matches"),
    ("POST", "/mentoring/matches/{match_id}/actions/{action}"),
    ("POST", "/mentoring/matches/{match_id}/sessions"),
}


@dataclass
class Call:
    method: str
    path: str
    json: Any = None


def _calls(ids: dict[str, Any]) -> dict[tuple[str, str], Call]:
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/mentoring/programmes"): {
            "cycle_id": ids["cycle_id"],
            "name": "Another",
            "starts_on": ids["starts_on"],
            "ends_on": ids["ends_on"],
            "interests": ["surgery"],
        },
        ("PUT", "/mentoring/programmes/{programme_id}/mentors/{person_id}"): {
            "interests": ["surgery"],
            "availability": [m.EVENING],
            "max_mentees": 3,
        },
        ("PUT", "/mentoring/programmes/{programme_id}/mentees/{participant_id}"): {
            "interests": ["surgery"],
            "availability": [m.EVENING],
        },
        ("POST", "/mentoring/matches"): {
            "programme_id": ids["programme_id"],
            "mentor_id": m.MENTOR,
            "participant_id": ids["participant_id"],
        },
        ("POST", "/mentoring/matches/{match_id}/sessions"): {
            "held_on": m.TODAY.isoformat(),
            "mode": "online",
            "minutes": 30,
            "topic": "careers",
        },
    }
    calls = {}
    for method, path in ROUTES:
        target = path
        for name, value in ids.items():
            target = target.replace(f"{{{name}}}", str(value))
        calls[(method, path)] = Call(method, target, bodies.get((method, path)))
    return calls


async def _send(app: Outreach, call: Call, headers: dict[str, str] | None) -> int:
    response = await app.client.request(call.method, call.path, json=call.json, headers=headers or {})
    return response.status_code


def _as(app: Outreach, role: Role) -> dict[str, str]:
    return m.student(app, m.MENTOR) if role is Role.STUDENT else app.auth(role)


async def _objects(app: Outreach) -> dict[str, Any]:
    ids = await m.world(app)
    match = await m.active_match(app, ids)
    return {**ids, "match_id": match["id"], "action": "pause", "starts_on": ids["cycle"]["programme_starts_on"],
            "ends_on": ids["cycle"]["programme_ends_on"]}  # fmt: skip


async def test_every_route_admits_only_its_roles(outreach_app: Outreach) -> None:
    app = outreach_app
    calls = _calls(await _objects(app))
    wrong = []
    for key, roles in ROUTES.items():
        if (status := await _send(app, calls[key], None)) != 401:
            wrong.append(f"{key} without a token: {status}")
        for role in (r for r in Role if r is not Role.COORDINATOR):  # coordinators last: they change things
            status = await _send(app, calls[key], _as(app, role))
            admitted = set(range(200, 300)) | ({409} if key in STATEFUL else set())
            if status not in (admitted if role in roles else {403}):
                wrong.append(f"{key} as {role.value}: {status}")
    for key in ROUTES:
        status = await _send(app, calls[key], app.coordinator)
        if status not in set(range(200, 300)) | ({409} if key in STATEFUL else set()):
            wrong.append(f"{key} as a coordinator: {status}")
    assert wrong == []


async def test_an_unknown_object_is_404_to_everyone_admitted(outreach_app: Outreach) -> None:
    app = outreach_app
    known = await _objects(app)
    cases: list[tuple[dict[str, str], Callable[[str], bool]]] = [
        ({"programme_id": UNKNOWN}, lambda path: "{programme_id}" in path),
        ({"participant_id": UNKNOWN}, lambda path: "{participant_id}" in path),
        ({"match_id": UNKNOWN}, lambda path: "{match_id}" in path),
    ]
    wrong = []
    for changed, applies in cases:
        calls = _calls({**known, **changed})
        for key, roles in ROUTES.items():
            if not applies(key[1]):
                continue
            for role in roles:
                if (status := await _send(app, calls[key], _as(app, role))) != 404:
                    wrong.append(f"{key} {changed} as {role.value}: {status}")
    # Objects named in a body: an unknown cycle, programme, mentor or participant.
    for body in ({"cycle_id": UNKNOWN},):
        call = Call("POST", "/mentoring/programmes", {**_calls(known)[("POST", "/mentoring/programmes")].json, **body})
        if (status := await _send(app, call, app.coordinator)) != 404:
            wrong.append(f"a programme in {body}: {status}")
    proposal = _calls(known)[("POST", "/mentoring/matches")].json
    for body in ({"programme_id": UNKNOWN}, {"participant_id": UNKNOWN}, {"mentor_id": "2399999"}):
        if (
            status := await _send(app, Call("POST", "/mentoring/matches", {**proposal, **body}), app.coordinator)
        ) != 404:
            wrong.append(f"a match with {body}: {status}")
    assert wrong == []


async def test_another_students_match_is_404(outreach_app: Outreach) -> None:
    app = outreach_app
    calls = _calls(await _objects(app))
    other = m.student(app, m.OTHER_MENTOR)
    wrong = []
    for key, roles in ROUTES.items():
        if Role.STUDENT in roles and "{match_id}" in key[1] and (status := await _send(app, calls[key], other)) != 404:
            wrong.append(f"{key}: {status}")
    assert wrong == []
    listed = await app.client.get("/mentoring/matches", headers=other)
    assert listed.status_code == 200 and listed.json() == []
