"""Reports and exports over HTTP: a seeded cohort's figures, the CSV files, filters, and who may ask.

One seeded database per backend serves every test here: they only read.
"""

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from medic.projects.adapters import orm
from medic.shared.auth import Role, issue_token
from medic.shared.csv_safe import FORMULA_STARTS
from services.projects.tests.test_partner_support import BACKENDS, Projects, running_projects

NOW = datetime(2026, 11, 25, tzinfo=UTC)
EVIL_PARTNER = "=cmd|' /C calc'!A0"  # a partner name a spreadsheet would run, if let
PROPOSAL: dict[str, Any] = {
    "need": {"summary": "Families report little access to fresh food"},
    "aim": {
        "what": "more fresh meals",
        "how_much": "20% more",
        "by_when": "2027-03-01",
        "target_population": "families",
    },
    "measures": [
        {
            "name": "meals",
            "type": "outcome",
            "definition": "a week",
            "data_source": "survey",
            "baseline": "2",
            "target": "3",
        }
    ],
}


@dataclass
class Seeded:
    app: Projects
    cohort: uuid.UUID
    other_cohort: uuid.UUID
    supervisors: dict[str, uuid.UUID]  # by user id
    partners: dict[str, str] = field(default_factory=dict)  # partner id by name
    projects: dict[str, str] = field(default_factory=dict)  # project id by group name

    async def get(self, path: str, headers: dict[str, str], **params: Any) -> Any:
        response = await self.app.client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response

    def report_path(self, cohort: uuid.UUID | None = None) -> str:
        return f"/cohorts/{cohort or self.cohort}/report"


def _people(count: int) -> list[dict[str, Any]]:
    return [
        {"id": uuid.uuid4(), "university_id": f"24{i:05d}", "name": f"Pupil Name{i}", "email": f"st{i}@uni.example"}
        for i in range(count)
    ]


async def _seed_setup(app: Projects) -> tuple[Seeded, dict[str, uuid.UUID]]:
    """Two cohorts; groups A, B (Dr Ahmed), C, E (Dr Brown) in 2026-27 and D (Dr Ahmed) in 2025-26."""
    cohort, other_cohort = uuid.uuid4(), uuid.uuid4()
    canal, hill = uuid.uuid4(), uuid.uuid4()
    supervisors = {"dr.ahmed": uuid.uuid4(), "dr.brown": uuid.uuid4()}
    placements = {"A": (cohort, canal), "B": (cohort, canal), "C": (cohort, hill), "E": (cohort, hill)}
    placements["D"] = (other_cohort, canal)
    supervised_by = {"A": "dr.ahmed", "B": "dr.ahmed", "C": "dr.brown", "E": "dr.brown", "D": "dr.ahmed"}
    groups = {name: uuid.uuid4() for name in placements}
    students = _people(len(groups))
    async with app.service.engine.begin() as connection:
        await connection.execute(
            insert(orm.cohorts),
            [
                {
                    "id": c,
                    "academic_year": year,
                    "placement_start": date(2027, 1, 4),
                    "placement_end": date(2027, 3, 12),
                }
                | {"min_group_size": 1, "max_group_size": 6, "created_at": NOW}
                for c, year in ((cohort, "2026-27"), (other_cohort, "2025-26"))
            ],
        )
        await connection.execute(
            insert(orm.practices),
            [
                {
                    "id": canal,
                    "name": "Canal Side Surgery",
                    "ods_code": "E85001",
                    "area": "Hammersmith",
                    "created_at": NOW,
                },
                {"id": hill, "name": "Hill Practice", "ods_code": "E85002", "area": "Fulham", "created_at": NOW},
            ],
        )
        await connection.execute(
            insert(orm.supervisors),
            [
                {
                    "id": sid,
                    "user_id": user,
                    "name": f"Dr Tutor{user}",
                    "email": f"{user}@nhs.example",
                    "created_at": NOW,
                }
                for user, sid in supervisors.items()
            ],
        )
        await connection.execute(insert(orm.students), [s | {"created_at": NOW} for s in students])
        await connection.execute(
            insert(orm.groups),
            [
                {"id": groups[name], "cohort_id": c, "practice_id": p, "name": name, "created_at": NOW}
                for name, (c, p) in placements.items()
            ],
        )
        await connection.execute(
            insert(orm.group_students),
            [
                {"group_id": groups[name], "student_id": student["id"], "cohort_id": placements[name][0]}
                for name, student in zip(placements, students, strict=True)
            ],
        )
        await connection.execute(
            insert(orm.group_supervisors),
            [{"group_id": groups[name], "supervisor_id": supervisors[user]} for name, user in supervised_by.items()],
        )
    return Seeded(app, cohort, other_cohort, supervisors), groups


