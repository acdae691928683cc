"""Safeguarding over HTTP on SQLite and PostgreSQL: clearance and its reasons, as-of answers, corrections as new
events, certificate verification, the primary-school delivery guard, the timers, erasure, and no certificate
number (nor its last four digits) in any event, outbox row, log line or error."""

import asyncio
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from medic.outreach.service_layer import safeguarding
from medic.outreach.service_layer.safeguarding_timers import SafeguardingTimers
from medic.shared.auth import Role
from services.outreach.tests import primary_support as primary
from services.outreach.tests.safeguarding_support import (
    CERTIFICATE,
    NAME,
    PEOPLE,
    at,
    clear,
    clearance,
    record_check,
    record_training,
    register,
    set_clock,
)
from services.outreach.tests.school_support import Outreach

D1 = date(2026, 3, 10)
UNSUPERVISED, SUPERVISED = "unsupervised_or_regular", "supervised_occasional"


def _codes(answer: dict[str, object]) -> set[str]:
    return {u["code"] for u in answer["unmet"]}  # type: ignore[attr-defined]


async def test_wrong_workforce_or_overdue_recheck_is_not_cleared_for_unsupervised_contact_and_says_why(
    outreach_app: Outreach,
) -> None:
    set_clock(outreach_app, at(D1))
    await register(outreach_app, "2301234")
    await record_check(outreach_app, "2301234", workforce="adult", issued_on="2025-09-01")
    answer = await clearance(outreach_app, "2301234", UNSUPERVISED)
    assert not answer["cleared"] and _codes(answer) == {"dbs_workforce", "training_missing"}
    await record_training(outreach_app, "2301234", date(2025, 9, 10), date(2028, 9, 10))
    assert (await clearance(outreach_app, "2301234", SUPERVISED))["cleared"]
    workforce = (await clearance(outreach_app, "2301234", UNSUPERVISED))["unmet"]
    assert [u["code"] for u in workforce] == ["dbs_workforce"] and "child" in workforce[0]["message"]

    await register(outreach_app, "2301235")
    await record_check(outreach_app, "2301235", issued_on="2022-09-01")  # recheck due 2025-09-01
    await record_training(outreach_app, "2301235", date(2025, 9, 10), date(2028, 9, 10))
    overdue = await clearance(outreach_app, "2301235", UNSUPERVISED)
    assert not overdue["cleared"] and [u["message"] for u in overdue["unmet"]] == [
        "the DBS recheck was due on 2025-09-01"
    ]
    assert (await clearance(outreach_app, "2301235", UNSUPERVISED, as_of=date(2025, 8, 31)))[
        "unmet"
    ] != []  # not known then
    student = primary.token(outreach_app, Role.STUDENT, "2301235")
    own = await outreach_app.client.get(f"{PEOPLE}/2301235/clearance?contact={SUPERVISED}", headers=student)
    assert own.status_code == 200 and _codes(own.json()) == {"dbs_recheck_due"}
    other = await outreach_app.client.get(f"{PEOPLE}/2301234/clearance?contact={SUPERVISED}", headers=student)
    assert other.status_code == 404
    for far in (date.max, date.min):  # the ends of the calendar answer too
        assert (
            "dbs_recheck_due" in _codes(await clearance(outreach_app, "2301235", SUPERVISED, as_of=far))
            or far == date.min
        )


