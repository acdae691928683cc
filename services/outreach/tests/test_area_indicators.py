"""Area indicators on SQLite and PostgreSQL: the samples loaded at startup, derivation for a participant, unknown
postcodes, a new edition re-derived for every participant (old values kept), idempotent reloads, and the
loader's line errors."""

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medic.outreach.adapters.orm_area_indicators import area_lookup_values, participant_area_indicators, postcode_areas
from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.area_indicators import AreaIndicatorValue, UnknownPostcode
from medic.outreach.domain.indicators import AreaMeasure
from medic.outreach.service_layer.area_indicators import derive_for_participant
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
