"""Mentoring over HTTP, on both backends: programmes, profiles, suggestions, the match lifecycle with its guard,
sessions and their notes. The guard's other half (automatic pauses) is in test_mentoring_guard.py."""

from datetime import timedelta

import pytest

from services.outreach.tests import mentoring_support as m
from services.outreach.tests import watcch_support as watcch
from services.outreach.tests.school_support import Outreach

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def test_a_programme_lies_within_its_cycle_and_names_an_unknown_cycle(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle = await m.cycle(app)
    made = await m.programme(app, cycle)
    assert made["interests"] == m.INTERESTS
    body = {"cycle_id": UNKNOWN, "name": "X", "starts_on": cycle["programme_starts_on"],
            "ends_on": cycle["programme_ends_on"], "interests": ["surgery"]}  # fmt: skip
    unknown = await app.client.post("/mentoring/programmes", json=body, headers=app.coordinator)
    assert unknown.status_code == 404 and unknown.json()["detail"][0]["loc"] == ["body", "cycle_id"]
    early = {**body, "cycle_id": cycle["id"], "starts_on": "2000-01-01"}
    refused = await app.client.post("/mentoring/programmes", json=early, headers=app.coordinator)
    assert refused.status_code == 409 and refused.json()["detail"][0]["loc"] == ["body", "starts_on"]
    listed = await app.client.get(f"/mentoring/programmes?cycle_id={cycle['id']}", headers=app.coordinator)
    assert [p["id"] for p in listed.json()] == [made["id"]]
    assert [t for t, _ in await m.events_of(app)] == ["outreach.mentoring_programme.created.v1"]


async def test_profiles_and_preferences_take_the_programmes_interests_and_enrolled_participants(
    outreach_app: Outreach,
) -> None:
    app = outreach_app
    cycle = await m.cycle(app)
    made = await m.programme(app, cycle)
    profile = await m.mentor(app, made["id"], m.MENTOR, interests=["surgery", "research"])
    assert profile["load"] == 0 and profile["interests"] == ["research", "surgery"]
    url = f"/mentoring/programmes/{made['id']}/mentors/{m.MENTOR}"
    body = {"interests": ["cardiology"], "availability": [], "max_mentees": 1}
    refused = await app.client.put(url, json=body, headers=app.coordinator)
    assert refused.status_code == 409 and refused.json()["detail"][0]["loc"] == ["body", "interests"]

    assert (await m.mentee(app, made["id"], UNKNOWN)).status_code == 404
    applied = await watcch.enter(app, cycle["id"])  # applied, not enrolled
    not_enrolled = await m.mentee(app, made["id"], applied["participant_id"])
    assert not_enrolled.status_code == 409
    assert not_enrolled.json()["detail"][0]["loc"] == ["path", "participant_id"]
    participant = await m.enrolled(app, cycle["id"])
    preferences = await m.ok(await m.mentee(app, made["id"], participant))
    assert preferences["interests"] == ["applying_to_medicine", "surgery"]
    again = await app.client.get(f"/mentoring/programmes/{made['id']}/mentees/{participant}", headers=app.coordinator)
    assert again.json() == preferences


async def test_suggestions_rank_cleared_mentors_and_list_the_others_apart_with_why(outreach_app: Outreach) -> None:
    app = outreach_app
    ids = await m.world(app)  # MENTOR: cleared, shares surgery and Tuesday evening
    await m.person(app, m.OTHER_MENTOR, workforce="adult")  # not cleared: the wrong workforce
    await m.mentor(app, ids["programme_id"], m.OTHER_MENTOR, interests=["surgery", "applying_to_medicine"],
                   availability=[m.EVENING, m.SATURDAY])  # fmt: skip
    await m.mentor(app, ids["programme_id"], "2301299", interests=[], availability=[])  # no record at all
    url = f"/mentoring/programmes/{ids['programme_id']}/mentees/{ids['participant_id']}/suggestions"
    answer = await m.ok(await app.client.get(url, headers=app.coordinator))
    assert answer["preferences_recorded"] and answer["participant_unmet"] == []
    assert [r["mentor_id"] for r in answer["ranked"]] == [m.MENTOR]
    ranked = answer["ranked"][0]
    assert ranked["rank"] == 1 and ranked["shared_interests"] == ["surgery"]
    assert [p["part"] for p in ranked["parts"]] == ["interests", "availability", "load"]
    assert ranked["score"] == sum(p["points"] for p in ranked["parts"])
    apart = {u["mentor_id"]: {x["code"] for x in u["unmet"]} for u in answer["unavailable"]}
    assert apart == {m.OTHER_MENTOR: {"dbs_workforce"}, "2301299": {"no_safeguarding_record"}}
    # Matched: listed apart too, as already matched (and the load counts the proposal).
    assert (await m.propose(app, ids["programme_id"], m.MENTOR, ids["participant_id"])).status_code == 201
    answer = await m.ok(await app.client.get(url, headers=app.coordinator))
    assert answer["ranked"] == [] and "already_matched" in {
        x["code"] for u in answer["unavailable"] if u["mentor_id"] == m.MENTOR for x in u["unmet"]
    }


async def test_a_match_through_its_life_with_the_callers_allowed_actions(outreach_app: Outreach) -> None:
    app = outreach_app
    ids = await m.world(app)
    mentor = m.student(app, m.MENTOR)
    proposed = await m.ok(await m.propose(app, ids["programme_id"], m.MENTOR, ids["participant_id"]), 201)
    assert proposed["state"] == "proposed" and proposed["allowed_actions"] == ["withdraw"]
    seen = await m.ok(await app.client.get(f"/mentoring/matches/{proposed['id']}", headers=mentor))
    assert seen["allowed_actions"] == ["accept", "decline"]
    # The coordinator cannot accept for the mentor: 409 with the state and what they may do.
    refused = await m.act(app, proposed["id"], "accept", app.coordinator)
    assert refused.status_code == 409
    assert refused.json()["detail"]["allowed_actions"] == ["withdraw"]
    # A second open match for the participant in the programme: 409 naming the participant.
    again = await m.propose(app, ids["programme_id"], m.MENTOR, ids["participant_id"])
    assert again.status_code == 409 and again.json()["detail"][0]["loc"] == ["body", "participant_id"]

    active = await m.ok(await m.act(app, proposed["id"], "accept", mentor))
    assert active["state"] == "active" and active["allowed_actions"] == ["log_session"]
    for action, state in (("pause", "paused"), ("resume", "active"), ("complete", "completed")):
        moved = await m.ok(await m.act(app, proposed["id"], action, app.coordinator))
        assert moved["state"] == state and not moved["paused_automatically"]
    types = [t for t, _ in await m.events_of(app, "outreach.mentoring_match")]
    assert types == [f"outreach.mentoring_match.{v}.v1" for v in
                     ("proposed", "accepted", "paused", "resumed", "completed")]  # fmt: skip
    paused = next(e for t, e in await m.events_of(app) if t.endswith(".paused.v1"))
    assert paused["data"]["automatic"] is False and paused["data"]["reason_codes"] == []


async def test_the_mentor_declines_and_the_coordinator_withdraws(outreach_app: Outreach) -> None:
    app = outreach_app
    ids = await m.world(app)
    first = await m.ok(await m.propose(app, ids["programme_id"], m.MENTOR, ids["participant_id"]), 201)
    declined = await m.ok(await m.act(app, first["id"], "decline", m.student(app, m.MENTOR)))
    assert declined["state"] == "declined" and declined["allowed_actions"] == []
    second = await m.ok(await m.propose(app, ids["programme_id"], m.MENTOR, ids["participant_id"]), 201)
    withdrawn = await m.ok(await m.act(app, second["id"], "withdraw", app.coordinator))
    assert withdrawn["state"] == "ended"
    ended = [e["data"] for t, e in await m.events_of(app) if t.endswith(".ended.v1")]
    assert ended == [{**ended[0], "previous_state": "proposed", "by_erasure": False}]


async def test_a_student_sees_only_their_own_matches(outreach_app: Outreach) -> None:
    app = outreach_app
    ids = await m.world(app)
    match = await m.active_match(app, ids)
    other = m.student(app, m.OTHER_MENTOR)
    for method, path in (("GET", f"/mentoring/matches/{match['id']}"),
                         ("GET", f"/mentoring/matches/{match['id']}/sessions"),
                         ("POST", f"/mentoring/matches/{match['id']}/actions/pause")):  # fmt: skip
        assert (await app.client.request(method, path, headers=other)).status_code == 404
    assert (await m.session(app, match["id"], other)).status_code == 404
    assert (await app.client.get("/mentoring/matches", headers=other)).json() == []
    own = await app.client.get("/mentoring/matches", headers=m.student(app, m.MENTOR))
    assert [x["id"] for x in own.json()] == [match["id"]]
    # The mentor may not pause, resume, complete or end: only accept and decline are theirs.
    refused = await m.act(app, match["id"], "pause", m.student(app, m.MENTOR))
    assert refused.status_code == 409 and refused.json()["detail"]["allowed_actions"] == ["log_session"]


async def test_sessions_are_logged_on_an_active_match_and_the_notes_are_for_coordinators(
    outreach_app: Outreach,
) -> None:
    app = outreach_app
    ids = await m.world(app)
    proposed = await m.ok(await m.propose(app, ids["programme_id"], m.MENTOR, ids["participant_id"]), 201)
    mentor = m.student(app, m.MENTOR)
    not_yet = await m.session(app, proposed["id"], mentor)
    assert not_yet.status_code == 409 and not_yet.json()["detail"]["state"] == "proposed"
    await m.ok(await m.act(app, proposed["id"], "accept", mentor))
    logged = await m.ok(await m.session(app, proposed["id"], mentor, notes=m.NOTES, topic="personal_statement"), 201)
    assert logged["notes"] is None and logged["logged_by"] == m.MENTOR
    future = await m.session(app, proposed["id"], mentor, held_on=m.TODAY + timedelta(days=1))
    assert future.status_code == 409 and future.json()["detail"][0]["loc"] == ["body", "held_on"]
    before = await m.session(app, proposed["id"], app.coordinator, held_on=m.TODAY - timedelta(days=1))
    assert before.status_code == 409 and before.json()["detail"][0]["loc"] == ["body", "held_on"]
    await m.ok(await m.session(app, proposed["id"], app.coordinator, mode="phone", minutes=20), 201)

    url = f"/mentoring/matches/{proposed['id']}/sessions"
    as_mentor = (await app.client.get(url, headers=mentor)).json()
    as_coordinator = (await app.client.get(url, headers=app.coordinator)).json()
    assert [s["notes"] for s in as_mentor] == [None, None]
    assert [s["notes"] for s in as_coordinator] == [m.NOTES, None]
    logged_events = [e["data"] for t, e in await m.events_of(app) if t == "outreach.mentoring_session.logged.v1"]
    assert [(e["topic"], e["minutes"], e["mode"]) for e in logged_events] == [
        ("personal_statement", 45, "online"), ("careers", 20, "phone")]  # fmt: skip
    assert not any(m.NOTES in body for _, body in await app.outbox())


async def test_notes_and_the_mentors_words_reach_no_event_and_no_log(
    outreach_app: Outreach, capfd: pytest.CaptureFixture[str]
) -> None:
    app = outreach_app
    ids = await m.world(app)  # the mentor's profile carries ABOUT
    match = await m.active_match(app, ids)
    await m.ok(await m.session(app, match["id"], m.student(app, m.MENTOR), notes=m.NOTES), 201)
    await m.ok(await m.act(app, match["id"], "pause", app.coordinator))
    logged = "".join(capfd.readouterr())
    assert "/mentoring/matches" in logged  # the request log is captured, so it is what is searched
    for text in (logged, *(body for _, body in await app.outbox())):
        assert m.NOTES not in text and m.ABOUT not in text
