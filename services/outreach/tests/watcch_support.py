"""What the WATCCH tests share: a cycle open today, a registered school, an application body. No tests here."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.outreach.tests.school_support import SCHOOL, Outreach

TODAY = datetime.now(UTC).date()
QUESTION = "Why are you interested in a career in healthcare?"
# Sentinels: personal details that must appear in no event, outbox row or log line.
SENTINELS = {
    "given_name": "Zephyrina",
    "family_name": "Quillfeather",
    "email": "zephyrina.quillfeather@example.com",
    "phone": "07700 900777",
    "guardian_name": "Ottoline Quillfeather",
    "guardian_email": "ottoline.q@example.com",
    "referee_name": "Mr Bartholomew Snodgrass",
    "referee_email": "b.snodgrass@school.example.sch.uk",
}
ANSWER = "Grandmother-hospice-volunteering-sentinel"


def cycle_body(**changes: Any) -> dict[str, Any]:
    start = TODAY.year if TODAY.month >= 9 else TODAY.year - 1
    return {
        "name": f"WATCCH {start}/{(start + 1) % 100:02d}",
        "academic_year": f"{start}/{(start + 1) % 100:02d}",
        "capacity": 2,
        "applications_open_on": (TODAY - timedelta(days=30)).isoformat(),
        "applications_close_on": (TODAY + timedelta(days=30)).isoformat(),
        "programme_starts_on": f"{start + 1}-01-16",
        "programme_ends_on": f"{start + 1}-07-10",
        "year_groups": ["year_12"],
        "questions": [QUESTION],
        **changes,
    }


def application_body(cycle_id: str | None = None, **changes: Any) -> dict[str, Any]:
    start = TODAY.year if TODAY.month >= 9 else TODAY.year - 1
    body: dict[str, Any] = {
        **SENTINELS,
        "date_of_birth": f"{start - 16}-10-01",  # 16 when the programme starts
        "home_postcode": "E1 6AN",
        "school_urn": SCHOOL["urn"],
        "year_group": "year_12",
        "answers": {QUESTION: ANSWER},
        "indicators": {"free_school_meals": "yes", "parental_education": "02"},
    }
    if cycle_id is not None:
        body["cycle_id"] = cycle_id
    body.update(changes)
    return body


async def open_cycle(app: Outreach, **changes: Any) -> dict[str, Any]:
    created = await app.client.post("/watcch/cycles", json=cycle_body(**changes), headers=app.coordinator)
    assert created.status_code == 201, created.text
    opened = await app.client.post(f"/watcch/cycles/{created.json()['id']}/open", headers=app.coordinator)
    assert opened.status_code == 200, opened.text
    body: dict[str, Any] = opened.json()
    return body


async def setup(app: Outreach, **cycle_changes: Any) -> dict[str, Any]:
    await app.register(**{**SCHOOL, "phase": "secondary"})
    return await open_cycle(app, **cycle_changes)


async def enter(app: Outreach, cycle_id: str, **changes: Any) -> dict[str, Any]:
    body = application_body(**changes)
    response = await app.client.post(f"/watcch/cycles/{cycle_id}/applications", json=body, headers=app.coordinator)
    assert response.status_code == 201, response.text
    entered: dict[str, Any] = response.json()
    return entered


async def act(app: Outreach, application_id: str, action: str, reason: str | None = None) -> httpx.Response:
    body = {} if reason is None else {"reason": reason}
    return await app.client.post(
        f"/watcch/applications/{application_id}/actions/{action}", json=body, headers=app.coordinator
    )


async def state(app: Outreach, application_id: str) -> str:
    response = await app.client.get(f"/watcch/applications/{application_id}", headers=app.coordinator)
    value: str = response.json()["state"]
    return value
