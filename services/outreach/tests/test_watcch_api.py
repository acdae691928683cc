"""WATCCH over HTTP, on SQLite and PostgreSQL: cycles, applications decided and explained, offers, the waitlist
moving by itself, expiry by the timer, bad input, the public form's limits, the referee's link."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from medic.outreach.adapters.orm_watcch import personal_details, watcch_applications
from services.outreach.tests.school_support import Outreach
from services.outreach.tests.watcch_support import (
    ANSWER,
    SENTINELS,
    act,
    application_body,
    cycle_body,
    enter,
    setup,
    state,
)


async def test_a_public_application_gets_a_reference_and_nothing_else(outreach_app: Outreach) -> None:
    cycle = await setup(outreach_app)
    response = await outreach_app.client.post("/watcch/applications", json=application_body(cycle["id"]))
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"reference"}
    assert response.json()["reference"].startswith(f"WAT-{cycle['academic_year'][:4]}-")
    listed = (await outreach_app.client.get("/watcch/applications", headers=outreach_app.coordinator)).json()
    assert [a["reference"] for a in listed] == [response.json()["reference"]]
    assert "personal_details" not in listed[0] and SENTINELS["email"] not in str(listed)
    one = await outreach_app.client.get(f"/watcch/applications/{listed[0]['id']}", headers=outreach_app.coordinator)
    details = one.json()["personal_details"]
    assert details["email"] == SENTINELS["email"] and details["home_postcode"] == "E1 6AN"
    assert details["answers"] == {"Why are you interested in a career in healthcare?": ANSWER}
    assert one.json()["state"] == "offered"  # eligible, queued, and a place was free


async def test_a_decision_is_explained_rule_by_rule_with_editions_and_missing_values(outreach_app: Outreach) -> None:
    cycle = await setup(outreach_app)
    entered = await enter(outreach_app, cycle["id"], home_postcode="EC1A 1BB", indicators={"free_school_meals": "yes"})
    assert entered["state"] == "ineligible" and entered["rules_version"] == 1
    decision = (
        await outreach_app.client.get(
            f"/watcch/applications/{entered['id']}/decision", headers=outreach_app.coordinator
        )
    ).json()
    assert decision["eligible"] is False
    year, school, at_least = decision["findings"]
    assert year["outcome"] == "met" and year["values"][0]["value"] == "year_12"
    assert school["outcome"] == "met"
    by_rule = {c["rule"]: c for c in at_least["criteria"]}
    # EC1A 1BB: POLAR4 quintile 5 (not met); IMD: the newest edition's quintile, named.
    assert by_rule["polar4_quintile <= 2"]["outcome"] == "not_met"
    assert by_rule["polar4_quintile <= 2"]["values"][0] == {
        "name": "polar4_quintile", "value": "5", "edition": "2017", "source": None
    }  # fmt: skip
    assert by_rule["imd_quintile <= 2"]["values"][0]["edition"] == "2025"
    assert by_rule["free_school_meals in {yes}"]["values"][0] == {
        "name": "free_school_meals", "value": "yes", "edition": None, "source": "self_declared"
    }  # fmt: skip
    assert by_rule["young_carer in {yes}"]["outcome"] == "missing"
    assert by_rule["young_carer in {yes}"]["values"][0]["value"] is None


async def test_capacity_waitlist_and_the_waitlist_moving_by_itself(outreach_app: Outreach) -> None:
    cycle = await setup(outreach_app)  # capacity 2
    apps = [await enter(outreach_app, cycle["id"]) for _ in range(4)]
    assert [a["state"] for a in apps] == ["offered", "offered", "waitlisted", "waitlisted"]
    assert "offer" in apps[2]["actions"]
    # A coordinator's offer beyond capacity is 409, and nothing changes.
    refused = await act(outreach_app, apps[3]["id"], "offer")
    assert refused.status_code == 409 and "no free place" in refused.text
    assert await state(outreach_app, apps[3]["id"]) == "waitlisted"
    # An illegal move: 409 with the reason and what is allowed.
    illegal = await act(outreach_app, apps[2]["id"], "accept")
    assert illegal.status_code == 409
    assert illegal.json()["detail"]["detail"] == "cannot accept an application that is waitlisted"
    assert illegal.json()["detail"]["allowed_actions"] == ["reevaluate", "offer", "withdraw"]
    # Declining frees a place: the head of the waitlist (eligible first) is offered it in the same request.
    assert (await act(outreach_app, apps[0]["id"], "decline")).json()["state"] == "declined"
    assert await state(outreach_app, apps[2]["id"]) == "offered"
    assert await state(outreach_app, apps[3]["id"]) == "waitlisted"
    assert (await act(outreach_app, apps[1]["id"], "accept")).json()["state"] == "accepted"
    assert (await act(outreach_app, apps[1]["id"], "enrol")).json()["state"] == "enrolled"
    assert (await act(outreach_app, apps[1]["id"], "withdraw")).status_code == 409  # needs a reason
    withdrawn = await act(outreach_app, apps[1]["id"], "withdraw", reason="Moved out of the area")
    assert withdrawn.json()["state"] == "withdrawn" and withdrawn.json()["actions"] == []
    assert await state(outreach_app, apps[3]["id"]) == "offered"
    got = (await outreach_app.client.get(f"/watcch/cycles/{cycle['id']}", headers=outreach_app.coordinator)).json()
    assert (got["places_taken"], got["free_places"]) == (2, 0)
    assert got["applications"] == {"declined": 1, "withdrawn": 1, "offered": 2}
    types = [t for t, _ in await outreach_app.outbox() if "watcch" in t]
    assert types.count("outreach.watcch_application.offered.v1") == 4
    assert "outreach.watcch_application.withdrawn.v1" in types


async def test_offers_expire_by_the_timer_once_and_the_place_moves_on(outreach_app: Outreach) -> None:
    cycle = await setup(outreach_app, capacity=1)
    first, second = await enter(outreach_app, cycle["id"]), await enter(outreach_app, cycle["id"])
    expiry = datetime.fromisoformat(first["offer_expires_at"])
    assert expiry - datetime.fromisoformat(first["submitted_at"]) == timedelta(days=10)
    scheduler = outreach_app.service.offer_expiry
    scheduler.now = lambda: expiry - timedelta(seconds=1)
    assert await scheduler.tick() == []
    scheduler.now = lambda: expiry
    assert [str(i) for i in await scheduler.tick()] == [first["id"]]
    assert await scheduler.tick() == []  # once
    assert await state(outreach_app, first["id"]) == "offer_expired"
    assert await state(outreach_app, second["id"]) == "offered"
    types = [t for t, _ in await outreach_app.outbox()]
    assert types.count("outreach.watcch_application.offer_expired.v1") == 1


async def test_a_rules_change_after_the_first_application_is_a_new_version(outreach_app: Outreach) -> None:
    cycle = await setup(outreach_app)
    first = await enter(outreach_app, cycle["id"], home_postcode="EC1A 1BB", indicators={"free_school_meals": "yes"})
    assert first["state"] == "ineligible"
    rules = [{"kind": "at_least", "n": 1, "criteria": [
        {"kind": "individual", "measure": "free_school_meals", "values": ["yes"]}]}]  # fmt: skip
    changed = await outreach_app.client.patch(
        f"/watcch/cycles/{cycle['id']}", json={"rules": rules}, headers=outreach_app.coordinator
    )
    assert changed.status_code == 200 and changed.json()["rules_version"] == 2
    assert (await outreach_app.client.get(f"/watcch/applications/{first['id']}", headers=outreach_app.coordinator)
            ).json()["rules_version"] == 1  # fmt: skip
    # Judged by version 2, newcomers fill both places; the first, eligible now, joins the waitlist as a submission
    # would, and is offered the next place that frees.
    second, third = await enter(outreach_app, cycle["id"]), await enter(outreach_app, cycle["id"])
    assert (second["state"], third["state"]) == ("offered", "offered")
    again = await act(outreach_app, first["id"], "reevaluate")
    assert again.json()["state"] == "waitlisted" and again.json()["rules_version"] == 2
    assert (await act(outreach_app, second["id"], "decline")).json()["state"] == "declined"
    assert await state(outreach_app, first["id"]) == "offered"
    types = [t for t, b in await outreach_app.outbox() if first["id"] in b]
    assert types[-3:] == [
        "outreach.watcch_application.decided.v1",
        "outreach.watcch_application.waitlisted.v1",
        "outreach.watcch_application.offered.v1",
    ]


async def test_a_reevaluation_into_eligible_is_offered_a_free_place_at_once(outreach_app: Outreach) -> None:
    cycle = await setup(outreach_app)
    first = await enter(outreach_app, cycle["id"], home_postcode="EC1A 1BB", indicators={"free_school_meals": "yes"})
    assert first["state"] == "ineligible"
    rules = [{"kind": "at_least", "n": 1, "criteria": [
        {"kind": "individual", "measure": "free_school_meals", "values": ["yes"]}]}]  # fmt: skip
    await outreach_app.client.patch(
        f"/watcch/cycles/{cycle['id']}", json={"rules": rules}, headers=outreach_app.coordinator
    )
    again = await act(outreach_app, first["id"], "reevaluate")
    assert again.json()["state"] == "offered" and again.json()["offer_expires_at"] is not None
    got = (await outreach_app.client.get(f"/watcch/cycles/{cycle['id']}", headers=outreach_app.coordinator)).json()
    assert got["places_taken"] == 1


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"school_urn": "10000"}, "school_urn", 422),
        ({"school_urn": "999999"}, "school_urn", 404),  # not a registered school
        ({"year_group": "year_14"}, "year_group", 422),
        ({"home_postcode": "ZZ9 9ZZ"}, "home_postcode", 422),
        ({"date_of_birth": "2015-01-01"}, "date_of_birth", 409),  # too young when the programme starts
        ({"date_of_birth": "2000-01-01"}, "date_of_birth", 409),
        ({"date_of_birth": 0}, "date_of_birth", 422),
        ({"nickname": "Zeph"}, "nickname", 422),
        ({"indicators": {"parental_education": "03"}}, "indicators", 422),
    ],
)
async def test_bad_applications_are_refused_naming_the_field_and_store_nothing(
    outreach_app: Outreach, changes: dict[str, str], field: str, code: int
) -> None:
    cycle = await setup(outreach_app)
    response = await outreach_app.client.post("/watcch/applications", json=application_body(cycle["id"], **changes))
    assert response.status_code == code, response.text
    assert any(field in [str(p) for p in e["loc"]] for e in response.json()["detail"]), response.text
    assert await outreach_app.count(watcch_applications) == 0
    assert await outreach_app.count(personal_details) == 0
    assert await outreach_app.outbox() == [
        (t, b) for t, b in await outreach_app.outbox() if "watcch_application" not in t
    ]


async def test_the_public_form_is_rate_limited_per_client(outreach_app: Outreach) -> None:
    cycle = await setup(outreach_app)
    body = application_body(cycle["id"], school_urn="10000")  # refused as bad input, but still counted
    codes = [(await outreach_app.client.post("/watcch/applications", json=body)).status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]
    limited = await outreach_app.client.post("/watcch/applications", json=body)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


async def test_a_closed_or_draft_cycle_takes_no_public_application(outreach_app: Outreach) -> None:
    cycle = await setup(outreach_app)
    await outreach_app.client.post(f"/watcch/cycles/{cycle['id']}/close", headers=outreach_app.coordinator)
    response = await outreach_app.client.post("/watcch/applications", json=application_body(cycle["id"]))
    assert response.status_code == 409 and "closed" in response.text
    again = await outreach_app.client.post(f"/watcch/cycles/{cycle['id']}/close", headers=outreach_app.coordinator)
    assert again.status_code == 409
    duplicate = await outreach_app.client.post("/watcch/cycles", json=cycle_body(), headers=outreach_app.coordinator)
    assert duplicate.status_code == 409


async def test_the_referee_confirms_through_a_signed_expiring_link(outreach_app: Outreach) -> None:
    cycle = await setup(outreach_app)
    entered = await enter(outreach_app, cycle["id"])
    url = f"/watcch/applications/{entered['id']}/referee-link"
    issued = await outreach_app.client.post(url, headers=outreach_app.coordinator)
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert (await outreach_app.client.post(url, headers=outreach_app.coordinator)).status_code == 409  # too soon
    seen = await outreach_app.client.get(f"/watcch/referee/{token}")
    assert seen.status_code == 200 and seen.json()["applicant"] == "Zephyrina Q." and seen.json()["answer"] is None
    answered = await outreach_app.client.post(f"/watcch/referee/{token}", json={"answer": "confirmed"})
    assert answered.status_code == 200 and answered.json()["answer"] == "confirmed"
    assert (await outreach_app.client.post(f"/watcch/referee/{token}", json={"answer": "confirmed"})).status_code == 409
    assert (await outreach_app.client.get(f"/watcch/referee/{'x' * 43}")).status_code == 404
    one = await outreach_app.client.get(f"/watcch/applications/{entered['id']}", headers=outreach_app.coordinator)
    assert one.json()["referee"] == "confirmed"
    assert all(token not in body for _, body in await outreach_app.outbox())
    async with outreach_app.service.engine.connect() as connection:
        stored = (await connection.execute(select(watcch_applications.c.id))).all()
    assert len(stored) == 1


async def test_another_or_an_unknown_object_is_404(outreach_app: Outreach) -> None:
    await setup(outreach_app)
    unknown = "00000000-0000-4000-8000-000000000000"
    for path in (f"/watcch/cycles/{unknown}", f"/watcch/applications/{unknown}"):
        assert (await outreach_app.client.get(path, headers=outreach_app.coordinator)).status_code == 404
    assert (await act(outreach_app, unknown, "offer")).status_code == 404
