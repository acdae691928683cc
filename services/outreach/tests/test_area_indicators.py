"""Area indicators on SQLite and PostgreSQL: the samples loaded at startup, derivation for a participant, unknown
postcodes, a new edition re-derived for every participant (old values kept), idempotent reloads, and the
loader's line errors."""

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from medic.outreach.adapters.orm_area_indicators import area_lookup_values, participant_area_indicators, postcode_areas
from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.area_indicators import (
    AreaIndicatorValue,
    UnknownPostcode,
    normalise_postcode,
    quintile_of_decile,
)
from medic.outreach.domain.indicators import AreaMeasure
from medic.outreach.service_layer.area_indicators import derive_for_participant, load_at_startup
from medic.outreach.service_layer.area_lookup_files import IDACI_DECILE, IMD_DECILE
from medic.outreach.settings import SAMPLE_LOOKUPS
from services.outreach.tests.school_support import Outreach

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def by_edition(values: list[AreaIndicatorValue]) -> dict[tuple[str, str, AreaMeasure], int]:
    return {(v.dataset, v.edition, v.measure): v.value for v in values}


async def derive(app: Outreach, participant_id: uuid.UUID, postcode: str) -> list[AreaIndicatorValue]:
    uow: OutreachUnitOfWork = app.service.app.state.uow_factory()
    async with uow:
        values = await derive_for_participant(uow, participant_id, postcode, now=NOW)
        await uow.commit()
    return values


async def stored(app: Outreach, participant_id: uuid.UUID) -> list[AreaIndicatorValue]:
    uow: OutreachUnitOfWork = app.service.app.state.uow_factory()
    async with uow:
        return await uow.area_indicators.values_for(participant_id)


async def test_a_deprived_birmingham_postcode_gets_every_editions_values(outreach_app: Outreach) -> None:
    participant = uuid.uuid4()
    values = await derive(outreach_app, participant, " b10  0ab ")
    assert by_edition(values) == {
        ("polar4", "2017", AreaMeasure.POLAR4_QUINTILE): 1,
        ("tundra_lsoa", "2021", AreaMeasure.TUNDRA_LSOA_QUINTILE): 1,
        ("tundra_msoa", "2021", AreaMeasure.TUNDRA_MSOA_QUINTILE): 1,
        ("imd", "2019", AreaMeasure.IMD_DECILE): 1,
        ("imd", "2019", AreaMeasure.IMD_QUINTILE): 1,
        ("imd", "2019", AreaMeasure.IDACI_DECILE): 1,
        ("imd", "2025", AreaMeasure.IMD_DECILE): 1,
        ("imd", "2025", AreaMeasure.IMD_QUINTILE): 1,
        ("imd", "2025", AreaMeasure.IDACI_DECILE): 1,
    }
    assert all(v.derived_at == NOW for v in values)
    assert sorted(by_edition(await stored(outreach_app, participant)).items()) == sorted(by_edition(values).items())


async def test_imd_editions_use_their_own_lsoas_and_the_quintile_is_half_the_decile_rounded_up(
    outreach_app: Outreach,
) -> None:
    # B15 2TT: its 2011 LSOA E01009387 was split in 2021 (E01035601); 2019 ranks the old area, 2025 the new.
    values = by_edition(await derive(outreach_app, uuid.uuid4(), "B15 2TT"))
    assert values[("imd", "2019", AreaMeasure.IMD_DECILE)] == 5
    assert values[("imd", "2019", AreaMeasure.IMD_QUINTILE)] == 3
    assert values[("imd", "2025", AreaMeasure.IMD_DECILE)] == 6
    assert values[("imd", "2025", AreaMeasure.IMD_QUINTILE)] == 3
    high = by_edition(await derive(outreach_app, uuid.uuid4(), "L18 3HW"))
    assert (high[("imd", "2019", AreaMeasure.IMD_DECILE)], high[("imd", "2019", AreaMeasure.IMD_QUINTILE)]) == (10, 5)
    assert high[("polar4", "2017", AreaMeasure.POLAR4_QUINTILE)] == 4