class Driver:
    """Takes one project through the lifecycle over HTTP, as a coordinator (who may do every step)."""

    def __init__(self, app: Projects, project_id: str) -> None:
        self.app, self.id = app, project_id

    async def send(self, method: str, path: str, body: dict[str, Any], code: int = 200) -> None:
        response = await self.app.client.request(
            method, f"/projects/{self.id}/{path}", json=body, headers=self.app.coordinator
        )
        assert response.status_code == code, response.text

    async def act(self, *actions: str, reason: str | None = None) -> None:
        for action in actions:
            await self.send("POST", f"actions/{action}", {"reason": reason})

    async def approve(self, title: str, topic: str, partners: list[str]) -> None:
        await self.send("PUT", "proposal", {**PROPOSAL, "title": title, "topic": topic, "partner_ids": partners})
        await self.act("submit_proposal", "approve")

    async def deliver(self, *reaches: dict[str, int]) -> None:
        governance = {
            "classification": "service_evaluation",
            "classification_reason": "a service",
            "risk_assessment": "low",
        }
        await self.send("PUT", "governance", governance)
        await self.act("clear_governance", "start_delivery")
        for reach in reaches:
            session = {"held_on": "2027-01-20", "place": "Community hall", "format": "workshop", "reach": reach}
            await self.send("POST", "delivery-sessions", session, code=201)

    async def progress(self, ihi_score: float, **codes: Any) -> None:
        await self.send("PUT", "progress", {"ihi_score": ihi_score, "audit_codes": codes})


async def _seed(app: Projects) -> Seeded:
    seeded, groups = await _seed_setup(app)
    for name in ("Riverside Food Bank", "Northside Youth Network", EVIL_PARTNER):
        seeded.partners[name] = (await app.register(name=name))["id"]
    riverside, northside, evil = (
        seeded.partners[n] for n in ("Riverside Food Bank", "Northside Youth Network", EVIL_PARTNER)
    )

    async def start(group: str, title: str, topic: str, partners: list[str]) -> Driver:
        body = {"group_id": str(groups[group]), "title": title, "topic": topic, "partner_ids": partners}
        response = await app.client.post("/projects", json=body, headers=app.coordinator)
        assert response.status_code == 201, response.text
        seeded.projects[group] = response.json()["id"]
        return Driver(app, response.json()["id"])

    a = await start("A", "Cooking on a budget", "nutrition", [riverside, northside])
    await a.approve("Cooking on a budget", "nutrition", [riverside, northside])
    await a.deliver({"adults": 14, "children": 6}, {"adults": 4, "carers": 2})
    await a.progress(3.5, needs_analysis=True, patient_involvement=True, topic="diet", format="workshop")
    await a.act("start_evaluation")

    b = await start("B", "Walks for wellbeing", "Nutrition", [northside])
    await b.send(
        "PUT",
        "proposal",
        {**PROPOSAL, "title": "Walks for wellbeing", "topic": "Nutrition"} | {"partner_ids": [northside]},
    )
    await b.act("submit_proposal")

    await start("C", "Formula or not", "=1+2", [evil])

    e = await start("E", "Stop smoking together", "smoking", [riverside])
    await e.approve("Stop smoking together", "smoking", [riverside])
    await e.deliver({"young_people": 30})
    await e.progress(2.0, needs_analysis=True, topic="Diet", format="talk")
    await e.act("pause", reason="the partner's hall is closed")

    await start("D", "Last year's cooking", "nutrition", [riverside])
    return seeded


