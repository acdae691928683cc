"""What the mentoring tests share: an enrolled participant with valid consents, mentors with their safeguarding
records, a programme, all set up through the areas' own routes. No tests here."""

import json
from datetime import date, timedelta
from typing import Any

import httpx

from medic.shared.auth import Role
from services.outreach.tests import watcch_support as watcch
from services.outreach.tests.primary_support import token
from services.outreach.tests.school_support import Outreach

TODAY = watcch.TODAY
INTERESTS = ["surgery", "general_practice", "applying_to_medicine", "research"]
EVENING = {"weekday": "tuesday", "part_of_day": "evening"}
SATURDAY = {"weekday": "saturday", "part_of_day": "morning"}
MENTOR, OTHER_MENTOR = "2301234", "2301235"
NOTES = "Sentinel-mentoring-notes-Thistlewhip"
ABOUT = "Sentinel-mentor-about-Gorseblight"
CERTIFICATES = iter(f"{n:012d}" for n in range(1000_0000_0001, 1000_0000_9999, 7))


def student(app: Outreach, person_id: str) -> dict[str, str]:
    return token(app, Role.STUDENT, person_id)


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


# --- WATCCH and consent -----------------------------------------------------------------------------------------


async def cycle(app: Outreach) -> dict[str, Any]:
    return await watcch.setup(app, capacity=10)


async def enrolled(app: Outreach, cycle_id: str) -> str:
    """A participant enrolled in the cycle; returns their pseudonymous id."""
    application = await watcch.enter(app, cycle_id)
    for action in ("accept", "enrol"):
        assert (await watcch.act(app, application["id"], action)).status_code == 200
    participant_id: str = application["participant_id"]
    return participant_id


async def publish_texts(app: Outreach) -> None:
    for scope in ("taking_part", "mentoring"):
        body = {"scope": scope, "text": f"I agree to {scope.replace('_', ' ')} in WATCCH."}
        await ok(await app.client.post("/consent/texts", json=body, headers=app.coordinator), 201)


async def consent(app: Outreach, participant_id: str, scopes: tuple[str, ...] = ("taking_part", "mentoring")) -> None:
    """The participant's and a guardian's consents (the participant is 16) to each of `scopes`."""
    for scope in scopes:
        for party in ("participant", "guardian"):
            body = {"party": party, "scope": scope, "text_version": 1, "method": "online_form"}
            url = f"/participants/{participant_id}/consents"
            await ok(await app.client.post(url, json=body, headers=app.coordinator), 201)


async def withdraw(app: Outreach, participant_id: str, scope: str = "mentoring") -> httpx.Response:
    body = {"party": "guardian", "scope": scope, "method": "email"}
    url = f"/participants/{participant_id}/consents/withdrawals"
    return await app.client.post(url, json=body, headers=app.coordinator)


# --- safeguarding -----------------------------------------------------------------------------------------------


async def person(
    app: Outreach, person_id: str, *, level: str = "enhanced_barred_children", workforce: str = "child",
    issued_on: date | None = None, training_expires_on: date | None = None,
) -> str | None:  # fmt: skip
    """A medical student registered, with a DBS check and training; returns the check's id."""
    await ok(await app.client.post("/safeguarding/people", json={"person_id": person_id, "full_name": "Sam Okafor"},
                                   headers=app.coordinator), 201)  # fmt: skip
    check = {
        "level": level, "workforce": workforce, "certificate_number": next(CERTIFICATES),
        "issued_on": (issued_on or TODAY - timedelta(days=60)).isoformat(), "seen_how": "original_certificate",
    }  # fmt: skip
    recorded = await ok(
        await app.client.post(f"/safeguarding/people/{person_id}/dbs-checks", json=check, headers=app.coordinator), 201
    )
    training = {
        "completed_on": (TODAY - timedelta(days=30)).isoformat(),
        "expires_on": (training_expires_on or TODAY + timedelta(days=700)).isoformat(),
    }
    await ok(
        await app.client.post(f"/safeguarding/people/{person_id}/training", json=training, headers=app.coordinator), 201
    )
    return _check_id(recorded)