async def test_as_of_a_day_before_a_void_or_a_new_check_gives_the_earlier_answer(outreach_app: Outreach) -> None:
    person = "2301236"
    set_clock(outreach_app, at(D1))
    await register(outreach_app, person)
    first = await record_check(outreach_app, person, issued_on="2025-09-01")
    await record_training(outreach_app, person, date(2025, 9, 10), date(2028, 9, 10))
    set_clock(outreach_app, at(D1 + timedelta(days=2)))
    void = await outreach_app.client.post(
        f"{PEOPLE}/{person}/dbs-checks/{first['check_id']}/void",
        json={"reason": "wrong_details"},
        headers=outreach_app.coordinator,
    )
    assert void.status_code == 200 and void.json()["voided"] == "wrong_details" and void.json()["actions"] == []
    again = await outreach_app.client.post(
        f"{PEOPLE}/{person}/dbs-checks/{first['check_id']}/void",
        json={"reason": "duplicate"},
        headers=outreach_app.coordinator,
    )
    assert again.status_code == 409 and "voided" in again.json()["detail"]["detail"]
    set_clock(outreach_app, at(D1 + timedelta(days=4)))
    await record_check(outreach_app, person, issued_on="2025-09-01", level="enhanced")

    assert (await clearance(outreach_app, person, UNSUPERVISED, as_of=D1 + timedelta(days=1)))["cleared"]
    voided = await clearance(outreach_app, person, SUPERVISED, as_of=D1 + timedelta(days=3))
    assert _codes(voided) == {"no_dbs_check"}
    now = await clearance(outreach_app, person, SUPERVISED)
    assert now["cleared"] and now["level"] == "enhanced"
    assert _codes(await clearance(outreach_app, person, UNSUPERVISED)) == {"dbs_barred_list"}

    report = await outreach_app.client.get(
        f"/safeguarding/reports/cleared?on={(D1 + timedelta(days=1)).isoformat()}&contact={UNSUPERVISED}",
        headers=outreach_app.coordinator,
    )
    assert [c["person_id"] for c in report.json()["cleared"]] == [person]
    later = await outreach_app.client.get(
        f"/safeguarding/reports/cleared?on={(D1 + timedelta(days=3)).isoformat()}&contact={UNSUPERVISED}",
        headers=outreach_app.coordinator,
    )
    assert later.json()["cleared"] == [] and [c["person_id"] for c in later.json()["not_cleared"]] == [person]
    history = await outreach_app.client.get(f"{PEOPLE}/{person}/history", headers=outreach_app.coordinator)
    assert [e["type"] for e in history.json()] == [
        "person_registered",
        "dbs_check_recorded",
        "training_recorded",
        "dbs_check_voided",
        "dbs_check_recorded",
    ]


async def test_status_checks_renewal_verification_and_refusals(outreach_app: Outreach) -> None:
    person = "2301237"
    set_clock(outreach_app, at(D1))
    await register(outreach_app, person)
    duplicate = await outreach_app.client.post(
        PEOPLE, json={"person_id": person, "full_name": "Someone"}, headers=outreach_app.coordinator
    )
    assert duplicate.status_code == 409
    check = await record_check(outreach_app, person, issued_on="2023-01-10")
    assert check["recheck_due_on"] == "2026-01-10" and check["certificate_last_four"] == CERTIFICATE[-4:]
    url = f"{PEOPLE}/{person}/dbs-checks/{check['check_id']}"
    status = await outreach_app.client.post(
        f"{url}/update-service-checks",
        json={"checked_on": "2026-03-01", "result": "no_change"},
        headers=outreach_app.coordinator,
    )
    assert status.status_code == 201 and status.json()["recheck_due_on"] == "2029-03-01"
    future = await outreach_app.client.post(
        f"{url}/update-service-checks",
        json={"checked_on": "2026-04-01", "result": "no_change"},
        headers=outreach_app.coordinator,
    )
    assert future.status_code == 409 and future.json()["detail"][0]["loc"] == ["body", "checked_on"]
    matches = await outreach_app.client.post(
        f"{url}/verification", json={"certificate_number": CERTIFICATE}, headers=outreach_app.coordinator
    )
    wrong = await outreach_app.client.post(
        f"{url}/verification", json={"certificate_number": "000000000000"}, headers=outreach_app.coordinator
    )
    assert matches.json() == {"matches": True} and wrong.json() == {"matches": False}
    for in_progress in (True, True, False):
        reply = await outreach_app.client.put(
            f"{PEOPLE}/{person}/renewal", json={"in_progress": in_progress}, headers=outreach_app.coordinator
        )
        assert reply.status_code == 200 and reply.json()["renewal_in_progress"] is in_progress
    types = [t for t, _ in await outreach_app.outbox()]
    assert types.count("outreach.safeguarding_renewal.started.v1") == 1
    assert types.count("outreach.safeguarding_renewal.stopped.v1") == 1
    assert "outreach.dbs_check.update_service_checked.v1" in types
    update_service = await outreach_app.client.post(
        f"{PEOPLE}/{person}/dbs-checks",
        json={
            "level": "enhanced",
            "workforce": "child",
            "certificate_number": CERTIFICATE,
            "issued_on": "2025-01-01",
            "seen_how": "update_service",
        },
        headers=outreach_app.coordinator,
    )
    assert update_service.status_code == 409 and update_service.json()["detail"][0]["loc"] == [
        "body",
        "status_checked_on",
    ]
    unknown = await outreach_app.client.post(
        f"{PEOPLE}/nobody/dbs-checks",
        json={
            "level": "enhanced",
            "workforce": "child",
            "certificate_number": CERTIFICATE,
            "issued_on": "2025-01-01",
            "seen_how": "original_certificate",
        },
        headers=outreach_app.coordinator,
    )
    assert unknown.status_code == 404
    shown = (await outreach_app.client.get(f"{PEOPLE}/{person}", headers=outreach_app.coordinator)).json()
    assert shown["full_name"] == NAME and len(shown["dbs_checks"]) == 1
    listed = (await outreach_app.client.get(PEOPLE, headers=outreach_app.coordinator)).json()
    assert listed[0]["person_id"] == person and "full_name" not in listed[0]


