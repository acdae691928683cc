"""The impact report: built from exact facts and rendered under a disclosure policy (no I/O), then over HTTP on
SQLite and PostgreSQL (JSON and CSV), and the research extract (over HTTP, filtered by research consent; its content
at the service layer)."""

import csv
import io
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from medic.outreach.domain.disclosure import HESA, NONE, OFS
from medic.outreach.domain.impact import (
    ApplicationFact,
    AreaValue,
    AttendanceFact,
    Facts,
    IndividualValue,
    ItemChangeFact,
    SurveyRun,
    build,
    csv_rows,
    extract_rows,
    render,
    stages,
)
from medic.outreach.domain.outcomes import Outcome
from medic.outreach.domain.watcch import State
from medic.outreach.service_layer import reports
from medic.shared.contracts.outreach.activities import ActivityKind, Attendance
from medic.shared.contracts.outreach.outcomes import CourseType, OutcomeSource, OutcomeStage
from services.outreach.tests.activity_support import cycle_with, register, schedule
from services.outreach.tests.primary_support import delivered
from services.outreach.tests.school_support import Outreach
from services.outreach.tests.survey_support import answer, questionnaire
from services.outreach.tests.watcch_support import SENTINELS, TODAY

CYCLE = uuid.UUID(int=7)


def application(
    n: int, state: State, *, cycle: str = "2026/27", eligible: bool = True, offered: bool = True
) -> ApplicationFact:
    return ApplicationFact(
        application_id=uuid.UUID(int=1000 + n),
        participant_id=uuid.UUID(int=n),
        cycle_id=CYCLE,
        cycle=cycle,
        urn="100000",
        school="The Aldgate School",
        state=state,
        eligible_at_set=eligible,
        offered_at_set=offered,
    )


def applied(n: int, stage: OutcomeStage = OutcomeStage.APPLIED) -> Outcome:
    return Outcome(
        uuid.uuid4(), uuid.UUID(int=n), stage, CourseType.MEDICINE, 2028, OutcomeSource.UCAS, date(2027, 10, 1)
    )


def section(report: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in report["sections"] if s["key"] == key)
    return found


def row(found: dict[str, Any], label: str) -> dict[str, Any]:
    value: dict[str, Any] = next(r for r in found["rows"] if r["label"] == label)
    return value


def test_stages_are_cumulative_and_a_withdrawal_keeps_what_it_had_reached() -> None:
    assert stages(application(1, State.COMPLETED)) == (1, 1, 1, 1, 1, 0)
    assert stages(application(1, State.WAITLISTED, offered=False)) == (1, 1, 0, 0, 0, 0)
    assert stages(application(1, State.INELIGIBLE, eligible=False, offered=False)) == (1, 0, 0, 0, 0, 0)
    assert stages(application(1, State.WITHDRAWN, offered=False)) == (1, 1, 0, 0, 0, 1)
    assert stages(application(1, State.WITHDRAWN, eligible=False, offered=False)) == (1, 0, 0, 0, 0, 1)


FACTS = Facts(
    applications=[application(n, State.ENROLLED) for n in range(1, 24)]
    + [application(24, State.SUBMITTED, eligible=False, offered=False)],
    area_values=[AreaValue(uuid.UUID(int=n), "polar4", "2019", "polar4_quintile", 1 + n % 2) for n in range(1, 20)],
    individual_values=[IndividualValue(uuid.UUID(int=1), "free_school_meals", "yes", "self_declared")],
    outcomes={uuid.UUID(int=n): [applied(n)] for n in range(1, 12)}
    | {uuid.UUID(int=1): [applied(1, OutcomeStage.ENROLLED)]},
)