@pytest.fixture(scope="module", params=BACKENDS)
async def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Seeded]:
    async with running_projects(request.param, tmp_path_factory.mktemp("reports")) as app:
        yield await _seed(app)


def auth_as(app: Projects, user: str, *roles: Role, organisation: uuid.UUID | None = None) -> dict[str, str]:
    """Headers of the user whose token's subject is `user` (a supervisor's user id, a student's university id)."""
    token = issue_token(app.service.settings, roles=roles, subject=user, organisation_id=organisation)
    return {"Authorization": f"Bearer {token}"}


def _supervisor(seeded: Seeded, user: str) -> dict[str, str]:
    return auth_as(seeded.app, user, Role.SUPERVISOR)


def _rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


# The report


async def test_a_coordinators_report_counts_the_whole_cohort(seeded: Seeded) -> None:
    report = (await seeded.get(seeded.report_path(), seeded.app.coordinator)).json()
    assert (report["academic_year"], report["scope"], report["projects"]) == ("2026-27", "cohort", 4)
    assert {state: n for state, n in report["by_state"].items() if n} == {
        "draft": 1,
        "proposed": 1,
        "evaluating": 1,
        "paused": 1,
    }
    assert len(report["by_state"]) == 13  # every state, so a chart needs no gaps filled
    # "nutrition" and "Nutrition" are one topic, as the list's topic filter has it.
    assert report["by_topic"] == [
        {"label": "Nutrition", "projects": 2},
        {"label": "=1+2", "projects": 1},
        {"label": "smoking", "projects": 1},
    ]
    partners = {p["name"]: (p["partner_id"], p["projects"], p["as_lead"]) for p in report["by_partner"]}
    assert partners == {
        "Northside Youth Network": (seeded.partners["Northside Youth Network"], 2, 1),
        "Riverside Food Bank": (seeded.partners["Riverside Food Bank"], 2, 2),  # the other cohort's not counted
        EVIL_PARTNER: (seeded.partners[EVIL_PARTNER], 1, 1),
    }
    assert report["reach"]["total"] == 56 and report["reach"]["delivery_sessions"] == 3
    assert {a: n for a, n in report["reach"]["by_audience"].items() if n} == {
        "adults": 18,
        "children": 6,
        "carers": 2,
        "young_people": 30,
    }
    assert report["audit_codes"] == {
        "needs_analysis": 2,
        "patient_involvement": 1,
        "sustainable_impact": 0,
        "by_topic": [{"label": "Diet", "projects": 2}],
        "by_format": [{"label": "talk", "projects": 1}, {"label": "workshop", "projects": 1}],
    }
    scores = report["ihi_scores"]
    assert {s: n for s, n in scores["by_score"].items() if n} == {"2.0": 1, "3.5": 1} and scores["unscored"] == 2
    assert list(scores["by_score"]) == ["0.5", "1.0", "1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5", "5.0"]
    bands = {"0-39": 0, "40-49": 0, "50-59": 0, "60-69": 0, "70-100": 0}
    assert report["marks"] == {"by_band": bands, "not_moderated": 4}  # none moderated yet


async def test_a_report_names_no_person(seeded: Seeded) -> None:
    for path in (seeded.report_path(), seeded.report_path() + ".csv"):
        body = (await seeded.get(path, seeded.app.coordinator)).text
        assert "Pupil" not in body and "Tutor" not in body and "@uni.example" not in body