async def test_a_delivery_is_refused_until_every_delivering_student_is_cleared_on_the_day(
    outreach_app: Outreach,
) -> None:
    await outreach_app.register()
    the_term = await primary.term(outreach_app)
    session = await primary.plan(outreach_app, the_term["id"], student_ids=["2301240", "2301241"])
    await primary.act(outreach_app, session["id"], "review_plan")
    await clear(outreach_app, "2301240")
    await register(outreach_app, "2301241")
    await record_check(outreach_app, "2301241", level="standard")
    url = f"/primary/sessions/{session['id']}/delivery"
    body = {"pupils": 28, "classes": 1, "teacher_present_throughout": True}
    refused = await outreach_app.client.post(url, json=body, headers=outreach_app.coordinator)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert detail["detail"] == "cannot record the delivery"
    assert {(u["subject"], u["code"]) for u in detail["unmet"]} == {
        ("2301241", "dbs_level"),
        ("2301241", "training_missing"),
    }
    still = await outreach_app.client.get(f"/primary/sessions/{session['id']}", headers=outreach_app.coordinator)
    assert still.json()["state"] == "plan_reviewed"
    await record_check(outreach_app, "2301241", level="enhanced", workforce="adult")
    today = date.today()
    await record_training(outreach_app, "2301241", today - timedelta(days=10), today + timedelta(days=300))
    delivered = await outreach_app.client.post(url, json=body, headers=outreach_app.coordinator)
    assert delivered.status_code == 200 and delivered.json()["state"] == "delivered"


async def test_a_delivery_without_a_teacher_present_throughout_needs_clearance_for_unsupervised_contact(
    outreach_app: Outreach,
) -> None:
    await outreach_app.register()
    the_term = await primary.term(outreach_app)
    session = await primary.plan(outreach_app, the_term["id"], student_ids=["2301242"])
    await primary.act(outreach_app, session["id"], "review_plan")
    await register(outreach_app, "2301242")
    await record_check(outreach_app, "2301242", level="enhanced", workforce="adult")
    today = date.today()
    await record_training(outreach_app, "2301242", today - timedelta(days=10), today + timedelta(days=300))
    url = f"/primary/sessions/{session['id']}/delivery"
    alone = {"pupils": 28, "classes": 1, "teacher_present_throughout": False}
    refused = await outreach_app.client.post(url, json=alone, headers=outreach_app.coordinator)
    assert refused.status_code == 409, refused.text
    assert {u["code"] for u in refused.json()["detail"]["unmet"]} == {"dbs_barred_list", "dbs_workforce"}
    supervised = {**alone, "teacher_present_throughout": True}
    delivered = await outreach_app.client.post(url, json=supervised, headers=outreach_app.coordinator)
    assert delivered.status_code == 200, delivered.text


