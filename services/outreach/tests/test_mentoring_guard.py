"""The workflow is the guard, on both backends: no match proposed or activated and no session logged unless the
mentor is cleared and the participant's consents are valid on the day (409 listing each unmet condition of both
people); a withdrawn consent or a voided check pauses active matches in the same request; a lapse by time pauses them
at the timer's next tick, once. People are set up through the safeguarding and consent areas' own routes."""

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from medic.outreach.adapters.orm_mentoring import mentee_preferences, mentor_profiles, mentoring_session_notes
from medic.outreach.service_layer import mentoring
from services.outreach.tests import mentoring_support as m
from services.outreach.tests.school_support import Outreach


def years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years) if (day.month, day.day) != (2, 29) else day - timedelta(days=365 * 3 + 1)


def codes(response_body: dict[str, object]) -> set[tuple[str, str | None]]:
    detail = response_body["detail"]
    assert isinstance(detail, dict)
    return {(u["code"], u["subject"]) for u in detail["unmet"]}


async def test_a_mentor_with_an_expired_or_wrong_workforce_dbs_cannot_be_matched(outreach_app: Outreach) -> None:
    app = outreach_app
    ids = await m.world(app)
    expired, adult = "2309001", "2309002"
    await m.person(app, expired, issued_on=years_before(m.TODAY, 3) - timedelta(days=10))  # recheck overdue
    await m.person(app, adult, workforce="adult")
    for person_id, code in ((expired, "dbs_recheck_due"), (adult, "dbs_workforce")):
        await m.mentor(app, ids["programme_id"], person_id)
        refused = await m.propose(app, ids["programme_id"], person_id, ids["participant_id"])
        assert refused.status_code == 409, refused.text
        assert refused.json()["detail"]["detail"] == "cannot propose the match"
        assert codes(refused.json()) == {(code, person_id)}
    assert await m.events_of(app, "outreach.mentoring_match") == []


