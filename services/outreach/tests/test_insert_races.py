"""Check-then-insert races: a request that passed the "does it exist?" check while a concurrent one inserted the
same row is the same 409 as the sequential duplicate (the unique constraint is caught where the row is inserted),
never a 500, and nothing is stored twice."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from medic.outreach.adapters.orm_outcomes import progression_outcomes
from medic.outreach.adapters.orm_primary import primary_topics
from medic.outreach.adapters.orm_watcch import watcch_cycles
from medic.outreach.adapters.outcomes_repository import OutcomeRepository
from medic.outreach.adapters.primary_repository import PrimaryRepository
from medic.outreach.adapters.watcch_repository import WatcchRepository
from services.outreach.tests.school_support import SCHOOL, Outreach, running_outreach
from services.outreach.tests.test_outcomes import body as outcome_body
from services.outreach.tests.test_outcomes import participant
from services.outreach.tests.watcch_support import cycle_body, enter

TOPIC = {"id": "sun_safety", "name": "Sun safety"}
FORM = {"items": [{"key": "right_level", "text": "Right level"}]}


async def _nothing(*_: Any, **__: Any) -> None:
    return None  # the check ran before the concurrent request's row was committed


async def test_a_row_inserted_after_the_check_is_409_not_500(
    outreach_app: Outreach, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, coordinator = outreach_app, outreach_app.coordinator
    pid = await participant(app)  # registers the school and creates this year's cycle
    outcomes_url = f"/participants/{pid}/outcomes"
    assert (await app.client.post(outcomes_url, json=outcome_body(), headers=coordinator)).status_code == 201
    assert (await app.client.post("/primary/topics", json=TOPIC, headers=coordinator)).status_code == 201
    monkeypatch.setattr(WatcchRepository, "cycle_by_year", _nothing)
    monkeypatch.setattr(OutcomeRepository, "find", _nothing)
    monkeypatch.setattr(PrimaryRepository, "topic", _nothing)
    monkeypatch.setattr(PrimaryRepository, "latest_form", _nothing)  # a new form would be version 1 again

    cycle = await app.client.post("/watcch/cycles", json=cycle_body(), headers=coordinator)
    assert cycle.status_code == 409 and "already" in cycle.text, cycle.text
    outcome = await app.client.post(outcomes_url, json=outcome_body(), headers=coordinator)
    assert outcome.status_code == 409 and "already recorded" in outcome.text, outcome.text
    topic = await app.client.post("/primary/topics", json=TOPIC, headers=coordinator)
    assert topic.status_code == 409 and "exists" in topic.text, topic.text
    form = await app.client.post("/primary/forms/teacher", json=FORM, headers=coordinator)
    assert form.status_code == 409 and "same moment" in form.text, form.text

    assert await app.count(watcch_cycles) == 1
    assert await app.count(progression_outcomes) == 1
    monkeypatch.undo()
    topics = (await app.client.get("/primary/topics", headers=coordinator)).json()
    assert [t["id"] for t in topics].count("sun_safety") == 1
    forms = (await app.client.get("/primary/forms/teacher", headers=coordinator)).json()
    assert [f["version"] for f in forms] == [1]


async def test_two_identical_requests_at_once_on_postgresql_are_one_201_and_one_409(tmp_path: Path) -> None:
    async with running_outreach("postgresql", tmp_path) as app:
        coordinator = app.coordinator
        await app.register(**{**SCHOOL, "phase": "secondary"})
        cycles = await asyncio.gather(
            *(app.client.post("/watcch/cycles", json=cycle_body(), headers=coordinator) for _ in range(2))
        )
        assert sorted(r.status_code for r in cycles) == [201, 409], [r.text for r in cycles]
        assert await app.count(watcch_cycles) == 1
        cycle_id = next(r.json()["id"] for r in cycles if r.status_code == 201)
        assert (await app.client.post(f"/watcch/cycles/{cycle_id}/open", headers=coordinator)).status_code == 200
        url = f"/participants/{(await enter(app, cycle_id))['participant_id']}/outcomes"
        outcomes = await asyncio.gather(
            *(app.client.post(url, json=outcome_body(), headers=coordinator) for _ in range(2))
        )
        assert sorted(r.status_code for r in outcomes) == [201, 409], [r.text for r in outcomes]
        assert await app.count(progression_outcomes) == 1
        topics = await asyncio.gather(
            *(app.client.post("/primary/topics", json=TOPIC, headers=coordinator) for _ in range(2))
        )
        assert sorted(r.status_code for r in topics) == [201, 409], [r.text for r in topics]
        async with app.service.engine.connect() as connection:
            assert (
                await connection.scalar(
                    primary_topics.select()
                    .with_only_columns(primary_topics.c.id)
                    .where(primary_topics.c.id == "sun_safety")
                )
                == "sun_safety"
            )
        forms = await asyncio.gather(
            *(app.client.post("/primary/forms/teacher", json=FORM, headers=coordinator) for _ in range(2))
        )
        assert {r.status_code for r in forms} <= {201, 409} and 201 in {r.status_code for r in forms}
        versions = [f["version"] for f in (await app.client.get("/primary/forms/teacher", headers=coordinator)).json()]
        assert versions == list(range(1, len(versions) + 1))