def test_the_report_under_hesa_rounds_counts_and_names_its_policy() -> None:
    report = render(build(FACTS), HESA)
    assert report["policy"]["name"] == "hesa" and report["policy"]["rules"]
    cycles = section(report, "watcch_by_cycle")
    assert row(cycles, "2026/27")["values"] == {
        "applications": 25, "eligible": 25, "offered": 25, "enrolled": 25, "completed": 0, "withdrawn": 0,
    }  # fmt: skip
    assert "total" not in row(cycles, "2026/27")  # stages are cumulative: no row total
    assert cycles["totals"]["applications"] == 25
    polar = section(report, "area_indicator:polar4_quintile:polar4:2019")
    assert [r["label"] for r in polar["rows"]] == ["1", "2", "not known"]
    assert row(polar, "not known")["values"]["applications"] == 5  # 5 exact (20..24), rounded 5
    assert row(section(report, "individual_indicator:free_school_meals"), "yes")["values"]["applications"] == 0
    # 23 took part: 11 applied (of whom one enrolled) -> 48% of 23, shown; one cycle, so the overall equals it
    progression = section(report, "progression_applied")
    assert row(progression, "2026/27") == {"label": "2026/27", "numerator": 10, "denominator": 25, "percentage": 48.0}
    enrolled = row(section(report, "progression_by_course_type"), "medicine: enrolled")
    assert enrolled["numerator"] == 0 and enrolled["percentage"] == 4.0


def test_the_exact_view_is_exact_and_marked_not_for_publication() -> None:
    report = render(build(FACTS), NONE)
    assert report["policy"]["for_publication"] is False
    assert row(section(report, "watcch_by_cycle"), "2026/27")["values"]["applications"] == 24
    assert row(section(report, "individual_indicator:free_school_meals"), "yes")["values"]["applications"] == 1


def test_small_denominators_hide_percentages_and_small_groups_hide_means() -> None:
    few = Facts(
        applications=[application(n, State.ENROLLED) for n in range(1, 8)],
        outcomes={uuid.UUID(int=1): [applied(1)]},
        attendance=[
            AttendanceFact(uuid.UUID(int=n), uuid.UUID(int=99), CYCLE, "2026/27", ActivityKind.WORKSHOP,
                           Attendance.PRESENT, 90)
            for n in range(1, 8)
        ],
        surveys=[(SurveyRun(uuid.UUID(int=5), "Access", CYCLE, "2026/27"),
                  [ItemChangeFact("know", "I know", 9, 8, 8, Decimal("2.5"), Decimal("3.75"), Decimal("1.25")),
                   ItemChangeFact("belong", "I belong", 7, 7, 7, Decimal(2), Decimal(4), Decimal(2))])],
    )  # fmt: skip
    for policy in (HESA, OFS):
        report = render(build(few), policy)
        assert row(section(report, "progression_applied"), "2026/27")["percentage"] == policy.mark
        assert row(section(report, "attendance_hours"), "workshop")["values"]["mean_hours"] == policy.mark
        survey = section(report, f"survey_change:{uuid.UUID(int=5)}:{CYCLE}")
        assert row(survey, "know")["values"]["change"] == 1.3  # 1.25 to one place, halves up
        assert row(survey, "belong")["values"]["change"] == policy.mark
    exact = render(build(few), NONE)
    assert row(section(exact, "attendance_hours"), "workshop")["values"]["mean_hours"] == 1.5
    assert row(section(exact, "attendance"), "workshop")["values"]["present"] == 7


def test_csv_rows_start_with_the_policy_then_one_line_per_figure() -> None:
    lines = csv_rows(render(build(FACTS), HESA))
    assert lines[0] == ("policy", "name", "", "hesa")
    assert ("policy", "rule", "1", HESA.rules[0]) in lines
    assert ("watcch_by_cycle", "2026/27", "applications", 25) in lines
    assert ("watcch_by_cycle", "total", "applications", 25) in lines


def test_the_extract_has_one_row_per_participant_who_took_part() -> None:
    facts = Facts(
        applications=[application(1, State.ENROLLED), application(2, State.OFFERED),
                      application(3, State.WITHDRAWN), application(4, State.WITHDRAWN, offered=False)],
        area_values=[AreaValue(uuid.UUID(int=1), "imd", "2025", "imd_decile", 2)],
        outcomes={uuid.UUID(int=1): [applied(1)]},
    )  # fmt: skip
    rows = extract_rows(facts, {})
    assert [r.participant_id for r in rows] == [uuid.UUID(int=1), uuid.UUID(int=3)]
    assert rows[0].area_indicators[0].edition == "2025" and rows[0].outcomes[0].stage is OutcomeStage.APPLIED