async def test_areas_without_a_value_give_none_rather_than_a_guess(outreach_app: Outreach) -> None:
    # Cardiff: POLAR4 covers the UK, TUNDRA and the English IMD do not.
    assert set(by_edition(await derive(outreach_app, uuid.uuid4(), "CF10 1EP"))) == {
        ("polar4", "2017", AreaMeasure.POLAR4_QUINTILE)
    }
    # L1 8JQ's TUNDRA LSOA cell is N/A in the file: no value, the others are there.
    values = by_edition(await derive(outreach_app, uuid.uuid4(), "L1 8JQ"))
    assert ("tundra_lsoa", "2021", AreaMeasure.TUNDRA_LSOA_QUINTILE) not in values
    assert values[("tundra_msoa", "2021", AreaMeasure.TUNDRA_MSOA_QUINTILE)] == 2


@pytest.mark.parametrize("postcode", ["ZZ9 9ZZ", "not a postcode", ""])
async def test_an_unknown_postcode_is_refused_naming_the_field_and_stores_nothing(
    outreach_app: Outreach, postcode: str
) -> None:
    with pytest.raises(UnknownPostcode) as raised:
        await derive(outreach_app, uuid.uuid4(), postcode)
    assert raised.value.field == "home_postcode"
    assert postcode not in str(raised.value) or not postcode
    assert await outreach_app.count(participant_area_indicators) == 0


async def test_a_new_postcode_replaces_the_values_of_the_old_one(outreach_app: Outreach) -> None:
    participant = uuid.uuid4()
    await derive(outreach_app, participant, "B10 0AB")
    await derive(outreach_app, participant, "L18 3HW")
    values = by_edition(await stored(outreach_app, participant))
    assert values[("imd", "2019", AreaMeasure.IMD_DECILE)] == 10
    assert len(values) == 9


async def test_the_samples_are_loaded_once_into_a_fresh_database(outreach_app: Outreach) -> None:
    assert await outreach_app.count(postcode_areas) == 13
    # 12 POLAR4 + 10 TUNDRA MSOA + 10 TUNDRA LSOA (one N/A) + 2 x 11 x 2 IMD
    assert await outreach_app.count(area_lookup_values) == 12 + 10 + 10 + 44
    assert (SAMPLE_LOOKUPS / "manifest.csv").is_file()
    assert await outreach_app.outbox() == []  # the startup load publishes nothing


def write(directory: Path, name: str, text: str) -> str:
    (directory / name).write_text(text)
    return name