def _check_id(recorded: dict[str, Any]) -> str | None:
    for key in ("check_id", "id"):
        if isinstance(recorded.get(key), str):
            return str(recorded[key])
    checks = recorded.get("checks") or recorded.get("dbs_checks") or []
    return str(checks[-1].get("id") or checks[-1].get("check_id")) if checks else None


# --- mentoring ----------------------------------------------------------------------------------------------------


async def programme(app: Outreach, cycle: dict[str, Any]) -> dict[str, Any]:
    body = {
        "cycle_id": cycle["id"], "name": "Mentoring", "starts_on": cycle["programme_starts_on"],
        "ends_on": cycle["programme_ends_on"], "interests": INTERESTS,
    }  # fmt: skip
    return await ok(await app.client.post("/mentoring/programmes", json=body, headers=app.coordinator), 201)


async def mentor(
    app: Outreach, programme_id: str, person_id: str, *, interests: list[str] | None = None,
    availability: list[dict[str, str]] | None = None, max_mentees: int = 2,
) -> dict[str, Any]:  # fmt: skip
    body = {
        "interests": interests if interests is not None else ["surgery"],
        "availability": availability if availability is not None else [EVENING],
        "max_mentees": max_mentees, "about": ABOUT,
    }  # fmt: skip
    url = f"/mentoring/programmes/{programme_id}/mentors/{person_id}"
    return await ok(await app.client.put(url, json=body, headers=app.coordinator))


async def mentee(app: Outreach, programme_id: str, participant_id: str, **body: Any) -> httpx.Response:
    body = {"interests": ["surgery", "applying_to_medicine"], "availability": [EVENING, SATURDAY], **body}
    url = f"/mentoring/programmes/{programme_id}/mentees/{participant_id}"
    return await app.client.put(url, json=body, headers=app.coordinator)


async def propose(app: Outreach, programme_id: str, mentor_id: str, participant_id: str) -> httpx.Response:
    body = {"programme_id": programme_id, "mentor_id": mentor_id, "participant_id": participant_id}
    return await app.client.post("/mentoring/matches", json=body, headers=app.coordinator)


async def act(app: Outreach, match_id: str, action: str, headers: dict[str, str]) -> httpx.Response:
    return await app.client.post(f"/mentoring/matches/{match_id}/actions/{action}", headers=headers)


async def session(
    app: Outreach, match_id: str, headers: dict[str, str], held_on: date | None = None, **body: Any
) -> httpx.Response:
    body = {"held_on": (held_on or TODAY).isoformat(), "mode": "online", "minutes": 45, "topic": "careers", **body}
    return await app.client.post(f"/mentoring/matches/{match_id}/sessions", json=body, headers=headers)


async def world(app: Outreach) -> dict[str, Any]:
    """A cycle with an enrolled, consenting participant; a programme; a cleared mentor with a profile. Returns the
    ids by the routes' parameter names."""
    found = await cycle(app)
    participant_id = await enrolled(app, found["id"])
    await publish_texts(app)
    await consent(app, participant_id)
    await person(app, MENTOR)
    made = await programme(app, found)
    await mentor(app, made["id"], MENTOR)
    assert (await mentee(app, made["id"], participant_id)).status_code == 200
    return {"cycle_id": found["id"], "programme_id": made["id"], "participant_id": participant_id,
            "person_id": MENTOR, "cycle": found}  # fmt: skip


async def active_match(app: Outreach, ids: dict[str, Any]) -> dict[str, Any]:
    proposed = await ok(await propose(app, ids["programme_id"], MENTOR, ids["participant_id"]), 201)
    return await ok(await act(app, proposed["id"], "accept", student(app, MENTOR)))


async def events_of(app: Outreach, prefix: str = "outreach.mentoring") -> list[tuple[str, dict[str, Any]]]:
    return [(t, json.loads(b)) for t, b in await app.outbox() if t.startswith(prefix)]
