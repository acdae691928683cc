"""The primary-school programme over HTTP on SQLite and PostgreSQL: a term's sessions from plan to close, what is
stored and published (counts and ids, never free text), what is refused, and who sees what."""

import json
from typing import Any

import pytest

from medic.outreach.adapters.orm_primary import primary_sessions, primary_terms
from medic.shared.auth import Role
from medic.shared.contracts.projects import PartnerKind
from services.outreach.tests.primary_support import (
    OTHER_STUDENT,
    PUPIL_COUNTS,
    STUDENT,
    TEACHER_SCORES,
    TODAY,
    act,
    delivered,
    known_partner,
    plan,
    session_body,
    term,
    token,
)
from services.outreach.tests.school_support import Outreach

COMMENTS = "Sentinel-comment: Mr Teacher says Year 3 loved it"
REFLECTION = "Sentinel-reflection: I spoke too fast"
REASON = "Sentinel-reason: the school closed"


async def test_the_statutory_topics_are_seeded_and_a_retired_topic_keeps_its_sessions(outreach_app: Outreach) -> None:
    topics = (await outreach_app.client.get("/primary/topics", headers=token(outreach_app, Role.STUDENT))).json()
    assert [t["id"] for t in topics if t["statutory"]] == sorted(
        ["mental_wellbeing", "internet_safety", "physical_health", "healthy_eating", "drugs_alcohol_tobacco",
         "health_prevention", "first_aid", "changing_body"]
    )  # fmt: skip
    added = await outreach_app.client.post(
        "/primary/topics", json={"id": "sun_safety", "name": "Sun safety"}, headers=outreach_app.coordinator
    )
    assert added.status_code == 201 and added.json()["statutory"] is False
    again = await outreach_app.client.post(
        "/primary/topics", json={"id": "sun_safety", "name": "Sun"}, headers=outreach_app.coordinator
    )
    assert again.status_code == 409

    session = await delivered(outreach_app, topic_id="sun_safety")
    retired = await outreach_app.client.post("/primary/topics/sun_safety/retire", headers=outreach_app.coordinator)
    assert retired.json()["retired"] is True
    listed = (await outreach_app.client.get("/primary/topics", headers=outreach_app.coordinator)).json()
    assert "sun_safety" not in [t["id"] for t in listed]
    kept = await outreach_app.client.get(f"/primary/sessions/{session['id']}", headers=outreach_app.coordinator)
    assert kept.json()["topic_id"] == "sun_safety"
    refused = await outreach_app.client.post(
        "/primary/sessions",
        json=session_body(session["term_id"], topic_id="sun_safety"),
        headers=outreach_app.coordinator,
    )
    assert refused.status_code == 409 and refused.json()["detail"][0]["loc"] == ["body", "topic_id"]