# --- over HTTP ----------------------------------------------------------------------------------------------------


async def _programme(app: Outreach) -> tuple[str, list[str]]:
    """A primary session taught to 28 pupils; a WATCCH cycle: two enrolled, one offered, one completed; one
    attendance; an outcome; pre and post answers from one participant."""
    await delivered(app, urn="100001")
    cycle, ids = await cycle_with(app, 2, other_states=("offered", "completed"))
    activity = await schedule(app, cycle)
    await register(app, activity["id"], ids[0])
    put = await app.client.put(
        f"/activities/{activity['id']}/attendance/{ids[0]}", json={"attendance": "present"}, headers=app.coordinator
    )
    assert put.status_code == 200, put.text
    outcome = {"stage": "offered", "course_type": "nursing", "entry_year": TODAY.year + 1, "source": "ucas",
               "occurred_on": TODAY.isoformat()}  # fmt: skip
    recorded = await app.client.post(f"/participants/{ids[3]}/outcomes", json=outcome, headers=app.coordinator)
    assert recorded.status_code == 201, recorded.text
    q = await questionnaire(app)
    for kind, value in (("pre", 2), ("post", 4)):
        sent = await answer(app, q["id"], ids[0], cycle, kind, {"know_how_to_apply": value})
        assert sent.status_code == 201, sent.text
    return cycle, ids


async def test_the_impact_report_over_http(outreach_app: Outreach) -> None:
    app = outreach_app
    cycle, ids = await _programme(app)
    cancelled = await schedule(app, cycle)  # its places are not counted
    await register(app, cancelled["id"], ids[1])
    assert (await app.client.post(f"/activities/{cancelled['id']}/cancellation", headers=app.coordinator)).is_success
    exact = await app.client.get("/reports/impact", params={"policy": "none"}, headers=app.coordinator)
    assert exact.status_code == 200, exact.text
    body = exact.json()
    assert body["policy"]["name"] == "none"
    cycles = section(body, "watcch_by_cycle")
    assert list(cycles["rows"][0]["values"].values()) == [4, 4, 4, 3, 1, 0]
    assert section(body, "primary_by_key_stage")["totals"] == {"sessions": 1, "pupils": 28}
    assert row(section(body, "attendance"), "workshop")["values"] == {
        "present": 1, "late": 0, "absent": 0, "withdrawn": 0, "not_recorded": 0,
    }  # fmt: skip
    assert row(section(body, "progression_offered"), cycles["rows"][0]["label"])["numerator"] == 1
    survey = next(s for s in body["sections"] if s["key"].startswith("survey_change:"))
    assert row(survey, "know_how_to_apply")["values"]["change"] == 2.0

    published = await app.client.get("/reports/impact", headers=app.coordinator)
    body = published.json()
    assert body["policy"]["name"] == "hesa"
    assert list(section(body, "watcch_by_cycle")["rows"][0]["values"].values()) == [5, 5, 5, 5, 0, 0]
    assert section(body, "primary_by_key_stage")["totals"] == {"sessions": 0, "pupils": 30}
    assert row(section(body, "progression_offered"), cycles["rows"][0]["label"])["percentage"] == ".."
    survey = next(s for s in body["sections"] if s["key"].startswith("survey_change:"))
    assert row(survey, "know_how_to_apply")["values"]["change"] == ".."
    text = published.text + exact.text
    assert not any(value in text for value in SENTINELS.values())


async def test_the_report_as_csv(outreach_app: Outreach) -> None:
    await _programme(outreach_app)
    response = await outreach_app.client.get(
        "/reports/impact.csv", params={"policy": "ofs"}, headers=outreach_app.coordinator
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["section", "row", "column", "value"]
    assert lines[1] == ["policy", "name", "", "ofs"]
    cycle_rows = [line for line in lines if line[0] == "watcch_by_cycle" and line[2] == "applications"]
    assert cycle_rows[0][3] == "0"  # 4 applications to the nearest 10
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


async def test_an_unknown_policy_is_422_and_exact_figures_can_be_switched_off(outreach_app: Outreach) -> None:
    bad = await outreach_app.client.get("/reports/impact", params={"policy": "loose"}, headers=outreach_app.coordinator)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "policy"]
    state = outreach_app.service.app.state
    settings = state.settings
    state.settings = settings.model_copy(update={"report_exact_allowed": False})
    try:
        for path in ("/reports/impact", "/reports/impact.csv"):
            off = await outreach_app.client.get(path, params={"policy": "none"}, headers=outreach_app.coordinator)
            assert off.status_code == 422 and off.json()["detail"][0]["loc"] == ["query", "policy"]
        hesa = await outreach_app.client.get("/reports/impact", headers=outreach_app.coordinator)
        assert hesa.status_code == 200
    finally:
        state.settings = settings


