"""Area-indicator lookup editions: a published lookup file (POLAR4, TUNDRA, the English Indices of Deprivation, the
ONS postcode directory) was loaded as a new edition, and the participants' area indicators were derived from it.

Only the dataset, edition and counts: never a postcode, an area code of a participant, or a participant id.
"""

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class AreaDataset(StrEnum):
    """The lookup files outreach loads. `onspd` maps postcodes to areas; the others give values by area."""

    ONSPD = "onspd"
    POLAR4 = "polar4"
    TUNDRA_LSOA = "tundra_lsoa"
    TUNDRA_MSOA = "tundra_msoa"
    IMD = "imd"


class IndicatorEditionLoadedV1(EventPayload):
    """A new edition of a lookup dataset was loaded; every participant with stored areas got its values (the
    values of earlier editions are kept). Loading an edition already loaded publishes nothing."""

    event_type: ClassVar[str] = "outreach.indicator_edition.loaded.v1"
    source: ClassVar[str] = SOURCE

    dataset: AreaDataset = Field(description="The lookup dataset.", examples=["imd"])
    edition: str = Field(description="The edition's label, e.g. the year of publication.", examples=["2025"])
    geography: str = Field(
        description="The areas the file is keyed by: `postcode`, `lsoa11`, `msoa11`, `lsoa21` or `msoa21`.",
        examples=["lsoa21"],
    )
    rows: int = Field(description="Data rows loaded from the file.", examples=[33755])
    participants_rederived: int = Field(
        description="Participants whose area indicators were derived from this edition.", examples=[120]
    )


PUBLISHED: tuple[type[EventPayload], ...] = (IndicatorEditionLoadedV1,)