async def test_a_session_from_plan_to_close_publishes_ids_and_counts_only(outreach_app: Outreach) -> None:
    session = await delivered(outreach_app)
    assert session["state"] == "delivered" and session["key_stage"] == "ks2"
    assert session["delivery"] == {"pupils": 28, "classes": 1, "teacher_present_throughout": True}
    sid, coordinator = session["id"], outreach_app.coordinator
    student = token(outreach_app, Role.STUDENT, STUDENT)

    blocked = await outreach_app.client.post(f"/primary/sessions/{sid}/actions/collect_feedback", json={},
                                             headers=coordinator)  # fmt: skip
    assert blocked.status_code == 409
    assert blocked.json()["detail"]["reasons"] == ["no teacher feedback recorded yet"]
    assert "give_teacher_feedback" in blocked.json()["detail"]["allowed_actions"]

    pupils = await outreach_app.client.put(
        f"/primary/sessions/{sid}/pupil-feedback", json={"form_version": 1, "counts": PUPIL_COUNTS}, headers=student
    )
    assert pupils.status_code == 200, pupils.text
    teacher = await outreach_app.client.put(
        f"/primary/sessions/{sid}/teacher-feedback",
        json={"form_version": 1, "scores": TEACHER_SCORES, "comments": COMMENTS},
        headers=coordinator,
    )
    assert teacher.status_code == 200, teacher.text
    assert teacher.json()["teacher_feedback"]["comments"] == COMMENTS
    reflected = await outreach_app.client.put(
        f"/primary/sessions/{sid}/reflection", json={"text": REFLECTION}, headers=student
    )
    assert reflected.status_code == 200, reflected.text

    as_student = (await outreach_app.client.get(f"/primary/sessions/{sid}", headers=student)).json()
    assert as_student["teacher_feedback"]["comments"] is None
    assert as_student["teacher_feedback"]["scores"] == TEACHER_SCORES
    assert [a["action"] for a in as_student["actions"]] == ["give_pupil_feedback", "write_reflection"]

    await act(outreach_app, sid, "collect_feedback")
    closed = await act(outreach_app, sid, "close")
    assert closed["state"] == "closed" and closed["actions"] == []

    rows = await outreach_app.outbox()
    assert [t for t, _ in rows if t.startswith("outreach.session")] == [
        "outreach.session.planned.v1",
        "outreach.session.plan_reviewed.v1",
        "outreach.session.delivered.v1",
        "outreach.session.feedback_collected.v1",
        "outreach.session.closed.v1",
    ]
    data = json.loads(next(body for t, body in rows if t == "outreach.session.delivered.v1"))["data"]
    assert {k: data[k] for k in ("urn", "topic_id", "year_group", "key_stage", "pupils", "classes")} == {
        "urn": "100000", "topic_id": "healthy_eating", "year_group": "year_3", "key_stage": "ks2", "pupils": 28,
        "classes": 1,
    }  # fmt: skip
    for _, body in rows:
        assert "Sentinel" not in body

    summary = await outreach_app.client.get(f"/primary/terms/{session['term_id']}/summary", headers=coordinator)
    assert summary.status_code == 200, summary.text
    assert summary.json()["delivered"] == {"sessions": 1, "pupils": 28, "classes": 1}
    assert summary.json()["by_topic"] == {"healthy_eating": {"sessions": 1, "pupils": 28, "classes": 1}}
    assert summary.json()["by_key_stage"]["ks2"]["pupils"] == 28
    assert summary.json()["sessions_by_state"]["closed"] == 1


async def test_a_cancellation_needs_a_reason_kept_for_coordinators_and_illegal_steps_are_409(
    outreach_app: Outreach,
) -> None:
    await outreach_app.register()
    the_term = await term(outreach_app)
    session = await plan(outreach_app, the_term["id"], year_group="reception")
    assert session["key_stage"] == "eyfs"
    sid = session["id"]
    url = f"/primary/sessions/{sid}/actions/cancel"
    without = await outreach_app.client.post(url, json={}, headers=outreach_app.coordinator)
    assert without.status_code == 409 and without.json()["detail"]["reasons"] == ["cancel needs a reason"]
    early = await outreach_app.client.post(
        f"/primary/sessions/{sid}/delivery",
        json={"pupils": 3, "classes": 1, "teacher_present_throughout": True},
        headers=outreach_app.coordinator,
    )
    assert early.status_code == 409 and early.json()["detail"]["state"] == "planned"
    cancelled = await outreach_app.client.post(url, json={"reason": REASON}, headers=outreach_app.coordinator)
    assert cancelled.json()["state"] == "cancelled" and cancelled.json()["cancel_reason"] == REASON
    student = await outreach_app.client.get(
        f"/primary/sessions/{sid}", headers=token(outreach_app, Role.STUDENT, STUDENT)
    )
    assert student.json()["cancel_reason"] is None
    again = await outreach_app.client.post(url, json={"reason": "x"}, headers=outreach_app.coordinator)
    assert again.status_code == 409
    assert all("Sentinel" not in body for _, body in await outreach_app.outbox())