async def test_the_research_extract_holds_no_one_without_research_consent(outreach_app: Outreach) -> None:
    """Served now that consent is recorded; those who took part but never consented to research are left out
    (test_consent_api.py follows participants in and out as consent is given and withdrawn)."""
    await _programme(outreach_app)
    response = await outreach_app.client.get("/reports/research-extract", headers=outreach_app.coordinator)
    assert response.status_code == 200 and response.json()["rows"] == []


async def test_the_research_extracts_content_at_the_service_layer(outreach_app: Outreach) -> None:
    _, ids = await _programme(outreach_app)
    rows = await reports.research_extract_rows(outreach_app.service.app.state.uow_factory())
    # enrolled, enrolled, completed took part; the one only offered did not
    assert sorted(str(r.participant_id) for r in rows) == sorted([ids[0], ids[1], ids[3]])
    first = next(r for r in rows if str(r.participant_id) == ids[0])
    assert [a.attendance for a in first.activities] == [Attendance.PRESENT]
    assert [(i.code, i.pre_mean, i.post_mean, i.change) for _, i in first.survey_change] == [
        ("know_how_to_apply", Decimal(2), Decimal(4), Decimal(2))
    ]
    assert {i.measure for i in first.individual_indicators} == {"free_school_meals", "parental_education"}
    completed = next(r for r in rows if str(r.participant_id) == ids[3])
    assert [(o.stage, o.course_type) for o in completed.outcomes] == [(OutcomeStage.OFFERED, CourseType.NURSING)]
    assert {r.cycle for r in rows} == {first.cycle} and first.cycle.count("/") == 1
    assert not any(value in repr(rows) for value in SENTINELS.values())


def test_attendance_rates_and_means_need_enough_distinct_participants_not_attendances() -> None:
    """3 participants at 8 workshops hold 24 places: still 3 people, so no percentage or mean is shown."""
    few_people = Facts(
        attendance=[
            AttendanceFact(uuid.UUID(int=p), uuid.UUID(int=100 + w), CYCLE, "2026/27", ActivityKind.WORKSHOP,
                           Attendance.ABSENT if (p, w) == (1, 1) else Attendance.PRESENT, 120)
            for p in range(1, 4)
            for w in range(1, 9)
        ],
    )  # fmt: skip
    for policy in (HESA, OFS):
        report = render(build(few_people), policy)
        rate = section(report, "attendance_rate")
        assert row(rate, "workshop")["percentage"] == policy.mark
        assert row(rate, "All activities")["percentage"] == policy.mark
        assert row(section(report, "attendance_hours"), "workshop")["values"]["mean_hours"] == policy.mark
    exact = render(build(few_people), NONE)  # the exact figures are kept: only rendering hides them
    assert row(section(exact, "attendance_rate"), "workshop")["percentage"] == 95.8
    assert row(section(exact, "attendance_hours"), "workshop")["values"]["mean_hours"] == 2.0
    # 23 people, one place each, are enough for a percentage; 8 people for a mean
    many_people = Facts(
        attendance=[
            AttendanceFact(uuid.UUID(int=p), uuid.UUID(int=100), CYCLE, "2026/27", ActivityKind.WORKSHOP,
                           Attendance.PRESENT, 90)
            for p in range(1, 24)
        ],
    )  # fmt: skip
    report = render(build(many_people), HESA)
    assert row(section(report, "attendance_rate"), "workshop")["percentage"] == 100.0
    assert row(section(report, "attendance_hours"), "workshop")["values"]["mean_hours"] == 1.5