async def test_a_coordinator_looks_a_postcode_up_without_storing_anything(outreach_app: Outreach) -> None:
    reply = await outreach_app.client.post(
        "/area-lookups/postcode", json={"postcode": "ec3a5de"}, headers=outreach_app.coordinator
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["postcode"] == "EC3A 5DE"
    assert body["areas"] == {"lsoa11": "E01000005", "msoa11": "E02000001", "lsoa21": "E01000005", "msoa21": "E02000001"}
    found = {(v["dataset"], v["edition"], v["measure"]): v["value"] for v in body["values"]}
    assert found[("imd", "2019", "imd_decile")] == 3
    assert found[("imd", "2025", "idaci_decile")] == 3
    assert found[("polar4", "2017", "polar4_quintile")] == 5
    assert await outreach_app.count(participant_area_indicators) == 0

    unknown = await outreach_app.client.post(
        "/area-lookups/postcode", json={"postcode": "ZZ9 9ZZ"}, headers=outreach_app.coordinator
    )
    assert unknown.status_code == 404
    assert [e["loc"] for e in unknown.json()["detail"]] == [["body", "postcode"]]
    assert "ZZ9" not in unknown.text


async def test_the_editions_loaded_are_listed_with_their_file_and_rows(outreach_app: Outreach) -> None:
    reply = await outreach_app.client.get("/area-lookups", headers=outreach_app.coordinator)
    assert reply.status_code == 200
    listed = {(e["dataset"], e["edition"]): (e["geography"], e["file"], e["rows"]) for e in reply.json()}
    assert listed == {
        ("imd", "2019"): ("lsoa11", "imd2019_lsoa11_sample.csv", 11),
        ("imd", "2025"): ("lsoa21", "imd2025_lsoa21_sample.csv", 11),
        ("onspd", "sample"): ("postcode", "onspd_sample.csv", 13),
        ("polar4", "2017"): ("msoa11", "polar4_msoa11_sample.csv", 12),
        ("tundra_lsoa", "2021"): ("lsoa11", "tundra_lsoa11_sample.csv", 11),
        ("tundra_msoa", "2021"): ("msoa11", "tundra_msoa11_sample.csv", 10),
    }


async def load(app: Outreach, dataset: str, edition: str, file: str) -> httpx.Response:
    body = {"dataset": dataset, "edition": edition, "file": file}
    return await app.client.post("/area-lookups", json=body, headers=app.coordinator)


TUNDRA_2024 = "LSOA11CD,LSOA11NM,TUNDRA LSOA quintile\nE01009150,Birmingham 088A,2\nE01006618,Liverpool 056D,4\n"


async def test_a_new_edition_is_derived_for_every_participant_keeping_the_old_values(
    outreach_app: Outreach, tmp_path: Path
) -> None:
    outreach_app.service.app.state.lookups_dir = tmp_path
    deprived, high, welsh = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for participant, postcode in ((deprived, "B10 0AB"), (high, "L18 3HW"), (welsh, "CF10 1EP")):
        await derive(outreach_app, participant, postcode)
    before = await outreach_app.count(participant_area_indicators)

    reply = await load(outreach_app, "tundra_lsoa", "2024", write(tmp_path, "tundra_2024.csv", TUNDRA_2024))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["already_loaded"], body["participants_rederived"]) == (False, 3)
    assert (body["edition"]["rows"], body["edition"]["geography"], body["edition"]["file"]) == (
        2,
        "lsoa11",
        "tundra_2024.csv",
    )
    values = by_edition(await stored(outreach_app, deprived))
    assert values[("tundra_lsoa", "2021", AreaMeasure.TUNDRA_LSOA_QUINTILE)] == 1  # kept
    assert values[("tundra_lsoa", "2024", AreaMeasure.TUNDRA_LSOA_QUINTILE)] == 2  # added
    assert by_edition(await stored(outreach_app, high))[("tundra_lsoa", "2024", AreaMeasure.TUNDRA_LSOA_QUINTILE)] == 4
    assert await outreach_app.count(participant_area_indicators) == before + 2  # none for the Welsh postcode

    events = await outreach_app.outbox()
    assert [t for t, _ in events] == ["outreach.indicator_edition.loaded.v1"]
    data = json.loads(events[0][1])["data"]
    assert data == {
        "dataset": "tundra_lsoa",
        "edition": "2024",
        "geography": "lsoa11",
        "rows": 2,
        "participants_rederived": 3,
    }
    assert str(deprived) not in events[0][1] and "B10" not in events[0][1]

    # The same edition again: nothing read, changed or published, even from another file.
    again = await load(outreach_app, "tundra_lsoa", "2024", write(tmp_path, "other.csv", "not,a,lookup\n"))
    assert again.status_code == 200, again.text
    assert (again.json()["already_loaded"], again.json()["edition"]["file"]) == (True, "tundra_2024.csv")
    assert len(await outreach_app.outbox()) == 1
    assert await outreach_app.count(participant_area_indicators) == before + 2


async def test_a_new_postcode_directory_replaces_the_old_and_keeps_participants_areas(
    outreach_app: Outreach, tmp_path: Path
) -> None:
    outreach_app.service.app.state.lookups_dir = tmp_path
    participant = uuid.uuid4()
    await derive(outreach_app, participant, "B10 0AB")
    directory = (
        "pcd,pcds,lsoa11,msoa11,doterm\nM1 1AE,M1 1AE,E01005070,E02001045,\nb10 0ab,B10 0AB,E01009150,E02001895,\n"
    )
    reply = await load(outreach_app, "onspd", "2026-02", write(tmp_path, "onspd.csv", directory))
    assert reply.status_code == 200, reply.text
    assert (reply.json()["participants_rederived"], reply.json()["edition"]["rows"]) == (0, 2)
    assert await outreach_app.count(postcode_areas) == 2
    gone = await outreach_app.client.post(
        "/area-lookups/postcode", json={"postcode": "L18 3HW"}, headers=outreach_app.coordinator
    )
    assert gone.status_code == 404
    manchester = await outreach_app.client.post(
        "/area-lookups/postcode", json={"postcode": "M1 1AE"}, headers=outreach_app.coordinator
    )
    assert manchester.json()["areas"] == {"lsoa11": "E01005070", "msoa11": "E02001045", "lsoa21": None, "msoa21": None}
    assert len(by_edition(await stored(outreach_app, participant))) == 9


