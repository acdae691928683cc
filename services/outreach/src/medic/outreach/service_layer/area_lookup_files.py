"""Reading the published lookup files, streamed in batches (the ONS postcode directory has ~2.7 million rows).

Every file is a CSV with a header line; columns are found by name (ignoring case, surrounding spaces, and treating
`_` as a space), in any order, and every other column is ignored. UTF-8, with or without a byte-order mark.

- `onspd` (ONS Postcode Directory): `pcds` (the postcode); `lsoa11`, `msoa11` (required), `lsoa21`, `msoa21`
  (read when present: older directories lack them). A blank area cell means "none" (e.g. outside England and
  Wales). Every other column (`pcd`, `doterm`, `oslaua`, ...) is ignored.
- `polar4` (Office for Students, by MSOA 2011): the area in `MSOA11CD` (or `MSOA code`, `MSOA 2011 code`); the
  value in `POLAR4 quintile` (or `POLAR4_QUINTILE`, `Quintile`).
- `tundra_lsoa` (OfS, by LSOA): the area in `LSOA11CD` (or `LSOA code`, `LSOA 2011 code`) for 2011 areas, or
  `LSOA21CD` (or `LSOA 2021 code`) for 2021 areas; the value in `TUNDRA LSOA quintile` (or
  `TUNDRA_LSOA_QUINTILE`, `TUNDRA quintile`, `Quintile`).
- `tundra_msoa` (OfS, by MSOA): the area in `MSOA11CD` (or `MSOA code`, `MSOA 2011 code`) or `MSOA21CD` (or
  `MSOA 2021 code`); the value in `TUNDRA MSOA quintile` (or `TUNDRA_MSOA_QUINTILE`, `TUNDRA quintile`,
  `Quintile`).
- `imd` (English Indices of Deprivation, File 7 CSV): the area in `LSOA code (2011)` (the 2019 edition) or
  `LSOA code (2021)` (the 2025 edition); the values in
  `Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)` and
  `Income Deprivation Affecting Children Index (IDACI) Decile (where 1 is most deprived 10% of LSOAs)`.
  The IMD quintile is not read: it is derived as ceil(decile / 2).

The area column's name fixes the geography the edition is keyed by. A value cell that is blank or `N/A` means "no
value for this area" (the row is kept for its other values); anything else must be a whole number in range
(quintiles 1-5, deciles 1-10; `3.0` is read as 3). A bad line is reported by its number (the header is line 1)
and column; at most `MAX_ERRORS` are reported, and a file with any is not loaded.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from medic.outreach.domain.area_indicators import Areas, Geography, clean_area_code, clean_value, normalise_postcode
from medic.outreach.domain.indicators import AreaMeasure
from medic.shared.contracts.outreach.indicators import AreaDataset

MAX_ERRORS = 100
BATCH = 5000

PCDS = "pcds"
ONSPD_AREAS: dict[Geography, tuple[str, bool]] = {  # column, required
    Geography.LSOA11: ("lsoa11", True),
    Geography.MSOA11: ("msoa11", True),
    Geography.LSOA21: ("lsoa21", False),
    Geography.MSOA21: ("msoa21", False),
}
MSOA11 = ("MSOA11CD", "MSOA code", "MSOA 2011 code")
MSOA21 = ("MSOA21CD", "MSOA 2021 code")
LSOA11 = ("LSOA11CD", "LSOA code", "LSOA 2011 code")
LSOA21 = ("LSOA21CD", "LSOA 2021 code")
IMD_DECILE = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
IDACI_DECILE = "Income Deprivation Affecting Children Index (IDACI) Decile (where 1 is most deprived 10% of LSOAs)"


@dataclass(frozen=True)
class Layout:
    """Where a dataset's file keeps its area code (by geography) and its values."""

    areas: dict[Geography, tuple[str, ...]]
    values: dict[AreaMeasure, tuple[str, ...]]


LAYOUTS: dict[AreaDataset, Layout] = {
    AreaDataset.POLAR4: Layout(
        {Geography.MSOA11: MSOA11}, {AreaMeasure.POLAR4_QUINTILE: ("POLAR4 quintile", "Quintile")}
    ),
    AreaDataset.TUNDRA_LSOA: Layout(
        {Geography.LSOA11: LSOA11, Geography.LSOA21: LSOA21},
        {AreaMeasure.TUNDRA_LSOA_QUINTILE: ("TUNDRA LSOA quintile", "TUNDRA quintile", "Quintile")},
    ),
    AreaDataset.TUNDRA_MSOA: Layout(
        {Geography.MSOA11: MSOA11, Geography.MSOA21: MSOA21},
        {AreaMeasure.TUNDRA_MSOA_QUINTILE: ("TUNDRA MSOA quintile", "TUNDRA quintile", "Quintile")},
    ),
    AreaDataset.IMD: Layout(
        {Geography.LSOA11: ("LSOA code (2011)",), Geography.LSOA21: ("LSOA code (2021)",)},
        {AreaMeasure.IMD_DECILE: (IMD_DECILE,), AreaMeasure.IDACI_DECILE: (IDACI_DECILE,)},
    ),
}


def _name(header: str) -> str:
    return " ".join(header.replace("_", " ").split()).lower()


@dataclass(frozen=True)
class LineError:
    line: int
    column: str
    message: str