async def test_reminders_fire_once_across_replicas_and_restarts(outreach_app: Outreach) -> None:
    person = "2301250"
    set_clock(outreach_app, at(D1))
    await register(outreach_app, person)
    await record_check(outreach_app, person, issued_on="2023-03-30")  # recheck due 2026-03-30
    await record_training(outreach_app, person, date(2025, 9, 10), date(2028, 9, 10))
    factory = outreach_app.service.app.state.uow_factory
    zone = ZoneInfo("Europe/London")

    def scheduler(day: date) -> SafeguardingTimers:
        timers = SafeguardingTimers(factory, interval_s=60, zone=zone)
        timers.now = lambda: at(day, 9)
        return timers

    async def fired(kind: str) -> list[str]:
        return [body for t, body in await outreach_app.outbox() if t == kind]

    await asyncio.gather(scheduler(D1).tick(), scheduler(D1).tick(), return_exceptions=True)  # 20 days before
    [thirty] = await fired("outreach.dbs_check.recheck_due.v1")
    assert '"days_before":30' in thirty.replace(" ", "") and '"due_on":"2026-03-30"' in thirty.replace(" ", "")
    assert await scheduler(D1).tick() == []  # restarted: nothing again
    # Down from the 14-day threshold to 5 days before: only the 7-day one fires, never the 14-day one late.
    assert len(await scheduler(date(2026, 3, 25)).tick()) == 1
    kinds = [b.replace(" ", "") for b in await fired("outreach.dbs_check.recheck_due.v1")]
    assert [('"days_before":7' in k) for k in kinds] == [False, True]
    await scheduler(date(2026, 3, 30)).tick()
    assert len(await fired("outreach.dbs_check.lapsed.v1")) == 1
    await scheduler(date(2026, 3, 31)).tick()
    assert len(await fired("outreach.dbs_check.lapsed.v1")) == 1


async def test_a_renewal_in_progress_pauses_recheck_reminders(outreach_app: Outreach) -> None:
    set_clock(outreach_app, at(D1))
    await register(outreach_app, "2301251")
    await record_check(outreach_app, "2301251", issued_on="2023-03-30")
    await outreach_app.client.put(
        f"{PEOPLE}/2301251/renewal", json={"in_progress": True}, headers=outreach_app.coordinator
    )
    timers = SafeguardingTimers(outreach_app.service.app.state.uow_factory, interval_s=60, zone=ZoneInfo("UTC"))
    timers.now = lambda: at(D1, 9)
    assert await timers.tick() == []


async def test_forgetting_a_person_deletes_their_details_and_keeps_the_checks_types_and_dates(
    outreach_app: Outreach,
) -> None:
    person = "2301260"
    set_clock(outreach_app, at(D1))
    await register(outreach_app, person)
    check = await record_check(outreach_app, person, issued_on="2025-09-01")
    await record_training(outreach_app, person, date(2025, 9, 10), date(2028, 9, 10))
    await outreach_app.client.put(
        f"{PEOPLE}/{person}/leaving", json={"left_on": "2026-03-01"}, headers=outreach_app.coordinator
    )
    uow = outreach_app.service.app.state.uow_factory()
    assert await safeguarding.people_left_before(uow, date(2026, 3, 2)) == [person]
    assert await safeguarding.people_left_before(uow, date(2026, 3, 1)) == []
    async with uow:
        await safeguarding.forget_person(uow, person, now=at(D1))
        await safeguarding.forget_person(uow, person, now=at(D1))  # idempotent
        await uow.commit()
    assert await safeguarding.people_left_before(uow, date(2026, 3, 2)) == []
    shown = (await outreach_app.client.get(f"{PEOPLE}/{person}", headers=outreach_app.coordinator)).json()
    assert shown["full_name"] is None and shown["erased"] is True
    assert (
        shown["dbs_checks"][0]["issued_on"] == "2025-09-01" and shown["dbs_checks"][0]["certificate_last_four"] is None
    )
    verify = await outreach_app.client.post(
        f"{PEOPLE}/{person}/dbs-checks/{check['check_id']}/verification",
        json={"certificate_number": CERTIFICATE},
        headers=outreach_app.coordinator,
    )
    assert verify.json() == {"matches": False}
    assert _codes(await clearance(outreach_app, person, SUPERVISED)) == {"person_left", "record_erased"}
    refused = await outreach_app.client.post(
        f"{PEOPLE}/{person}/training",
        json={"completed_on": "2026-01-01", "expires_on": "2027-01-01"},
        headers=outreach_app.coordinator,
    )
    assert refused.status_code == 409
    async with outreach_app.service.engine.connect() as connection:
        for table in ("safeguarding_person_names", "dbs_certificates"):
            assert (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() == 0
        dumped = str((await connection.execute(text("SELECT data FROM record_history"))).all())
    assert NAME not in dumped and CERTIFICATE not in dumped


async def test_an_erased_person_who_never_recorded_leaving_gets_no_reminders_and_is_not_reported_cleared(
    outreach_app: Outreach,
) -> None:
    person = "2301261"
    set_clock(outreach_app, at(D1 - timedelta(days=5)))
    await register(outreach_app, person)
    await record_check(outreach_app, person, issued_on="2023-03-30")  # recheck due 2026-03-30: a reminder is due
    await record_training(outreach_app, person, date(2025, 9, 10), date(2028, 9, 10))
    report = f"/safeguarding/reports/cleared?contact={SUPERVISED}&on={D1.isoformat()}"
    before = (await outreach_app.client.get(report, headers=outreach_app.coordinator)).json()
    assert [c["person_id"] for c in before["cleared"]] == [person]
    set_clock(outreach_app, at(D1))
    uow = outreach_app.service.app.state.uow_factory()
    async with uow:
        await safeguarding.forget_person(uow, person, now=at(D1, 9))  # no leaving day on record
        await uow.commit()
    timers = SafeguardingTimers(outreach_app.service.app.state.uow_factory, interval_s=60, zone=ZoneInfo("UTC"))
    timers.now = lambda: at(D1, 10)
    assert await timers.tick() == []
    after = (await outreach_app.client.get(report, headers=outreach_app.coordinator)).json()
    assert after["cleared"] == [] and {u["code"] for u in after["not_cleared"][0]["unmet"]} == {"record_erased"}
    earlier = f"/safeguarding/reports/cleared?contact={SUPERVISED}&on={(D1 - timedelta(days=1)).isoformat()}"
    then = (await outreach_app.client.get(earlier, headers=outreach_app.coordinator)).json()
    assert [c["person_id"] for c in then["cleared"]] == [person]  # as it stood before the erasure


_NOISE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9T:+.\-]{19,}|[0-9a-f]{32,}")