BAD_IMD = (
    f"LSOA code (2011),{IMD_DECILE},Unread column,{IDACI_DECILE}\n"
    "E01009150,1,x,1\n"
    "E0100915,1,x,1\n"  # line 3: not an area code
    "E01009151,11,x,0\n"  # line 4: both deciles out of range
    "\n"
    "E01009152,2,x\n"  # line 6: a cell missing
    "E01009150,3,x,3\n"  # line 7: the same area as line 2
    'E01009153,"3.5",x,N/A\n'  # line 8: not whole
    "E01009154,,x,\n"  # blank values: no value, not an error
)


async def test_bad_lines_are_reported_by_number_and_nothing_is_loaded(outreach_app: Outreach, tmp_path: Path) -> None:
    outreach_app.service.app.state.lookups_dir = tmp_path
    rows_before = await outreach_app.count(area_lookup_values)
    reply = await load(outreach_app, "imd", "2019-r", write(tmp_path, "imd.csv", BAD_IMD))
    assert reply.status_code == 409, reply.text  # the file contradicts the dataset named
    assert [tuple(e["loc"]) for e in reply.json()["detail"]] == [
        ("body", "file", 3, "LSOA code (2011)"),
        ("body", "file", 4, IDACI_DECILE),
        ("body", "file", 4, IMD_DECILE),
        ("body", "file", 6, "row"),
        ("body", "file", 7, "area"),
        ("body", "file", 8, IMD_DECILE),
    ]
    assert await outreach_app.count(area_lookup_values) == rows_before
    listed = await outreach_app.client.get("/area-lookups", headers=outreach_app.coordinator)
    assert ("imd", "2019-r") not in {(e["dataset"], e["edition"]) for e in listed.json()}
    assert await outreach_app.outbox() == []

    header = await load(outreach_app, "polar4", "2019", write(tmp_path, "polar.csv", "MSOA11CD,Rank\nE02000001,5\n"))
    assert header.status_code == 409
    assert [tuple(e["loc"]) for e in header.json()["detail"]] == [("body", "file", 1, "POLAR4 quintile")]

    postcodes = write(
        tmp_path, "pc.csv", "pcds,lsoa11,msoa11\nB1 1BB,E01009304,E02001875\nB11BB,E01009304,E02001875\nX,E1,E02\n"
    )
    bad = await load(outreach_app, "onspd", "2026-03", postcodes)
    assert bad.status_code == 409
    assert [tuple(e["loc"]) for e in bad.json()["detail"]] == [
        ("body", "file", 3, "pcds"),
        ("body", "file", 4, "pcds"),
    ]
    assert await outreach_app.count(postcode_areas) == 13


@pytest.mark.parametrize("file", ["../outside.csv", "/etc/passwd", "missing.csv", ".", "sub/../../outside.csv"])
async def test_a_file_outside_the_lookups_directory_is_refused(
    outreach_app: Outreach, tmp_path: Path, file: str
) -> None:
    inside = tmp_path / "lookups"
    inside.mkdir()
    (tmp_path / "outside.csv").write_text(TUNDRA_2024)
    outreach_app.service.app.state.lookups_dir = inside
    reply = await load(outreach_app, "tundra_lsoa", "2024", file)
    assert reply.status_code == 404, reply.text  # not a file in the lookups directory
    assert [e["loc"] for e in reply.json()["detail"]] == [["body", "file"]]
    assert await outreach_app.outbox() == []


async def test_a_database_with_editions_is_not_loaded_again_at_startup(outreach_app: Outreach) -> None:
    uow: OutreachUnitOfWork = outreach_app.service.app.state.uow_factory()
    assert await load_at_startup(lambda: outreach_app.service.app.state.uow_factory(), SAMPLE_LOOKUPS) == []
    async with uow:
        assert len(await uow.area_indicators.editions()) == 6


@pytest.mark.parametrize("decile, quintile", [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (9, 5), (10, 5)])
def test_the_imd_quintile_is_the_decile_halved_rounded_up(decile: int, quintile: int) -> None:
    assert quintile_of_decile(decile) == quintile


@pytest.mark.parametrize(
    "given, normal", [(" ec3a5de ", "EC3A 5DE"), ("b10  0ab", "B10 0AB"), ("M1 1AE", "M1 1AE"), ("1B 0AB", None)]
)
def test_postcodes_are_normalised_upper_case_with_one_space(given: str, normal: str | None) -> None:
    assert normalise_postcode(given) == normal