async def test_a_session_cannot_be_delivered_before_its_day(outreach_app: Outreach) -> None:
    await outreach_app.register()
    the_term = await term(outreach_app)
    later = (TODAY.fromordinal(TODAY.toordinal() + 1)).isoformat()
    if later > the_term["ends_on"]:
        pytest.skip("the term ends today")
    session = await plan(outreach_app, the_term["id"], date=later)
    await act(outreach_app, session["id"], "review_plan")
    reply = await outreach_app.client.post(
        f"/primary/sessions/{session['id']}/delivery",
        json={"pupils": 3, "classes": 1, "teacher_present_throughout": True},
        headers=outreach_app.coordinator,
    )
    assert reply.status_code == 409 and "record its delivery on or after" in reply.json()["detail"]["message"]


@pytest.mark.parametrize(
    ("change", "code", "loc"),
    [
        ({"year_group": "Year 14"}, 422, ["body", "year_group"]),
        ({"year_group": "year_7"}, 422, ["body", "year_group"]),
        ({"urn": "12345"}, 422, ["body", "urn"]),
        ({"urn": "999999"}, 404, ["body", "urn"]),  # no such school
        ({"urn": "200000"}, 409, ["body", "urn"]),  # a secondary school
        ({"topic_id": "astrology"}, 404, ["body", "topic_id"]),
        ({"date": "2001-01-01"}, 409, ["body", "date"]),  # not within the term
        ({"date": 0}, 422, ["body", "date"]),  # a number is not a date
        ({"starts_at": 0}, 422, ["body", "starts_at"]),
        ({"ends_at": "09:00"}, 409, ["body", "ends_at"]),  # before it starts
        ({"level": "expert"}, 422, ["body", "level"]),
        ({"student_ids": []}, 422, ["body", "student_ids"]),
        ({"student_ids": [f"s{n}" for n in range(7)]}, 409, ["body", "student_ids"]),  # over the setting
        ({"term_id": "00000000-0000-4000-8000-000000000000"}, 404, ["body", "term_id"]),
    ],
)
async def test_a_bad_session_is_refused_naming_the_field_and_stores_nothing(
    outreach_app: Outreach, change: dict[str, Any], code: int, loc: list[str]
) -> None:
    await outreach_app.register()
    await outreach_app.register(urn="200000", laestab="2014000", phase="secondary")
    the_term = await term(outreach_app)
    reply = await outreach_app.client.post(
        "/primary/sessions", json=session_body(the_term["id"], **change), headers=outreach_app.coordinator
    )
    assert reply.status_code == code, reply.text
    assert reply.json()["detail"][0]["loc"] == loc
    assert await outreach_app.count(primary_sessions) == 0


@pytest.mark.parametrize(
    ("body", "code", "loc"),
    [
        ({"pupils": -1, "classes": 1, "teacher_present_throughout": True}, 422, ["body", "pupils"]),
        ({"pupils": 3, "classes": -1, "teacher_present_throughout": True}, 422, ["body", "classes"]),
        ({"pupils": 1, "classes": 2, "teacher_present_throughout": True}, 409, ["body", "pupils"]),
        ({"pupils": "many", "classes": 1, "teacher_present_throughout": True}, 422, ["body", "pupils"]),
        ({"pupils": 2.5, "classes": 1, "teacher_present_throughout": True}, 422, ["body", "pupils"]),
        ({"pupils": 3, "classes": 1}, 422, ["body", "teacher_present_throughout"]),
    ],
)
async def test_bad_delivery_counts_are_refused_and_change_nothing(
    outreach_app: Outreach, body: dict[str, Any], code: int, loc: list[str]
) -> None:
    await outreach_app.register()
    session = await plan(outreach_app, (await term(outreach_app))["id"])
    await act(outreach_app, session["id"], "review_plan")
    reply = await outreach_app.client.post(
        f"/primary/sessions/{session['id']}/delivery", json=body, headers=outreach_app.coordinator
    )
    assert reply.status_code == code and reply.json()["detail"][0]["loc"] == loc
    still = await outreach_app.client.get(f"/primary/sessions/{session['id']}", headers=outreach_app.coordinator)
    assert still.json()["state"] == "plan_reviewed" and still.json()["delivery"] is None


