"""Area indicators: values that describe where a participant lives, looked up from the home postcode. No I/O.

A postcode resolves (through the ONS postcode directory) to its areas: the 2011 and 2021 LSOAs and MSOAs. Each
lookup dataset gives values by one kind of area, and each loaded edition of it is kept apart: IMD 2019 is by 2011
LSOA, IMD 2025 by 2021 LSOA, and both stay, so a report that asked for IMD 2019 still gets it.

- `polar4`: by MSOA 2011, `polar4_quintile`;
- `tundra_lsoa`: by LSOA 2011 (or 2021), `tundra_lsoa_quintile`;
- `tundra_msoa`: by MSOA 2011 (or 2021), `tundra_msoa_quintile`;
- `imd`: by LSOA 2011 (the 2019 edition) or LSOA 2021 (the 2025 edition), `imd_decile` and `idaci_decile`, and
  `imd_quintile` = ceil(imd_decile / 2).

Quintile 1 / decile 1 is the least participation or the most deprived.
"""

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from medic.outreach.domain.indicators import AreaMeasure
from medic.shared.contracts.outreach.indicators import AreaDataset

POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) *([0-9][A-Z]{2})")
AREA_CODE = re.compile(r"[A-Z][0-9]{8}")  # a GSS code: E01000001 (LSOA), E02000001 (MSOA), W01..., S01...
EDITION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")


class Geography(StrEnum):
    """What a lookup file is keyed by."""

    POSTCODE = "postcode"
    LSOA11 = "lsoa11"
    MSOA11 = "msoa11"
    LSOA21 = "lsoa21"
    MSOA21 = "msoa21"


# The measures each dataset's file gives (IMD's quintile is derived from its decile, not read).
MEASURES_READ: dict[AreaDataset, tuple[AreaMeasure, ...]] = {
    AreaDataset.ONSPD: (),
    AreaDataset.POLAR4: (AreaMeasure.POLAR4_QUINTILE,),
    AreaDataset.TUNDRA_LSOA: (AreaMeasure.TUNDRA_LSOA_QUINTILE,),
    AreaDataset.TUNDRA_MSOA: (AreaMeasure.TUNDRA_MSOA_QUINTILE,),
    AreaDataset.IMD: (AreaMeasure.IMD_DECILE, AreaMeasure.IDACI_DECILE),
}
# The largest value of each measure read (the smallest is 1).
MAXIMUM: dict[AreaMeasure, int] = {
    AreaMeasure.POLAR4_QUINTILE: 5,
    AreaMeasure.TUNDRA_LSOA_QUINTILE: 5,
    AreaMeasure.TUNDRA_MSOA_QUINTILE: 5,
    AreaMeasure.IMD_DECILE: 10,
    AreaMeasure.IMD_QUINTILE: 5,
    AreaMeasure.IDACI_DECILE: 10,
}


class UnknownPostcode(ValueError):
    """The postcode is not in the loaded postcode lookup (or is not a postcode at all)."""

    field = "home_postcode"

    def __init__(self) -> None:
        # The postcode itself is personal data: it is not repeated in the message (which may reach a log).
        super().__init__("the postcode is not in the postcode lookup")


class InvalidLookup(ValueError):
    """Bad input to a lookup load; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class LookupNotFound(InvalidLookup):
    """The input names something that is not there: a file not in the lookups directory, a postcode not in the
    postcode lookup."""


@dataclass(frozen=True)
class AreaIndicatorValue:
    """One value for a participant's area, with the dataset and edition it came from and when it was derived."""

    measure: AreaMeasure
    value: int
    dataset: str
    edition: str
    derived_at: datetime


@dataclass(frozen=True)
class Areas:
    """The areas a postcode lies in (None where the directory has none, e.g. outside England and Wales for
    LSOAs, or a 2021 code in an older directory)."""

    lsoa11: str | None = None
    msoa11: str | None = None
    lsoa21: str | None = None
    msoa21: str | None = None

    def code(self, geography: Geography) -> str | None:
        return {
            Geography.LSOA11: self.lsoa11,
            Geography.MSOA11: self.msoa11,
            Geography.LSOA21: self.lsoa21,
            Geography.MSOA21: self.msoa21,
        }.get(geography)

    def codes(self) -> set[str]:
        return {c for c in (self.lsoa11, self.msoa11, self.lsoa21, self.msoa21) if c is not None}


@dataclass(frozen=True)
class Edition:
    """A loaded edition of a lookup dataset."""

    dataset: AreaDataset
    edition: str
    geography: Geography
    file: str
    rows: int
    loaded_at: datetime


def normalise_postcode(value: str) -> str | None:
    """Upper case with one space before the inward code (` b10 0ab ` -> `B10 0AB`); None if it is not a postcode."""
    match = POSTCODE.fullmatch(value.strip().upper())
    return None if match is None else f"{match.group(1)} {match.group(2)}"


def clean_area_code(value: str) -> str | None:
    """A GSS area code, or None for a blank cell. Raises ValueError for anything else."""
    code = value.strip().upper()
    if not code:
        return None
    if not AREA_CODE.fullmatch(code):
        raise ValueError("an area code is a letter and 8 digits (e.g. E01000001)")
    return code


def clean_edition(value: str, field: str = "edition") -> str:
    edition = value.strip()
    if not EDITION.fullmatch(edition):
        raise InvalidLookup(field, "an edition is 1-20 letters, digits, '.', '_' or '-' (e.g. 2019)")
    return edition


def clean_value(measure: AreaMeasure, cell: str) -> int | None:
    """A quintile or decile from a file's cell; None for a blank (or N/A) cell. Raises ValueError otherwise."""
    text = cell.strip()
    if text.upper() in ("", "N/A", "NA"):
        return None
    try:
        number = float(text)  # some files write 3.0
    except ValueError:
        raise ValueError(f"{measure.value} must be a whole number from 1 to {MAXIMUM[measure]}") from None
    if not number.is_integer() or not 1 <= number <= MAXIMUM[measure]:
        raise ValueError(f"{measure.value} must be a whole number from 1 to {MAXIMUM[measure]}")
    return int(number)


def quintile_of_decile(decile: int) -> int:
    return math.ceil(decile / 2)


def derived_values(
    edition: Edition, looked_up: Mapping[AreaMeasure, int], *, derived_at: datetime
) -> list[AreaIndicatorValue]:
    """The values one edition gives for an area (its looked-up values, plus the IMD quintile from the decile)."""
    values = [
        AreaIndicatorValue(measure, looked_up[measure], edition.dataset.value, edition.edition, derived_at)
        for measure in MEASURES_READ[edition.dataset]
        if measure in looked_up
    ]
    if AreaMeasure.IMD_DECILE in looked_up:
        quintile = quintile_of_decile(looked_up[AreaMeasure.IMD_DECILE])
        values.append(
            AreaIndicatorValue(AreaMeasure.IMD_QUINTILE, quintile, edition.dataset.value, edition.edition, derived_at)
        )
    return values


def values_for_areas(
    areas: Areas,
    editions: Iterable[Edition],
    looked_up: Mapping[tuple[str, str, str], Mapping[AreaMeasure, int]],
    *,
    derived_at: datetime,
) -> list[AreaIndicatorValue]:
    """Every value derivable for `areas` from `editions`; `looked_up` is keyed by (dataset, edition, area code)."""
    values: list[AreaIndicatorValue] = []
    for edition in editions:
        code = areas.code(edition.geography)
        if code is None:
            continue
        found = looked_up.get((edition.dataset.value, edition.edition, code))
        if found:
            values.extend(derived_values(edition, found, derived_at=derived_at))
    return values
