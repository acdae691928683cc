"""What the surveys tests share: a questionnaire, and a response to record. It holds no tests."""

from typing import Any

import httpx

from services.outreach.tests.school_support import Outreach

ITEMS = [
    {"code": "know_how_to_apply", "text": "I know how to apply to study medicine"},
    {"code": "belong_at_university", "text": "People like me belong at university"},
]
UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def questionnaire(app: Outreach, items: list[dict[str, str]] = ITEMS) -> dict[str, Any]:
    body = {"name": "Access and success (test)", "items": items}
    response = await app.client.post("/surveys/questionnaires", json=body, headers=app.coordinator)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def answer(
    app: Outreach, q: str, participant: str, cycle: str, kind: str, answers: dict[str, Any], **fields: Any
) -> httpx.Response:
    body = {
        "questionnaire_id": q,
        "version": 1,
        "participant_id": participant,
        "cycle_id": cycle,
        "kind": kind,
        "answers": answers,
        **fields,
    }
    return await app.client.post("/surveys/responses", json=body, headers=app.coordinator)
