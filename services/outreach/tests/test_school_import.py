"""The GIAS school import on SQLite and PostgreSQL: columns read, errors by line and column, all or nothing,
idempotent on URN."""

import csv
import io

from hypothesis import HealthCheck, given, settings

from medic.outreach.adapters import orm
from services.outreach.tests.school_csv import gias_csv
from services.outreach.tests.school_support import FIXTURES, Outreach

SAMPLE = (FIXTURES / "gias_sample.csv").read_text()


def edited(text: str, line: int, column: str, value: str) -> str:
    """`text` with the cell at `line` (1 is the header) and `column` replaced."""
    rows = list(csv.reader(io.StringIO(text)))
    rows[line - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


async def test_the_sample_extract_is_imported_with_its_phases_and_funding(outreach_app: Outreach) -> None:
    reply = await outreach_app.import_csv(SAMPLE)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"created": 6, "updated": 0, "unchanged": 0}

    listed = await outreach_app.client.get("/schools", headers=outreach_app.coordinator)
    by_urn = {s["urn"]: s for s in listed.json()}
    assert {u: s["phase"] for u, s in by_urn.items()} == {
        "100000": "primary",
        "100001": "primary",
        "100002": "secondary",
        "100003": "special",
        "100004": "all_through",
        "100005": "sixteen_plus",
    }
    assert [u for u, s in by_urn.items() if not s["state_funded"]] == ["100004"]
    assert by_urn["100001"]["name"] == "Hillside Primary School, Camden"
    assert (by_urn["100001"]["postcode"], by_urn["100002"]["postcode"]) == ("NW1 2AB", "SE10 9NN")
    assert (by_urn["100002"]["laestab"], by_urn["100002"]["local_authority_name"]) == ("2034001", "Greenwich")
    assert [t for t, _ in await outreach_app.outbox()] == ["outreach.school.registered.v1"] * 6


async def test_importing_again_changes_nothing_and_a_changed_row_updates(outreach_app: Outreach) -> None:
    await outreach_app.import_csv(SAMPLE)
    again = await outreach_app.import_csv(SAMPLE)
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 6}
    assert len(await outreach_app.outbox()) == 6

    renamed = edited(SAMPLE, 3, "EstablishmentName", "Hillside Academy")
    reply = await outreach_app.import_csv(renamed)
    assert reply.json() == {"created": 0, "updated": 1, "unchanged": 5}
    (event_type, body) = (await outreach_app.outbox())[-1]
    assert event_type == "outreach.school.updated.v1"
    assert "Hillside Academy" in body and "100001" in body
    assert "HeadLastName" not in body and "Roe" not in body  # ignored columns go nowhere


async def test_every_bad_line_is_reported_by_line_and_column_and_nothing_is_imported(outreach_app: Outreach) -> None:
    await outreach_app.import_csv(SAMPLE)
    bad = edited(SAMPLE, 2, "URN", "12345")
    bad = edited(bad, 2, "EstablishmentName", "Renamed, but the file is bad")
    bad = edited(bad, 4, "Postcode", "NOWHERE")
    bad = edited(bad, 5, "PhaseOfEducation (name)", "Nursery")
    bad = edited(bad, 6, "LA (code)", "20")
    bad = edited(bad, 7, "EstablishmentNumber", "")
    bad += "100007,207,Kensington,1000,New School,x,Academies,Open,Primary,4,11,Road,London,W8 1AA,A,B\n"
    bad += "100007,207,Kensington,1000,Same URN,x,Academies,Open,Primary,4,11,Road,London,W8 1AA,A,B\n"
    reply = await outreach_app.import_csv(bad)

    assert reply.status_code == 422, reply.text
    assert [e["loc"] for e in reply.json()["detail"]] == [
        ["body", 2, "URN"],
        ["body", 4, "Postcode"],
        ["body", 5, "PhaseOfEducation (name)"],
        ["body", 6, "LA (code)"],
        ["body", 7, "EstablishmentNumber"],
        ["body", 9, "URN"],
    ]
    assert await outreach_app.count(orm.schools) == 6
    assert len(await outreach_app.outbox()) == 6  # the good new line (8) was not imported either


async def test_a_header_without_a_column_it_reads_is_refused(outreach_app: Outreach) -> None:
    without = "\n".join(line.split(",", 1)[1] for line in SAMPLE.splitlines())  # no URN column
    reply = await outreach_app.import_csv(without)
    assert reply.status_code == 422
    assert [e["loc"] for e in reply.json()["detail"]] == [["body", 1, "URN"]]
    assert await outreach_app.count(orm.schools) == 0


async def test_a_windows_1252_extract_is_read_and_other_media_types_refused(outreach_app: Outreach) -> None:
    accented = edited(SAMPLE, 2, "EstablishmentName", "École Élémentaire")
    reply = await outreach_app.import_csv(accented.encode("cp1252"))
    assert reply.status_code == 200, reply.text
    school = await outreach_app.client.get("/schools/100000", headers=outreach_app.coordinator)
    assert school.json()["name"] == "École Élémentaire"
    reply = await outreach_app.client.post(
        "/imports/schools", content=SAMPLE, headers={**outreach_app.coordinator, "Content-Type": "text/plain"}
    )
    assert reply.status_code == 415


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=gias_csv())
async def test_any_well_formed_extract_imports_and_then_is_unchanged(outreach_app: Outreach, text: str) -> None:
    before = await outreach_app.count(orm.schools)
    first = await outreach_app.import_csv(text)
    assert first.status_code == 200, first.text
    rows = len(list(csv.reader(io.StringIO(text)))) - 1
    assert sum(first.json().values()) == rows
    assert await outreach_app.count(orm.schools) == before + first.json()["created"]
    second = await outreach_app.import_csv(text)
    assert second.json() == {"created": 0, "updated": 0, "unchanged": rows}