async def test_bad_feedback_is_refused_naming_the_field(outreach_app: Outreach) -> None:
    sid = (await delivered(outreach_app))["id"]
    too_many = [dict(row, happy=25) for row in PUPIL_COUNTS]  # 35 answers from 28 pupils
    missing = PUPIL_COUNTS[:-1]
    cases: list[tuple[str, dict[str, Any], int, list[Any]]] = [
        ("pupil-feedback", {"form_version": 1, "counts": too_many}, 409, ["body", "counts", 0]),
        ("pupil-feedback", {"form_version": 1, "counts": missing}, 409, ["body", "counts"]),
        ("pupil-feedback", {"form_version": 9, "counts": PUPIL_COUNTS}, 404, ["body", "form_version"]),
        ("pupil-feedback", {"form_version": 1.5, "counts": PUPIL_COUNTS}, 422, ["body", "form_version"]),
        ("teacher-feedback", {"form_version": 1, "scores": {**TEACHER_SCORES, "right_level": 6}}, 422,
         ["body", "scores", "right_level"]),
        ("teacher-feedback", {"form_version": 1, "scores": {**TEACHER_SCORES, "Not a key": 3}}, 422,
         ["body", "scores", "Not a key", "[key]"]),
        ("teacher-feedback", {"form_version": 1, "scores": {"right_level": 3}}, 409,
         ["body", "scores", "pupils_engaged"]),
    ]  # fmt: skip
    for route, body, code, loc in cases:
        reply = await outreach_app.client.put(
            f"/primary/sessions/{sid}/{route}", json=body, headers=outreach_app.coordinator
        )
        assert reply.status_code == code, (route, body, reply.text)
        assert reply.json()["detail"][0]["loc"][: len(loc)] == loc, reply.text
    session = (await outreach_app.client.get(f"/primary/sessions/{sid}", headers=outreach_app.coordinator)).json()
    assert session["pupil_feedback"] is None and session["teacher_feedback"] is None


async def test_a_new_form_version_leaves_the_old_one_and_its_answers_as_they_were(outreach_app: Outreach) -> None:
    sid = (await delivered(outreach_app))["id"]
    await outreach_app.client.put(
        f"/primary/sessions/{sid}/teacher-feedback",
        json={"form_version": 1, "scores": TEACHER_SCORES},
        headers=outreach_app.coordinator,
    )
    added = await outreach_app.client.post(
        "/primary/forms/teacher",
        json={"items": [{"key": "right_level", "text": "Right level"}, {"key": "safe", "text": "It felt safe"}]},
        headers=outreach_app.coordinator,
    )
    assert added.status_code == 201 and added.json()["version"] == 2
    forms = (await outreach_app.client.get("/primary/forms/teacher", headers=outreach_app.coordinator)).json()
    assert [f["version"] for f in forms] == [1, 2] and len(forms[0]["items"]) == 5
    session = (await outreach_app.client.get(f"/primary/sessions/{sid}", headers=outreach_app.coordinator)).json()
    assert session["teacher_feedback"]["form_version"] == 1 and session["teacher_feedback"]["scores"] == TEACHER_SCORES


async def test_students_see_their_own_sessions_and_reflections_only(outreach_app: Outreach) -> None:
    mine = await delivered(outreach_app)
    theirs = await plan(outreach_app, mine["term_id"], student_ids=[OTHER_STUDENT])
    me, other = token(outreach_app, Role.STUDENT, STUDENT), token(outreach_app, Role.STUDENT, OTHER_STUDENT)

    listed = (await outreach_app.client.get("/primary/sessions", headers=me)).json()
    assert [s["id"] for s in listed] == [mine["id"]]
    assert (await outreach_app.client.get(f"/primary/sessions/{theirs['id']}", headers=me)).status_code == 404
    for path, body in [
        ("delivery", {"pupils": 3, "classes": 1, "teacher_present_throughout": True}),
        ("reflection", {"text": "mine"}),
    ]:
        method = outreach_app.client.post if path == "delivery" else outreach_app.client.put
        assert (await method(f"/primary/sessions/{mine['id']}/{path}", json=body, headers=other)).status_code == 404

    await outreach_app.client.put(f"/primary/sessions/{mine['id']}/reflection", json={"text": REFLECTION}, headers=me)
    own = (await outreach_app.client.get(f"/primary/sessions/{mine['id']}/reflections", headers=me)).json()
    assert [r["text"] for r in own] == [REFLECTION] and own[0]["user_id"] == STUDENT
    everyone = await outreach_app.client.get(
        f"/primary/sessions/{mine['id']}/reflections", headers=outreach_app.coordinator
    )
    assert len(everyone.json()) == 1
    assert all("Sentinel" not in body for _, body in await outreach_app.outbox())