async def test_no_certificate_number_nor_its_last_four_in_events_outbox_logs_or_errors(
    outreach_app: Outreach, capfd: pytest.CaptureFixture[str]
) -> None:
    person = "2301270"
    set_clock(outreach_app, at(D1))
    await register(outreach_app, person)
    check = await record_check(
        outreach_app,
        person,
        issued_on="2025-09-01",
        seen_how="update_service",
        status_checked_on="2026-01-05",
        status_result="no_change",
    )
    url = f"{PEOPLE}/{person}/dbs-checks"
    errors = []
    for body in (
        {"certificate_number": CERTIFICATE[:-1] + "X"},  # 422: bad pattern
        {"certificate_number": CERTIFICATE, "issued_on": "2027-01-01"},  # 409: in the future
        {"certificate_number": CERTIFICATE, "seen_how": "original_certificate", "status_result": "changed"},  # 409
    ):
        full = {
            "level": "enhanced",
            "workforce": "child",
            "issued_on": "2025-09-01",
            "seen_how": "original_certificate",
            **body,
        }
        reply = await outreach_app.client.post(url, json=full, headers=outreach_app.coordinator)
        assert reply.status_code in (409, 422), reply.text
        errors.append(reply.text)
    bad = await outreach_app.client.post(
        f"{url}/{check['check_id']}/verification",
        json={"certificate_number": CERTIFICATE + "1"},
        headers=outreach_app.coordinator,
    )
    assert bad.status_code == 422
    errors.append(bad.text)
    await outreach_app.client.post(
        f"{url}/{check['check_id']}/void", json={"reason": "duplicate"}, headers=outreach_app.coordinator
    )
    outbox = await outreach_app.outbox()
    assert {"outreach.dbs_check.recorded.v1", "outreach.dbs_check.voided.v1"} <= {t for t, _ in outbox}
    logged = "".join(capfd.readouterr())
    assert "/safeguarding/people" in logged  # the request log is what is searched
    for where, texts in (("outbox", [b for _, b in outbox]), ("log", [logged]), ("errors", errors)):
        for text_ in texts:
            cleaned = _NOISE.sub("", text_)
            assert CERTIFICATE not in text_ and CERTIFICATE[-4:] not in cleaned, f"certificate in the {where}"
            assert NAME not in text_, f"name in the {where}"
