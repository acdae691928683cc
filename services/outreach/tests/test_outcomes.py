"""WATCCH progression outcomes: the rules without I/O, then the API on SQLite and PostgreSQL."""

import json
import uuid
from datetime import date, timedelta

import pytest

from medic.outreach.adapters.orm_outcomes import progression_outcomes
from medic.outreach.domain.outcomes import InvalidOutcome, Outcome, furthest_stage, reached
from medic.shared.contracts.outreach.outcomes import CourseType, OutcomeSource, OutcomeStage
from services.outreach.tests.school_support import Outreach
from services.outreach.tests.watcch_support import SENTINELS, TODAY, enter, setup

DAY = date(2027, 3, 1)


def outcome(stage: OutcomeStage, course: CourseType = CourseType.MEDICINE, **changes: object) -> Outcome:
    fields: dict[str, object] = {
        "participant_id": uuid.UUID(int=1),
        "stage": stage,
        "course_type": course,
        "entry_year": 2027,
        "source": OutcomeSource.UCAS,
        "occurred_on": date(2027, 1, 10),
        "today": DAY,
    }
    fields.update(changes)
    return Outcome.record(**fields)  # type: ignore[arg-type]


def test_an_outcome_is_recorded_once_it_has_happened() -> None:
    with pytest.raises(InvalidOutcome) as raised:
        outcome(OutcomeStage.APPLIED, occurred_on=DAY + timedelta(days=1))
    assert raised.value.field == "occurred_on"


def test_the_year_of_entry_is_plausible_and_not_before_the_date() -> None:
    for year in (1999, DAY.year + 4):
        with pytest.raises(InvalidOutcome) as raised:
            outcome(OutcomeStage.APPLIED, entry_year=year)
        assert raised.value.field == "entry_year"
    with pytest.raises(InvalidOutcome) as raised:
        outcome(OutcomeStage.ENROLLED, entry_year=2026, occurred_on=date(2027, 1, 5))
    assert raised.value.field == "occurred_on"
    assert outcome(OutcomeStage.APPLIED, entry_year=DAY.year + 3).entry_year == 2030  # deferred entry


def test_the_furthest_stage_counts_an_enrolment_as_an_offer_and_an_application() -> None:
    found = [outcome(OutcomeStage.APPLIED), outcome(OutcomeStage.ENROLLED, CourseType.NURSING)]
    assert furthest_stage(found) is OutcomeStage.ENROLLED
    assert furthest_stage(found, frozenset({CourseType.MEDICINE})) is OutcomeStage.APPLIED
    assert furthest_stage([]) is None
    assert reached(found, OutcomeStage.OFFERED) and not reached(found[:1], OutcomeStage.OFFERED)


def body(**changes: object) -> dict[str, object]:
    return {
        "stage": "applied",
        "course_type": "medicine",
        "entry_year": TODAY.year + 1,
        "source": "self_reported",
        "occurred_on": TODAY.isoformat(),
        **changes,
    }


async def participant(app: Outreach) -> str:
    cycle = await setup(app)
    application = await enter(app, cycle["id"])
    value: str = application["participant_id"]
    return value


async def test_a_coordinator_records_and_lists_outcomes(outreach_app: Outreach) -> None:
    pid = await participant(outreach_app)
    url = f"/participants/{pid}/outcomes"
    first = await outreach_app.client.post(url, json=body(), headers=outreach_app.coordinator)
    assert first.status_code == 201, first.text
    offer = body(stage="offered", source="ucas", occurred_on=TODAY.isoformat())
    assert (await outreach_app.client.post(url, json=offer, headers=outreach_app.coordinator)).status_code == 201
    listed = await outreach_app.client.get(url, headers=outreach_app.coordinator)
    assert listed.status_code == 200
    assert [(o["stage"], o["source"]) for o in listed.json()] == [("applied", "self_reported"), ("offered", "ucas")]
    assert listed.json()[0] == {**first.json(), "participant_id": pid}

    recorded = [json.loads(b) for t, b in await outreach_app.outbox() if t == "outreach.outcome.recorded.v1"]
    assert [r["data"]["stage"] for r in recorded] == ["applied", "offered"]
    assert recorded[0]["data"] == {
        "outcome_id": first.json()["id"],
        "participant_id": pid,
        "stage": "applied",
        "course_type": "medicine",
        "entry_year": TODAY.year + 1,
        "outcome_source": "self_reported",
    }
    for _, text in await outreach_app.outbox():
        assert not any(value in text for value in SENTINELS.values())


async def test_the_same_fact_from_the_same_source_twice_is_409(outreach_app: Outreach) -> None:
    pid = await participant(outreach_app)
    url = f"/participants/{pid}/outcomes"
    assert (await outreach_app.client.post(url, json=body(), headers=outreach_app.coordinator)).status_code == 201
    again = await outreach_app.client.post(url, json=body(), headers=outreach_app.coordinator)
    assert again.status_code == 409 and "already recorded" in again.json()["detail"]
    confirmed = await outreach_app.client.post(url, json=body(source="ucas"), headers=outreach_app.coordinator)
    assert confirmed.status_code == 201
    assert await outreach_app.count(progression_outcomes) == 2


async def test_an_unknown_participant_is_404(outreach_app: Outreach) -> None:
    url = f"/participants/{uuid.uuid4()}/outcomes"
    assert (await outreach_app.client.post(url, json=body(), headers=outreach_app.coordinator)).status_code == 404
    assert (await outreach_app.client.get(url, headers=outreach_app.coordinator)).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stage": "graduated"}, "stage"),
        ({"course_type": "law"}, "course_type"),
        ({"source": "rumour"}, "source"),
        ({"entry_year": "2027"}, "entry_year"),
        ({"entry_year": 2027.5}, "entry_year"),
        ({"entry_year": 2101}, "entry_year"),
        ({"occurred_on": 0}, "occurred_on"),
        ({"entry_year": 1999}, "entry_year"),
        ({"occurred_on": "2026-02-30"}, "occurred_on"),
        ({"institution": "Anywhere University"}, "institution"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_changes_nothing(
    outreach_app: Outreach, changes: dict[str, object], field: str
) -> None:
    pid = await participant(outreach_app)
    response = await outreach_app.client.post(
        f"/participants/{pid}/outcomes", json=body(**changes), headers=outreach_app.coordinator
    )
    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"])
    assert await outreach_app.count(progression_outcomes) == 0


async def test_a_future_date_is_409_from_the_domain_naming_the_field(outreach_app: Outreach) -> None:
    pid = await participant(outreach_app)
    future = (TODAY + timedelta(days=2)).isoformat()
    response = await outreach_app.client.post(
        f"/participants/{pid}/outcomes", json=body(occurred_on=future), headers=outreach_app.coordinator
    )
    assert response.status_code == 409 and response.json()["detail"][0]["loc"] == ["body", "occurred_on"]
    ahead = body(entry_year=TODAY.year + 4)
    response = await outreach_app.client.post(
        f"/participants/{pid}/outcomes", json=ahead, headers=outreach_app.coordinator
    )
    assert response.status_code == 409 and response.json()["detail"][0]["loc"] == ["body", "entry_year"]
    assert await outreach_app.count(progression_outcomes) == 0