async def test_a_partner_sees_its_linked_school_sessions_and_nothing_else(outreach_app: Outreach) -> None:
    session = await delivered(outreach_app)
    await outreach_app.client.put(
        f"/primary/sessions/{session['id']}/teacher-feedback",
        json={"form_version": 1, "scores": TEACHER_SCORES, "comments": COMMENTS},
        headers=outreach_app.coordinator,
    )
    partner = await known_partner(outreach_app)
    charity = await known_partner(outreach_app, PartnerKind.CHARITY)
    url = "/schools/100000/partner"
    wrong_kind = await outreach_app.client.put(url, json={"partner_id": str(charity)}, headers=outreach_app.coordinator)
    assert wrong_kind.status_code == 422 and wrong_kind.json()["detail"][0]["loc"] == ["body", "partner_id"]
    linked = await outreach_app.client.put(url, json={"partner_id": str(partner)}, headers=outreach_app.coordinator)
    assert linked.status_code == 200, linked.text

    as_partner = token(outreach_app, Role.PARTNER, organisation=partner)
    stranger = token(outreach_app, Role.PARTNER)
    seen = await outreach_app.client.get(f"/primary/sessions/{session['id']}", headers=as_partner)
    assert seen.status_code == 200
    body = seen.json()
    assert body["delivery"]["pupils"] == 28 and body["teacher_feedback"]["comments"] is None
    assert body["student_ids"] is None and body["actions"] == []
    assert (await outreach_app.client.get(f"/primary/sessions/{session['id']}", headers=stranger)).status_code == 404
    assert [s["id"] for s in (await outreach_app.client.get("/primary/sessions", headers=as_partner)).json()] == [
        session["id"]
    ]
    assert (await outreach_app.client.get("/primary/sessions", headers=stranger)).json() == []
    for path in ("/primary/terms", "/primary/topics", f"/primary/sessions/{session['id']}/reflections"):
        assert (await outreach_app.client.get(path, headers=as_partner)).status_code == 403

    unlinked = await outreach_app.client.delete(url, headers=outreach_app.coordinator)
    assert unlinked.status_code == 204
    assert (await outreach_app.client.get(f"/primary/sessions/{session['id']}", headers=as_partner)).status_code == 404


async def test_a_bad_term_is_refused_naming_the_field(outreach_app: Outreach) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"academic_year": "2026/28"}, 409, "academic_year"),  # not consecutive years: a contradiction
        ({"academic_year": "26/27"}, 422, "academic_year"),
        ({"ends_on": "2000-01-01"}, 409, "ends_on"),
        ({"starts_on": 0}, 422, "starts_on"),  # a number is not a date
        ({"ends_on": "2027-03-26T00:00:00"}, 422, "ends_on"),
        ({"name": "  "}, 422, "name"),
    ]
    for change, code, field in cases:
        reply = await outreach_app.client.post(
            "/primary/terms", json={**_term(), **change}, headers=outreach_app.coordinator
        )
        assert reply.status_code == code and reply.json()["detail"][0]["loc"] == ["body", field], (change, reply.text)
    assert await outreach_app.count(primary_terms) == 0


def _term() -> dict[str, Any]:
    from services.outreach.tests.primary_support import TERM

    return dict(TERM)