async def test_a_supervisor_reports_on_the_groups_they_supervise_only(seeded: Seeded) -> None:
    report = (await seeded.get(seeded.report_path(), _supervisor(seeded, "dr.ahmed"))).json()
    assert (report["scope"], report["projects"]) == ("supervised_groups", 2)  # A and B, not D of the other cohort
    assert {state: n for state, n in report["by_state"].items() if n} == {"proposed": 1, "evaluating": 1}
    assert report["reach"]["total"] == 26 and report["ihi_scores"]["by_score"]["3.5"] == 1
    brown = (await seeded.get(seeded.report_path(), _supervisor(seeded, "dr.brown"))).json()
    assert brown["projects"] == 2 and brown["reach"]["total"] == 30
    assert [t["label"] for t in brown["by_topic"]] == ["=1+2", "smoking"]


@pytest.mark.parametrize("suffix", ["", ".csv"])
async def test_unknown_cohorts_and_cohorts_a_supervisor_has_no_group_in_are_404(seeded: Seeded, suffix: str) -> None:
    client = seeded.app.client
    cases = [
        (seeded.report_path(uuid.uuid4()), seeded.app.coordinator),
        (seeded.report_path(), _supervisor(seeded, "dr.nobody")),  # supervises nothing
        (seeded.report_path(seeded.other_cohort), _supervisor(seeded, "dr.brown")),  # no group of theirs in it
    ]
    for path, headers in cases:
        response = await client.get(path + suffix, headers=headers)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "no such cohort"}
    assert (await client.get(seeded.report_path(seeded.other_cohort), headers=_supervisor(seeded, "dr.ahmed"))).json()[
        "projects"
    ] == 1


async def test_students_partners_and_ops_may_not_report_or_export(seeded: Seeded) -> None:
    client = seeded.app.client
    partner = uuid.UUID(seeded.partners["Riverside Food Bank"])
    callers = [
        auth_as(seeded.app, "2400000", Role.STUDENT),
        auth_as(seeded.app, "p.jones", Role.PARTNER, organisation=partner),
        seeded.app.auth(Role.OPS),
    ]
    for headers in callers:
        for path in (seeded.report_path(), seeded.report_path() + ".csv", "/projects/export.csv"):
            assert (await client.get(path, headers=headers)).status_code == 403, path
    # Supervisors report, but the export (every project) is for coordinators.
    assert (await client.get("/projects/export.csv", headers=_supervisor(seeded, "dr.ahmed"))).status_code == 403
    assert (await client.get(seeded.report_path())).status_code == 401


async def test_the_report_as_csv_rows(seeded: Seeded) -> None:
    response = await seeded.get(seeded.report_path() + ".csv", seeded.app.coordinator)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="cohort-2026-27-report.csv"'
    rows = _rows(response)
    assert rows[0] == ["section", "key", "count"]
    counts = {(section, key): int(count) for section, key, count in rows[1:]}
    assert len(counts) == len(rows) - 1  # no (section, key) twice
    evil = f"'{EVIL_PARTNER} ({seeded.partners[EVIL_PARTNER]})"
    assert {
        ("projects", "total"): 4,
        ("state", "evaluating"): 1,
        ("state", "closed"): 0,
        ("topic", "Nutrition"): 2,
        ("topic", "'=1+2"): 1,  # neutralised
        ("partner", f"Riverside Food Bank ({seeded.partners['Riverside Food Bank']})"): 2,
        ("partner", evil): 1,
        ("lead_partner", f"Northside Youth Network ({seeded.partners['Northside Youth Network']})"): 1,
        ("delivery", "sessions"): 3,
        ("reach", "adults"): 18,
        ("reach", "total"): 56,
        ("audit", "needs_analysis"): 2,
        ("audit_topic", "Diet"): 2,
        ("audit_format", "workshop"): 1,
        ("ihi_score", "3.5"): 1,
        ("ihi_score", "unscored"): 2,
        ("marks", "not_moderated"): 4,
    }.items() <= counts.items()
    assert all(not cell.startswith(FORMULA_STARTS) for row in rows for cell in row)