class LookupRejected(Exception):
    """The file has errors; nothing was loaded. At most `MAX_ERRORS` are listed."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = sorted(errors, key=lambda e: (e.line, e.column))


@dataclass
class Errors:
    found: list[LineError] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return len(self.found) >= MAX_ERRORS

    def add(self, line: int, column: str, message: str) -> None:
        if not self.full:
            self.found.append(LineError(line, column, message))

    def raise_any(self) -> None:
        if self.found:
            raise LookupRejected(self.found)


@dataclass(frozen=True)
class PostcodeRow:
    line: int
    postcode: str
    areas: Areas


@dataclass(frozen=True)
class ValueRow:
    line: int
    area_code: str
    values: dict[AreaMeasure, int]


class LookupFile:
    """A lookup file open for reading: its header is checked on opening (errors raise `LookupRejected` at once);
    `postcode_rows` / `value_rows` then stream its data rows in batches, recording bad lines in `errors`."""

    def __init__(self, stream: TextIO, dataset: AreaDataset) -> None:
        self.dataset = dataset
        self.errors = Errors()
        self.rows = 0
        self._reader = csv.reader(stream, strict=True)
        self._width = 0
        self._positions: dict[str, int] = {}  # the file's name of each column read: its position
        self.geography = Geography.POSTCODE
        self._area_column = PCDS
        self._value_columns: dict[AreaMeasure, str] = {}
        self._onspd_columns: dict[Geography, str] = {}
        header = self._header()
        self._find_columns(header)
        self.errors.raise_any()

    def _header(self) -> list[str]:
        for cells in self._lines():
            if any(cell.strip() for cell in cells):
                self._width = len(cells)
                return [cell.removeprefix("\ufeff") for cell in cells]
        self.errors.add(1, "header", "the file is empty: it needs a header line")
        self.errors.raise_any()
        return []

    def _lines(self) -> Iterator[list[str]]:
        try:
            yield from self._reader
        except csv.Error as error:
            self.errors.add(self._reader.line_num, "row", f"is not valid CSV: {error}")
        except UnicodeDecodeError:
            self.errors.add(self._reader.line_num + 1, "row", "is not UTF-8")

    def _locate(self, named: dict[str, int], names: tuple[str, ...]) -> tuple[str, int] | None:
        for name in names:
            if _name(name) in named:
                return name, named[_name(name)]
        return None

    def _find_columns(self, header: list[str]) -> None:
        named: dict[str, int] = {}
        for at, cell in enumerate(header):
            if _name(cell) in named:
                self.errors.add(1, cell.strip(), "column given twice")
            named.setdefault(_name(cell), at)
        if self.dataset is AreaDataset.ONSPD:
            self._find_onspd_columns(named)
            return
        layout = LAYOUTS[self.dataset]
        found = {g: hit for g, names in layout.areas.items() if (hit := self._locate(named, names)) is not None}
        if len(found) != 1:
            expected = " or ".join(f"`{names[0]}`" for names in layout.areas.values())
            problem = "column missing from the header" if not found else "give one area column only"
            self.errors.add(1, expected, problem)
        else:
            ((self.geography, (self._area_column, at)),) = found.items()
            self._positions[self._area_column] = at
        for measure, names in layout.values.items():
            hit = self._locate(named, names)
            if hit is None:
                self.errors.add(1, names[0], "column missing from the header")
            else:
                self._value_columns[measure] = hit[0]
                self._positions[hit[0]] = hit[1]

    def _find_onspd_columns(self, named: dict[str, int]) -> None:
        for column, required in ((PCDS, True), *ONSPD_AREAS.values()):
            if column in named:
                self._positions[column] = named[column]
            elif required:
                self.errors.add(1, column, "column missing from the header")
        self._onspd_columns = {g: c for g, (c, _) in ONSPD_AREAS.items() if c in self._positions}

    def _cells(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(line, the cells read) of each data row; blank lines are skipped, bad ones recorded."""
        for cells in self._lines():
            line = self._reader.line_num - sum(c.count("\n") for c in cells)
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != self._width:
                self.errors.add(line, "row", f"has {len(cells)} cells where the header has {self._width}")
                continue
            self.rows += 1
            yield line, {column: cells[at] for column, at in self._positions.items()}

    def postcode_rows(self) -> Iterator[list[PostcodeRow]]:
        """Batches of the directory's rows (ONSPD only)."""
        batch: list[PostcodeRow] = []
        for line, cells in self._cells():
            postcode = normalise_postcode(cells[PCDS])
            if postcode is None:
                self.errors.add(line, PCDS, "not a UK postcode (e.g. EC3A 5DE)")
                continue
            codes: dict[Geography, str | None] = {}
            for geography, column in self._onspd_columns.items():
                try:
                    codes[geography] = clean_area_code(cells[column])
                except ValueError as error:
                    self.errors.add(line, column, str(error))
            if len(codes) != len(self._onspd_columns):
                continue
            areas = Areas(**{g.value: c for g, c in codes.items()})
            batch.append(PostcodeRow(line, postcode, areas))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def value_rows(self) -> Iterator[list[ValueRow]]:
        """Batches of the file's areas and values (every dataset but ONSPD)."""
        batch: list[ValueRow] = []
        for line, cells in self._cells():
            try:
                code = clean_area_code(cells[self._area_column])
                if code is None:
                    raise ValueError("the area code is blank")
            except ValueError as error:
                self.errors.add(line, self._area_column, str(error))
                continue
            values: dict[AreaMeasure, int] = {}
            ok = True
            for measure, column in self._value_columns.items():
                try:
                    value = clean_value(measure, cells[column])
                except ValueError as error:
                    self.errors.add(line, column, str(error))
                    ok = False
                    continue
                if value is not None:
                    values[measure] = value
            if ok:
                batch.append(ValueRow(line, code, values))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def open_lookup(path: Path) -> TextIO:
    return path.open(encoding="utf-8-sig", newline="")
