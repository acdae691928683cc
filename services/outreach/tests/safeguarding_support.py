"""What the safeguarding tests (and the primary tests, whose delivering students must be cleared) share. No tests."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.outreach.tests.school_support import Outreach

LONDON = ZoneInfo("Europe/London")
CERTIFICATE = "480276159173"  # a sentinel: must never appear in an event, the outbox, a log line or an error
NAME = "Sentinel Quillfeather-Ambrose"
PEOPLE = "/safeguarding/people"


def at(day: date, hour: int = 12) -> datetime:
    """A moment on `day` in London (for the service's clock)."""
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def set_clock(app: Outreach, moment: datetime) -> None:
    app.service.app.state.clock = lambda: moment


async def register(app: Outreach, person_id: str, name: str = NAME) -> dict[str, Any]:
    reply = await app.client.post(PEOPLE, json={"person_id": person_id, "full_name": name}, headers=app.coordinator)
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def record_check(app: Outreach, person_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "level": "enhanced_barred_children",
        "workforce": "child",
        "certificate_number": CERTIFICATE,
        "issued_on": (date.today() - timedelta(days=400)).isoformat(),
        "seen_how": "original_certificate",
        **fields,
    }
    reply = await app.client.post(f"{PEOPLE}/{person_id}/dbs-checks", json=body, headers=app.coordinator)
    assert reply.status_code == 201, reply.text
    check: dict[str, Any] = reply.json()
    return check


async def record_training(app: Outreach, person_id: str, completed_on: date, expires_on: date) -> dict[str, Any]:
    body = {"completed_on": completed_on.isoformat(), "expires_on": expires_on.isoformat()}
    reply = await app.client.post(f"{PEOPLE}/{person_id}/training", json=body, headers=app.coordinator)
    assert reply.status_code == 201, reply.text
    person: dict[str, Any] = reply.json()
    return person


async def clear(app: Outreach, person_id: str) -> None:
    """Make `person_id` cleared for any contact with children from 400 days ago to about 2 years ahead: registered
    (if not already), an enhanced check with the children's barred list in the child workforce, training in date."""
    reply = await app.client.post(PEOPLE, json={"person_id": person_id, "full_name": NAME}, headers=app.coordinator)
    assert reply.status_code in (201, 409), reply.text
    if reply.status_code == 201:
        await record_check(app, person_id)
        today = date.today()
        await record_training(app, person_id, today - timedelta(days=400), today + timedelta(days=700))


async def clearance(app: Outreach, person_id: str, contact: str, as_of: date | None = None, **headers: str) -> Any:
    query = f"?contact={contact}" + (f"&as_of={as_of.isoformat()}" if as_of else "")
    reply = await app.client.get(f"{PEOPLE}/{person_id}/clearance{query}", headers=headers or app.coordinator)
    assert reply.status_code == 200, reply.text
    return reply.json()