async def test_the_refusal_lists_every_unmet_condition_of_both_people(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle = await m.cycle(app)
    participant = await m.enrolled(app, cycle["id"])
    await m.publish_texts(app)
    await m.consent(app, participant, scopes=("taking_part",))  # no consent to mentoring
    made = await m.programme(app, cycle)
    await m.mentor(app, made["id"], "2309003")  # no safeguarding record at all
    refused = await m.propose(app, made["id"], "2309003", participant)
    assert refused.status_code == 409
    assert codes(refused.json()) == {
        ("no_safeguarding_record", "2309003"),
        ("consent_missing", participant),  # the participant's own consent to mentoring
        ("guardian_consent_missing", participant),  # and a parent's or guardian's: they are 16
    }


async def test_a_full_mentor_is_refused_as_an_unmet_condition(outreach_app: Outreach) -> None:
    app = outreach_app
    ids = await m.world(app)
    await m.mentor(app, ids["programme_id"], m.MENTOR, max_mentees=1)
    other = await m.enrolled(app, ids["cycle_id"])
    await m.consent(app, other)
    assert (await m.propose(app, ids["programme_id"], m.MENTOR, ids["participant_id"])).status_code == 201
    refused = await m.propose(app, ids["programme_id"], m.MENTOR, other)
    assert refused.status_code == 409 and codes(refused.json()) == {("mentor_full", m.MENTOR)}


async def test_a_withdrawn_consent_pauses_an_active_match_at_once(outreach_app: Outreach) -> None:
    app = outreach_app
    ids = await m.world(app)
    match = await m.active_match(app, ids)
    withdrawn = await m.withdraw(app, ids["participant_id"], "mentoring")
    assert withdrawn.status_code == 201, withdrawn.text
    # The same request paused it: nothing else ran in between.
    seen = await m.ok(await app.client.get(f"/mentoring/matches/{match['id']}", headers=app.coordinator))
    assert seen["state"] == "paused" and seen["paused_automatically"]
    assert seen["pause_reasons"] == ["consent_withdrawn"]
    paused = [e["data"] for t, e in await m.events_of(app) if t == "outreach.mentoring_match.paused.v1"]
    assert paused == [{**paused[0], "automatic": True, "reason_codes": ["consent_withdrawn"]}]
    # Resuming, and logging a session, are refused while it is so.
    refused = await m.act(app, match["id"], "resume", app.coordinator)
    assert refused.status_code == 409 and ("consent_withdrawn", ids["participant_id"]) in codes(refused.json())
    assert (await m.session(app, match["id"], m.student(app, m.MENTOR))).status_code == 409
    # Consent given again: the coordinator resumes it.
    for party in ("participant", "guardian"):
        body = {"party": party, "scope": "mentoring", "text_version": 1, "method": "online_form"}
        await m.ok(await app.client.post(f"/participants/{ids['participant_id']}/consents", json=body,
                                         headers=app.coordinator), 201)  # fmt: skip
    resumed = await m.ok(await m.act(app, match["id"], "resume", app.coordinator))
    assert resumed["state"] == "active" and resumed["pause_reasons"] == []


async def test_a_voided_dbs_check_pauses_the_mentors_active_matches_at_once(outreach_app: Outreach) -> None:
    app = outreach_app
    ids = await m.world(app)
    match = await m.active_match(app, ids)
    person = await m.ok(await app.client.get(f"/safeguarding/people/{m.MENTOR}", headers=app.coordinator))
    check_id = person["dbs_checks"][0]["check_id"]
    voided = await app.client.post(f"/safeguarding/people/{m.MENTOR}/dbs-checks/{check_id}/void",
                                   json={"reason": "recorded_in_error"}, headers=app.coordinator)  # fmt: skip
    assert voided.status_code in (200, 201), voided.text
    seen = await m.ok(await app.client.get(f"/mentoring/matches/{match['id']}", headers=app.coordinator))
    assert seen["state"] == "paused" and seen["paused_automatically"] and "no_dbs_check" in seen["pause_reasons"]


async def test_a_lapse_by_time_pauses_the_match_at_the_next_tick_once(outreach_app: Outreach) -> None:
    """The DBS recheck falls due in a few days; the daily timer pauses the match the first tick after, once; once
    resumed (after a new check), a later lapse pauses it again, once."""
    app = outreach_app
    cycle = await m.cycle(app)
    participant = await m.enrolled(app, cycle["id"])
    await m.publish_texts(app)
    await m.consent(app, participant)
    await m.person(app, m.MENTOR, issued_on=years_before(m.TODAY + timedelta(days=5), 3))
    made = await m.programme(app, cycle)
    await m.mentor(app, made["id"], m.MENTOR)
    match = await m.active_match(app, {"programme_id": made["id"], "participant_id": participant})
    timer = app.service.mentoring_recheck
    start = datetime.now(UTC)

    timer.now = lambda: start
    assert await timer.tick() == []  # today: still cleared
    timer.now = lambda: start + timedelta(days=10)
    assert await timer.tick() == [uuid.UUID(match["id"])]
    assert await timer.tick() == []  # paused already: nothing more
    seen = await m.ok(await app.client.get(f"/mentoring/matches/{match['id']}", headers=app.coordinator))
    assert seen["state"] == "paused" and seen["pause_reasons"] == ["dbs_recheck_due"]
    paused = [e for t, e in await m.events_of(app) if t == "outreach.mentoring_match.paused.v1"]
    assert len(paused) == 1 and paused[0]["data"]["reason_codes"] == ["dbs_recheck_due"]

    # A new check: resumed; a second lapse (training) pauses it again, and only once.
    await app.client.post(f"/safeguarding/people/{m.MENTOR}/dbs-checks", headers=app.coordinator, json={
        "level": "enhanced_barred_children", "workforce": "child", "certificate_number": next(m.CERTIFICATES),
        "issued_on": m.TODAY.isoformat(), "seen_how": "original_certificate"})  # fmt: skip
    app.service.app.state.clock = lambda: start + timedelta(days=10)
    assert (await m.act(app, match["id"], "resume", app.coordinator)).status_code == 200
    timer.now = lambda: start + timedelta(days=800)  # the training (700 days) has expired too
    assert await timer.tick() == [uuid.UUID(match["id"])]
    assert await timer.tick() == []
    paused = [e for t, e in await m.events_of(app) if t == "outreach.mentoring_match.paused.v1"]
    assert len(paused) == 2 and "training_expired" in paused[1]["data"]["reason_codes"]


async def test_a_session_is_guarded_on_its_own_day(outreach_app: Outreach) -> None:
    """Logged afterwards for a day the mentor was cleared: accepted, even if the clock has moved on."""
    app = outreach_app
    ids = await m.world(app)
    match = await m.active_match(app, ids)
    app.service.app.state.clock = lambda: datetime.now(UTC) + timedelta(days=3)
    logged = await m.session(app, match["id"], m.student(app, m.MENTOR), held_on=m.TODAY + timedelta(days=1))
    assert logged.status_code == 201, logged.text


async def test_a_session_on_a_day_consent_stood_withdrawn_is_refused_after_consent_is_given_again(
    outreach_app: Outreach,
) -> None:
    """The guard judges the session's day by the record as it stood then: a consent given again later does not reach
    back over the days it was withdrawn."""
    app = outreach_app
    ids = await m.world(app)
    match = await m.active_match(app, ids)
    assert (await m.withdraw(app, ids["participant_id"], "mentoring")).status_code == 201  # paused at once
    app.service.app.state.clock = lambda: datetime.now(UTC) + timedelta(days=5)
    for party in ("participant", "guardian"):
        body = {"party": party, "scope": "mentoring", "text_version": 1, "method": "online_form"}
        await m.ok(await app.client.post(f"/participants/{ids['participant_id']}/consents", json=body,
                                         headers=app.coordinator), 201)  # fmt: skip
    await m.ok(await m.act(app, match["id"], "resume", app.coordinator))
    during = await m.session(app, match["id"], m.student(app, m.MENTOR), held_on=m.TODAY + timedelta(days=2))
    assert during.status_code == 409, during.text
    assert ("consent_withdrawn", ids["participant_id"]) in codes(during.json())
    since = await m.session(app, match["id"], m.student(app, m.MENTOR), held_on=m.TODAY + timedelta(days=5))
    assert since.status_code == 201, since.text


async def test_erasure_ends_open_matches_and_deletes_preferences_notes_and_free_text(outreach_app: Outreach) -> None:
    app = outreach_app
    ids = await m.world(app)
    match = await m.active_match(app, ids)
    await m.ok(await m.session(app, match["id"], app.coordinator, notes=m.NOTES), 201)
    now = datetime.now(UTC)
    async with app.service.app.state.uow_factory() as uow:
        await mentoring.forget_participant(uow, uuid.UUID(ids["participant_id"]), now=now)
        await mentoring.forget_participant(uow, uuid.UUID(ids["participant_id"]), now=now)  # idempotent
        await mentoring.forget_mentor(uow, m.MENTOR, now=now)
        await uow.commit()
    seen = await m.ok(await app.client.get(f"/mentoring/matches/{match['id']}", headers=app.coordinator))
    assert seen["state"] == "ended"
    ended = [e["data"] for t, e in await m.events_of(app) if t == "outreach.mentoring_match.ended.v1"]
    assert ended == [{**ended[0], "previous_state": "active", "by_erasure": True}]
    async with app.service.engine.connect() as connection:
        assert (await connection.execute(select(mentee_preferences))).all() == []
        assert (await connection.execute(select(mentoring_session_notes))).all() == []
        assert {row.about for row in await connection.execute(select(mentor_profiles))} == {None}
    sessions = await app.client.get(f"/mentoring/matches/{match['id']}/sessions", headers=app.coordinator)
    assert [s["notes"] for s in sessions.json()] == [None]  # the session stays, for counts, without its notes


async def test_a_withdrawal_racing_an_accept_never_leaves_an_active_match(outreach_app: Outreach) -> None:
    """Whichever commits first, the match does not end up active without valid consent: the accept waits for the
    withdrawal (and is refused), or the withdrawal waits for the accept (and pauses the match)."""
    app = outreach_app
    ids = await m.world(app)
    proposed = await m.ok(await m.propose(app, ids["programme_id"], m.MENTOR, ids["participant_id"]), 201)
    accepted, withdrawn = await asyncio.gather(
        m.act(app, proposed["id"], "accept", m.student(app, m.MENTOR)), m.withdraw(app, ids["participant_id"])
    )
    assert withdrawn.status_code == 201, withdrawn.text
    assert accepted.status_code in (200, 409), accepted.text
    seen = await m.ok(await app.client.get(f"/mentoring/matches/{proposed['id']}", headers=app.coordinator))
    assert seen["state"] == ("paused" if accepted.status_code == 200 else "proposed")
