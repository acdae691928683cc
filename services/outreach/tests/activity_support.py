"""What the activities tests share: a WATCCH cycle with enrolled participants, made through WATCCH's own routes
(a cycle opened, applications entered, offered, accepted and enrolled), and an activity to register for.
It holds no tests.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from services.outreach.tests.school_support import SCHOOL, Outreach
from services.outreach.tests.watcch_support import act, enter, open_cycle

NOW = datetime.now(UTC)
# Moves from an offer to the state named.
PATHS = {
    "offered": (),
    "accepted": ("accept",),
    "enrolled": ("accept", "enrol"),
    "completed": ("accept", "enrol", "complete"),
    "withdrawn": ("accept", "enrol", "withdraw"),
}


async def cycle_with(
    app: Outreach, enrolled: int, *, other_states: tuple[str, ...] = (), year: int = 0
) -> tuple[str, list[str]]:
    """A cycle (`year` years after the current one), and the pseudonymous ids of `enrolled` enrolled participants
    then one participant per state in `other_states`."""
    if year == 0:
        await app.register(**{**SCHOOL, "phase": "secondary"})
    states = ["enrolled"] * enrolled + list(other_states)
    changes: dict[str, Any] = {"capacity": max(len(states), 1)}
    if year:
        start = (NOW.year if NOW.month >= 9 else NOW.year - 1) + year
        changes |= {
            "name": f"WATCCH {start}/{(start + 1) % 100:02d}",
            "academic_year": f"{start}/{(start + 1) % 100:02d}",
            "programme_starts_on": f"{start + 1}-01-16",
            "programme_ends_on": f"{start + 1}-07-10",
        }
    cycle = await open_cycle(app, **changes)
    ids = []
    for state in states:
        application = await enter(app, cycle["id"])
        assert application["state"] == "offered", application
        for action in PATHS[state]:
            reason = "Moved out of the area" if action == "withdraw" else None
            moved = await act(app, application["id"], action, reason)
            assert moved.status_code == 200, moved.text
        ids.append(str(application["participant_id"]))
    return str(cycle["id"]), ids


def activity_body(cycle_id: str, **fields: Any) -> dict[str, Any]:
    start = NOW - timedelta(hours=1)
    return {
        "cycle_id": cycle_id,
        "kind": "workshop",
        "title": "Personal statements that work",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=5, minutes=30)).isoformat(),
        "place": "Lecture theatre 2",
        "capacity": 2,
        **fields,
    }


async def schedule(app: Outreach, cycle_id: str, **fields: Any) -> dict[str, Any]:
    response = await app.client.post("/activities", json=activity_body(cycle_id, **fields), headers=app.coordinator)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def register(app: Outreach, activity_id: str, participant_id: str) -> dict[str, Any]:
    response = await app.client.post(
        f"/activities/{activity_id}/registrations", json={"participant_id": participant_id}, headers=app.coordinator
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
