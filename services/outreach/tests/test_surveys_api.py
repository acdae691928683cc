"""Surveys on SQLite and PostgreSQL: versions never edited once used, one response per participant, version and
kind, and the pre/post change per item over a cycle."""

import asyncio
import json

import httpx

from medic.outreach.adapters.orm_surveys import survey_answers, survey_responses
from services.outreach.tests.activity_support import cycle_with, schedule
from services.outreach.tests.school_support import Outreach
from services.outreach.tests.survey_support import ITEMS, UNKNOWN, answer, questionnaire


async def test_a_used_version_is_never_edited_a_change_is_a_new_version(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle, (ada,) = await cycle_with(app, 1)
    q = await questionnaire(app)
    assert (q["latest_version"], [i["code"] for i in q["versions"][0]["items"]]) == (1, [i["code"] for i in ITEMS])
    url = f"/surveys/questionnaires/{q['id']}/versions"
    # Unused: correctable.
    corrected = [*ITEMS, {"code": "confident", "text": "I am confident I could study medicine"}]
    response = await app.client.put(f"{url}/1", json={"items": corrected}, headers=app.coordinator)
    assert response.status_code == 200 and len(response.json()["items"]) == 3, response.text
    assert (await answer(app, q["id"], ada, cycle, "pre", {"confident": 2})).status_code == 201
    # Used: refused, saying why, and unchanged.
    refused = await app.client.put(f"{url}/1", json={"items": ITEMS}, headers=app.coordinator)
    assert refused.status_code == 409 and "never edited" in refused.json()["detail"]
    assert len((await app.client.get(f"{url}/1", headers=app.coordinator)).json()["items"]) == 3
    # A new version: a code keeps its statement.
    reworded = [{"code": "confident", "text": "I could cope with a medical degree"}]
    bad = await app.client.post(url, json={"items": reworded}, headers=app.coordinator)
    assert bad.status_code == 409 and bad.json()["detail"][0]["loc"] == ["body", "items", 0, "text"]
    twice = [ITEMS[0], {"code": ITEMS[0]["code"], "text": "Another statement"}]
    bad = await app.client.post(url, json={"items": twice}, headers=app.coordinator)
    assert bad.status_code == 409 and bad.json()["detail"][0]["loc"] == ["body", "items", 1, "code"]
    second = [{"code": "cope", "text": "I could cope with a medical degree"}, ITEMS[0]]
    made = await app.client.post(url, json={"items": second}, headers=app.coordinator)
    assert made.status_code == 201 and made.json()["version"] == 2, made.text
    got = (await app.client.get(f"/surveys/questionnaires/{q['id']}", headers=app.coordinator)).json()
    assert [(v["version"], v["responses"]) for v in got["versions"]] == [(1, 1), (2, 0)]
    events = [(t, json.loads(b)["data"]) for t, b in await app.outbox() if t.startswith("outreach.survey.")]
    assert [(t.split(".")[2], d.get("version"), d.get("items")) for t, d in events] == [
        ("questionnaire_version_published", 1, 2),
        ("questionnaire_version_published", 1, 3),
        ("response_recorded", 1, None),
        ("questionnaire_version_published", 2, 2),
    ]
    recorded = events[2][1]
    assert recorded["participant_id"] == ada and recorded["kind"] == "pre" and "answers" not in recorded
    assert "medicine" not in json.dumps([d for _, d in events])  # no item text on the bus


async def test_bad_responses_are_refused_and_change_nothing(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle, (ada, offered, withdrawn) = await cycle_with(app, 1, other_states=("offered", "withdrawn"))
    other_cycle, (elsewhere,) = await cycle_with(app, 1, year=1)
    elsewhere_activity = await schedule(app, other_cycle)
    q = (await questionnaire(app))["id"]
    k = "know_how_to_apply"
    ok = {k: 3}
    elsewhere_id = elsewhere_activity["id"]
    cases: list[tuple[httpx.Response, int, list[object] | None]] = [
        (await answer(app, q, ada, cycle, "pre", {"nope": 3}), 409, ["body", "answers", "nope"]),
        (await answer(app, q, ada, cycle, "pre", {k: 6}), 422, ["body", "answers", k]),
        (await answer(app, q, ada, cycle, "pre", {k: "3"}), 422, ["body", "answers", k]),
        (await answer(app, q, ada, cycle, "pre", {}), 422, ["body", "answers"]),
        (await answer(app, q, ada, cycle, "during", ok), 422, ["body", "kind"]),
        (await answer(app, q, ada, cycle, "pre", ok, activity_id=elsewhere_id), 409, ["body", "activity_id"]),
        (await answer(app, q, ada, cycle, "pre", ok, version=2), 404, None),
        (await answer(app, UNKNOWN, ada, cycle, "pre", ok), 404, None),
        (await answer(app, q, UNKNOWN, cycle, "pre", ok), 404, None),
        (await answer(app, q, ada, UNKNOWN, "pre", ok), 404, None),
        (await answer(app, q, ada, cycle, "pre", ok, activity_id=UNKNOWN), 404, None),
        (await answer(app, q, offered, cycle, "pre", ok), 409, None),
        (await answer(app, q, withdrawn, cycle, "pre", ok), 409, None),
        (await answer(app, q, elsewhere, cycle, "pre", ok), 409, None),
    ]  # fmt: skip
    wrong = [
        (i, r.status_code, r.text)
        for i, (r, status, loc) in enumerate(cases)
        if r.status_code != status or (loc is not None and r.json()["detail"][0]["loc"] != loc)
    ]
    assert wrong == []
    assert await app.count(survey_responses) == 0 and await app.count(survey_answers) == 0
    # One response per participant, version and kind: a second is 409 and replaces nothing.
    assert (await answer(app, q, ada, cycle, "pre", ok)).status_code == 201
    again = await answer(app, q, ada, cycle, "pre", {"know_how_to_apply": 5})
    assert again.status_code == 409 and "already has a pre response" in again.json()["detail"]
    assert (await answer(app, q, ada, cycle, "post", {"know_how_to_apply": 5})).status_code == 201
    mine = (await app.client.get(f"/participants/{ada}/survey-responses", headers=app.coordinator)).json()
    assert [(r["kind"], r["answers"]) for r in mine] == [("pre", ok), ("post", {"know_how_to_apply": 5})]
    assert (
        await app.client.get(f"/participants/{UNKNOWN}/survey-responses", headers=app.coordinator)
    ).status_code == 404


async def test_the_change_per_item_pairs_pre_and_post_across_versions(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle, (ada, ben, cai, dee) = await cycle_with(app, 3, other_states=("completed",))
    q = (await questionnaire(app))["id"]
    know, belong = "know_how_to_apply", "belong_at_university"
    for participant, kind, answers in [
        (ada, "pre", {know: 2, belong: 3}),
        (ada, "post", {know: 4, belong: 4}),
        (ben, "pre", {know: 3}),
        (ben, "post", {know: 5, belong: 2}),
        (cai, "pre", {know: 1, belong: 1}),  # no post: counted as a pre respondent only
        (dee, "pre", {know: 4}),  # dee completed the cycle: still counts
    ]:
        assert (await answer(app, q, participant, cycle, kind, answers)).status_code == 201
    # A second version keeps `know`: a post answer to it pairs with the pre answer to version 1.
    v2 = await app.client.post(
        f"/surveys/questionnaires/{q}/versions", json={"items": [ITEMS[0]]}, headers=app.coordinator
    )
    assert v2.status_code == 201
    assert (await answer(app, q, dee, cycle, "post", {know: 3}, version=2)).status_code == 201
    # Another cycle's responses do not count.
    other_cycle, (eve,) = await cycle_with(app, 1, year=1)
    assert (await answer(app, q, eve, other_cycle, "pre", {know: 5})).status_code == 201

    change = await app.client.get(f"/surveys/questionnaires/{q}/cycles/{cycle}/change", headers=app.coordinator)
    assert change.status_code == 200, change.text
    rows = {r["code"]: r for r in change.json()["items"]}
    assert list(rows) == [know, belong]
    # know: ada 2->4, ben 3->5, dee 4->3 (v1 pre, v2 post); cai pre only.
    assert rows[know] | {"text": ""} == {
        "code": know, "text": "", "pre_respondents": 4, "post_respondents": 3, "n": 3,
        "pre_mean": "3.00", "post_mean": "4.00", "change": "1.00",
    }  # fmt: skip
    # belong: ada 3->4 only (ben has no pre answer to it, cai no post).
    assert (rows[belong]["n"], rows[belong]["pre_respondents"], rows[belong]["post_respondents"]) == (1, 2, 2)
    assert (rows[belong]["pre_mean"], rows[belong]["post_mean"], rows[belong]["change"]) == ("3.00", "4.00", "1.00")
    for url in (
        f"/surveys/questionnaires/{UNKNOWN}/cycles/{cycle}/change",
        f"/surveys/questionnaires/{q}/cycles/{UNKNOWN}/change",
    ):
        assert (await app.client.get(url, headers=app.coordinator)).status_code == 404


async def test_concurrent_duplicate_responses_record_one(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle, (ada,) = await cycle_with(app, 1)
    q = (await questionnaire(app))["id"]
    answers = [answer(app, q, ada, cycle, "pre", {"know_how_to_apply": v}) for v in (1, 2, 3, 4, 5, 1, 2, 3)]
    statuses = sorted(r.status_code for r in await asyncio.gather(*answers))
    assert statuses == [201] + [409] * 7
    assert await app.count(survey_responses) == 1 and await app.count(survey_answers) == 1
