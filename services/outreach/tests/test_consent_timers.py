"""Consent expiry timers on SQLite and PostgreSQL: a reminder 14 days before a consent's last day and an expiry the
day after, each once, through the outbox; none for a consent withdrawn first; once through a restart and with two
replicas ticking at once."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from medic.outreach.adapters.orm_watcch import watcch_fired_timers
from services.outreach.tests.consent_support import (
    PROGRAMME_ENDS_ON,
    at,
    give,
    give_both,
    outreach_on,
    participant,
    publish_all,
    withdraw,
)
from services.outreach.tests.school_support import BACKENDS, Outreach, database_url
from services.outreach.tests.watcch_support import setup

LAST = PROGRAMME_ENDS_ON
DAY = timedelta(days=1)


@pytest.fixture(params=BACKENDS)
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as found:
        yield found


async def timer_events(app: Outreach) -> list[tuple[str, str, str]]:
    """(type, participant, scope) of each expiring / expired event in the outbox, oldest first."""
    found = []
    for type_, body in await app.outbox():
        if type_ in ("outreach.consent.expiring.v1", "outreach.consent.expired.v1"):
            data = json.loads(body)["data"]
            found.append((type_.split(".")[2], data["participant_id"], data["scope"]))
    return found


async def tick_on(app: Outreach, day: object, times: int = 2) -> list[str]:
    scheduler = app.service.consent_expiry
    scheduler.now = lambda: at(day)  # type: ignore[arg-type]
    fired: list[str] = []
    for _ in range(times):
        fired += await scheduler.tick()
    return fired


async def test_a_reminder_14_days_before_and_an_expiry_the_day_after_once_each(outreach_app: Outreach) -> None:
    await publish_all(outreach_app)
    cycle = await setup(outreach_app, capacity=10)
    someone = await participant(outreach_app, cycle=cycle)
    withdrawn = await participant(outreach_app, cycle=cycle)
    await give_both(outreach_app, someone, "research")
    assert (await give(outreach_app, withdrawn, "photographs")).status_code == 201
    assert (await withdraw(outreach_app, withdrawn, "photographs")).status_code == 201
    assert await tick_on(outreach_app, LAST - 15 * DAY) == []
    assert len(await tick_on(outreach_app, LAST - 14 * DAY)) == 2  # the participant's and the guardian's
    assert await tick_on(outreach_app, LAST - 13 * DAY) == []
    assert await tick_on(outreach_app, LAST) == []
    assert len(await tick_on(outreach_app, LAST + DAY)) == 2
    assert await tick_on(outreach_app, LAST + 40 * DAY) == []
    assert await timer_events(outreach_app) == [
        ("expiring", someone, "research"),
        ("expiring", someone, "research"),
        ("expired", someone, "research"),
        ("expired", someone, "research"),
    ]
    expiring = [json.loads(b)["data"] for t, b in await outreach_app.outbox() if t == "outreach.consent.expiring.v1"]
    assert {(e["party"], e["days_left"], e["expires_on"]) for e in expiring} == {
        ("participant", 14, LAST.isoformat()),
        ("guardian", 14, LAST.isoformat()),
    }
    assert await outreach_app.count(watcch_fired_timers) == 4


async def test_a_restarted_service_does_not_send_again(url: str) -> None:
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    async with outreach_on(url, namespace) as app:
        await publish_all(app)
        someone = await participant(app, enrol=False)
        await give_both(app, someone, "taking_part")
        assert len(await tick_on(app, LAST - 3 * DAY)) == 2
    async with outreach_on(url, namespace) as app:
        assert await tick_on(app, LAST - 2 * DAY) == []
        assert len(await tick_on(app, LAST + DAY)) == 2
        assert [kind for kind, _, _ in await timer_events(app)] == ["expiring"] * 2 + ["expired"] * 2


async def test_two_replicas_ticking_at_once_send_each_once(url: str) -> None:
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    async with outreach_on(url, namespace) as first:
        await publish_all(first)
        cycle = await setup(first, capacity=10)
        people = [await participant(first, cycle=cycle) for _ in range(6)]
        for someone in people:
            await give_both(first, someone, "taking_part")
            await give_both(first, someone, "research")
        async with outreach_on(url, namespace) as second:
            schedulers = [first.service.consent_expiry, second.service.consent_expiry] * 3
            for scheduler in schedulers:
                scheduler.now = lambda: at(LAST + DAY)
            outcomes = await asyncio.gather(*(s.tick() for s in schedulers), return_exceptions=True)
            failures = [o for o in outcomes if isinstance(o, BaseException)]
            if url.startswith("postgresql"):
                assert failures == []
            else:  # SQLite has one writer: a tick that loses the race fails, rolls back, and the next one tries
                assert all(isinstance(f, OperationalError) for f in failures), failures
            await first.service.consent_expiry.tick()
            await second.service.consent_expiry.tick()
        events = await timer_events(first)
    assert len(events) == len(people) * 4 == len({(p, s) for _, p, s in events}) * 2
    assert {kind for kind, _, _ in events} == {"expired"}
