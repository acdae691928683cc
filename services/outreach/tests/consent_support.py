"""What the consent tests share: a WATCCH participant of a given age, the wording published, consents given and
withdrawn over HTTP, the service's clock moved, and an app on a database of one's own (restarts, replicas).
No tests here."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import update

from medic.outreach.adapters.orm_watcch import personal_details
from medic.outreach.bootstrap import build
from medic.outreach.settings import OutreachSettings
from services.outreach.tests.school_support import Outreach
from services.outreach.tests.watcch_support import TODAY, act, enter, setup

START = TODAY.year if TODAY.month >= 9 else TODAY.year - 1
PROGRAMME_ENDS_ON = date(START + 1, 7, 10)  # watcch_support's cycle
WORDING = "I agree to take part in WATCCH. I can withdraw at any time by telling the coordinator."


def at(day: date, hour: int = 10) -> datetime:
    """An instant on `day` (London is UTC or UTC+1: 10:00 UTC is that day there either way)."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def set_clock(app: Outreach, when: datetime) -> None:
    app.service.app.state.clock = lambda: when


def born_aged(years: int, on: date) -> date:
    """A date of birth making someone `years` old on `on` (their birthday a month before)."""
    before = on - timedelta(days=30)
    return before.replace(year=before.year - years)


async def participant(
    app: Outreach, *, born: date | None = None, enrol: bool = False, cycle: dict[str, Any] | None = None
) -> str:
    """A participant with an application in a cycle open today (16 when the programme starts, unless `born`
    says otherwise: written straight to their personal details, as any age is possible there)."""
    cycle = cycle or await setup(app, capacity=10)
    application = await enter(app, cycle["id"])
    if enrol:
        for action in ("accept", "enrol"):
            assert (await act(app, application["id"], action)).status_code == 200
    participant_id: str = application["participant_id"]
    if born is not None:
        async with app.service.engine.begin() as connection:
            await connection.execute(
                update(personal_details)
                .where(personal_details.c.participant_id == uuid.UUID(participant_id))
                .values(date_of_birth=born)
            )
    return participant_id


async def publish(app: Outreach, scope: str, text: str = WORDING) -> int:
    response = await app.client.post("/consent/texts", json={"scope": scope, "text": text}, headers=app.coordinator)
    assert response.status_code == 201, response.text
    version: int = response.json()["version"]
    return version


async def publish_all(app: Outreach) -> None:
    for scope in ("taking_part", "mentoring", "photographs", "partner_sharing", "research"):
        await publish(app, scope)


async def give(
    app: Outreach, participant_id: str, scope: str, party: str = "participant", **fields: Any
) -> httpx.Response:
    body = {"party": party, "scope": scope, "text_version": 1, "method": "online_form", **fields}
    return await app.client.post(f"/participants/{participant_id}/consents", json=body, headers=app.coordinator)


async def give_both(app: Outreach, participant_id: str, scope: str, **fields: Any) -> None:
    for party in ("participant", "guardian"):
        response = await give(app, participant_id, scope, party, **fields)
        assert response.status_code == 201, response.text


async def withdraw(
    app: Outreach, participant_id: str, scope: str, party: str = "participant", **fields: Any
) -> httpx.Response:
    body = {"party": party, "scope": scope, "method": "email", **fields}
    url = f"/participants/{participant_id}/consents/withdrawals"
    return await app.client.post(url, json=body, headers=app.coordinator)


async def consents(app: Outreach, participant_id: str, as_of: date | None = None) -> dict[str, Any]:
    params = {} if as_of is None else {"as_of": as_of.isoformat()}
    response = await app.client.get(f"/participants/{participant_id}/consents", params=params, headers=app.coordinator)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def scope_of(state: dict[str, Any], scope: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in state["scopes"] if s["scope"] == scope)
    return found


@asynccontextmanager
async def outreach_on(url: str, namespace: str) -> AsyncIterator[Outreach]:
    """The app on an existing database (`url`): a restarted service, or a second replica."""
    settings = OutreachSettings(
        OUTREACH_DATABASE_URL=url, BROKER_NAMESPACE=namespace, RABBITMQ_URL="amqp://guest:guest@127.0.0.1:1/",
        OUTREACH_LOAD_LOOKUPS_AT_STARTUP=True,
    )  # fmt: skip
    service = build(settings, start_consumer=False)
    async with LifespanManager(service.app):
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://outreach") as client:
            yield Outreach(service, client)