# The export


async def test_the_export_has_a_row_per_project_and_no_personal_data(seeded: Seeded) -> None:
    response = await seeded.get("/projects/export.csv", seeded.app.coordinator)
    assert response.headers["content-disposition"] == 'attachment; filename="projects.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")  # so Excel reads UTF-8
    header, *rows = _rows(response)
    assert header[:3] == ["id", "academic_year", "group"] and len(header) == 19
    # By academic year, then group.
    assert [row[0] for row in rows] == [seeded.projects[g] for g in ("D", "A", "B", "C", "E")]
    a = dict(zip(header, rows[1], strict=True))
    created = datetime.fromisoformat(a.pop("created_at"))
    assert created.tzinfo is not None and datetime.fromisoformat(a.pop("updated_at")) >= created
    assert a == {
        "id": seeded.projects["A"],
        "academic_year": "2026-27",
        "group": "A",
        "practice": "Canal Side Surgery",
        "ods_code": "E85001",
        "title": "Cooking on a budget",
        "topic": "nutrition",
        "state": "evaluating",
        "lead_partner": "Riverside Food Bank",
        "other_partners": "Northside Youth Network",
        "reach_total": "26",
        "needs_analysis": "yes",
        "patient_involvement": "yes",
        "sustainable_impact": "no",
        "audit_topic": "diet",
        "audit_format": "workshop",
        "ihi_score": "3.5",
    }
    c = dict(zip(header, rows[3], strict=True))
    assert (c["topic"], c["lead_partner"], c["ihi_score"], c["reach_total"]) == ("'=1+2", f"'{EVIL_PARTNER}", "", "0")
    assert all(not cell.startswith(FORMULA_STARTS) for row in rows for cell in row)
    text = response.content.decode("utf-8-sig")
    assert "Pupil" not in text and "@uni.example" not in text and "Tutor" not in text and "nhs.example" not in text


@pytest.mark.parametrize(
    ("filters", "groups"),
    [
        ({"cohort_id": "cohort"}, ["A", "B", "C", "E"]),
        ({"state": "paused"}, ["E"]),
        ({"partner_id": "Northside Youth Network"}, ["A", "B"]),
        ({"topic": "NUTRITION"}, ["D", "A", "B"]),
        ({"topic": "nutrition", "cohort_id": "cohort"}, ["A", "B"]),
        ({"q": "budget"}, ["A"]),
        ({"supervisor_id": "dr.brown"}, ["C", "E"]),
        ({"state": "closed"}, []),
    ],
)
async def test_the_export_takes_the_lists_filters(seeded: Seeded, filters: dict[str, str], groups: list[str]) -> None:
    params = dict(filters)
    if "cohort_id" in params:
        params["cohort_id"] = str(seeded.cohort)
    if "partner_id" in params:
        params["partner_id"] = seeded.partners[params["partner_id"]]
    if "supervisor_id" in params:
        params["supervisor_id"] = str(seeded.supervisors[params["supervisor_id"]])
    response = await seeded.get("/projects/export.csv", seeded.app.coordinator, **params)
    _, *rows = _rows(response)
    assert [row[0] for row in rows] == [seeded.projects[g] for g in groups]
    listed = await seeded.get("/projects", seeded.app.coordinator, **params)
    assert {row[0] for row in rows} == {p["id"] for p in listed.json()["items"]}  # what the list shows


@pytest.mark.parametrize("params", [{"state": "dreaming"}, {"cohort_id": "last-year"}, {"topic": "x" * 101}])
async def test_a_bad_filter_is_422_naming_it(seeded: Seeded, params: dict[str, str]) -> None:
    response = await seeded.app.client.get("/projects/export.csv", params=params, headers=seeded.app.coordinator)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", next(iter(params))]
