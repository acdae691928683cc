"""Area indicators: deriving a participant's values from the home postcode, loading lookup editions (and applying
each new one to every participant with stored areas), and looking a postcode up.

The postcode is resolved once, to its areas, which are stored by the participant's pseudonymous id; a later edition
is applied from those area codes, so loading one never reads personal details.
"""

import csv
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.area_indicators import (
    AreaIndicatorValue,
    Areas,
    Edition,
    Geography,
    InvalidLookup,
    LookupNotFound,
    UnknownPostcode,
    clean_edition,
    normalise_postcode,
    values_for_areas,
)
from medic.outreach.domain.indicators import AreaMeasure
from medic.outreach.service_layer.area_lookup_files import LookupFile, LookupRejected, open_lookup
from medic.shared.contracts.outreach.indicators import AreaDataset, IndicatorEditionLoadedV1
from medic.shared.events import Envelope
from medic.shared.logging import get_logger

log = get_logger(__name__)

MANIFEST = "manifest.csv"  # dataset,edition,file: what a fresh database is loaded with at startup
PARTICIPANT_PAGE = 500


@dataclass(frozen=True)
class LoadEdition:
    dataset: AreaDataset
    edition: str
    file: str  # a path under the lookups directory
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class LoadResult:
    edition: Edition
    participants_rederived: int
    already_loaded: bool


@dataclass(frozen=True)
class PostcodeLookup:
    postcode: str
    areas: Areas
    values: list[AreaIndicatorValue]


async def derive_for_participant(
    uow: OutreachUnitOfWork, participant_id: uuid.UUID, home_postcode: str, *, now: datetime
) -> list[AreaIndicatorValue]:
    """Resolves the postcode to its areas, stores them for the participant with every value every loaded edition
    gives (replacing what was stored for an earlier postcode), and returns the values. Runs in the caller's open
    unit of work and does not commit. Raises `UnknownPostcode` (field `home_postcode`) for a postcode not in the
    postcode lookup."""
    postcode = normalise_postcode(home_postcode)
    if postcode is None:
        raise UnknownPostcode()
    areas = await uow.area_indicators.areas_of(postcode)
    if areas is None:
        raise UnknownPostcode()
    values = await _values(uow, areas, now=now)
    await uow.area_indicators.set_participant_areas(participant_id, areas, now=now)
    await uow.area_indicators.forget_values(participant_id)
    await uow.area_indicators.add_participant_values({participant_id: values})
    return values


async def _values(uow: OutreachUnitOfWork, areas: Areas, *, now: datetime) -> list[AreaIndicatorValue]:
    editions = [e for e in await uow.area_indicators.editions() if e.geography is not Geography.POSTCODE]
    looked_up = await uow.area_indicators.looked_up(areas.codes(), editions)
    return values_for_areas(areas, editions, looked_up, derived_at=now)


async def lookup_postcode(postcode: str, uow: OutreachUnitOfWork, *, field: str = "postcode") -> PostcodeLookup:
    """A postcode's areas and the values every loaded edition gives them; nothing is stored."""
    normal = normalise_postcode(postcode)
    async with uow:
        areas = None if normal is None else await uow.area_indicators.areas_of(normal)
        if normal is None or areas is None:
            raise LookupNotFound(field, str(UnknownPostcode()))
        return PostcodeLookup(normal, areas, await _values(uow, areas, now=datetime.now(UTC)))


async def list_editions(uow: OutreachUnitOfWork) -> list[Edition]:
    async with uow:
        return await uow.area_indicators.editions()


def file_under(directory: Path, file: str, field: str = "file") -> Path:
    """`file` (relative to `directory`, or absolute) if it is a file inside `directory`; LookupNotFound otherwise."""
    root = directory.resolve()
    try:
        path = (root / file).resolve()
        inside = path.is_relative_to(root) and path != root
        found = inside and path.is_file()
    except (OSError, ValueError):  # a name the file system refuses (too long, a NUL)
        inside = found = False
    if not inside:
        raise LookupNotFound(field, "the file must be under the configured lookups directory")
    if not found:
        raise LookupNotFound(field, "no such file in the lookups directory")
    return path


async def load_edition(
    command: LoadEdition, uow: OutreachUnitOfWork, *, lookups_dir: Path, publish: bool = True
) -> LoadResult:
    """Loads one edition of a dataset from a file under `lookups_dir`, in one transaction: the lookup rows, the
    edition's record, and the values it gives every participant with stored areas (earlier editions' values are
    kept). Publishes `outreach.indicator_edition.loaded.v1` (unless `publish` is false: the startup load of a
    fresh database). An edition already loaded is left as it is: nothing is read, changed or published."""
    edition_label = clean_edition(command.edition)
    root = lookups_dir.resolve()  # noqa: ASYNC240 (no I/O worth a thread: the path is checked once)
    path = file_under(root, command.file)
    now = datetime.now(UTC)
    async with uow:
        await uow.area_indicators.lock_loading()
        existing = await uow.area_indicators.edition(command.dataset, edition_label)
        if existing is not None:
            return LoadResult(existing, participants_rederived=0, already_loaded=True)
        with open_lookup(path) as stream:
            lookup = LookupFile(stream, command.dataset)
            if command.dataset is AreaDataset.ONSPD:
                await _load_postcodes(lookup, uow)
            else:
                await _load_values(lookup, edition_label, uow)
        lookup.errors.raise_any()
        edition = Edition(
            dataset=command.dataset,
            edition=edition_label,
            geography=lookup.geography,
            file=path.relative_to(root).as_posix(),
            rows=lookup.rows,
            loaded_at=now,
        )
        await uow.area_indicators.record_edition(edition)
        rederived = 0 if edition.geography is Geography.POSTCODE else await _rederive(uow, edition, now=now)
        if publish:
            event = IndicatorEditionLoadedV1(
                dataset=edition.dataset,
                edition=edition.edition,
                geography=edition.geography.value,
                rows=edition.rows,
                participants_rederived=rederived,
            )
            subject = f"area-lookups/{edition.dataset.value}/{edition.edition}"
            await uow.publish(Envelope.wrap(event, subject=subject, correlation_id=command.correlation_id))
        await uow.commit()
    log.info(
        "area_lookups.edition_loaded",
        dataset=edition.dataset.value,
        edition=edition.edition,
        rows=edition.rows,
        participants_rederived=rederived,
    )
    return LoadResult(edition, participants_rederived=rederived, already_loaded=False)


async def _load_postcodes(lookup: LookupFile, uow: OutreachUnitOfWork) -> None:
    """The directory replaces the one loaded before. Duplicates are found per batch and against earlier batches
    in the database, so the file is never held in memory whole."""
    await uow.area_indicators.clear_postcodes()
    for batch in lookup.postcode_rows():
        first: dict[str, int] = {}
        keep = []
        for row in batch:
            if row.postcode in first:
                lookup.errors.add(row.line, "pcds", f"the same postcode as line {first[row.postcode]}")
            else:
                first[row.postcode] = row.line
                keep.append(row)
        earlier = await uow.area_indicators.known_postcodes(list(first))
        for row in keep:
            if row.postcode in earlier:
                lookup.errors.add(row.line, "pcds", "the same postcode as an earlier line")
        if lookup.errors.found:
            continue  # keep reading to report more lines; nothing will be committed
        await uow.area_indicators.add_postcodes([(row.postcode, row.areas) for row in keep])


async def _load_values(lookup: LookupFile, edition: str, uow: OutreachUnitOfWork) -> None:
    """Value files have one row per area (tens of thousands): duplicates are found with a set of the codes."""
    first: dict[str, int] = {}
    for batch in lookup.value_rows():
        rows: list[tuple[str, AreaMeasure, int]] = []
        for row in batch:
            if row.area_code in first:
                lookup.errors.add(row.line, "area", f"the same area as line {first[row.area_code]}")
                continue
            first[row.area_code] = row.line
            rows.extend((row.area_code, measure, value) for measure, value in row.values.items())
        if not lookup.errors.found:
            await uow.area_indicators.add_values(lookup.dataset, edition, rows)


async def _rederive(uow: OutreachUnitOfWork, edition: Edition, *, now: datetime) -> int:
    """Adds `edition`'s values for every participant with stored areas, a page at a time; returns how many
    participants were seen."""
    seen = 0
    after: uuid.UUID | None = None
    while page := await uow.area_indicators.participant_areas(after=after, limit=PARTICIPANT_PAGE):
        codes = {code for _, areas in page if (code := areas.code(edition.geography)) is not None}
        looked_up = await uow.area_indicators.looked_up(codes, [edition])
        values = {pid: values_for_areas(areas, [edition], looked_up, derived_at=now) for pid, areas in page}
        await uow.area_indicators.add_participant_values(values)
        seen += len(page)
        after = page[-1][0]
    return seen


@dataclass(frozen=True)
class ManifestEntry:
    dataset: AreaDataset
    edition: str
    file: str


def read_manifest(directory: Path) -> list[ManifestEntry]:
    """`manifest.csv` in the lookups directory (columns `dataset`, `edition`, `file`); none if it is absent."""
    path = directory / MANIFEST
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return [
            ManifestEntry(AreaDataset(row["dataset"].strip()), row["edition"].strip(), row["file"].strip())
            for row in csv.DictReader(stream)
            if any((value or "").strip() for value in row.values())
        ]


async def load_at_startup(unit_of_work: Callable[[], OutreachUnitOfWork], lookups_dir: Path) -> Sequence[Edition]:
    """A fresh database (no edition loaded yet) gets the editions the lookups directory's manifest lists, without
    events (no participant exists yet). A database with any edition is left alone: later editions are loaded on
    demand. A file with errors is logged (dataset, edition, the number of errors) and skipped."""
    if await list_editions(unit_of_work()):
        return []
    loaded = []
    for entry in read_manifest(lookups_dir):
        command = LoadEdition(entry.dataset, entry.edition, entry.file, correlation_id=uuid.uuid4())
        try:
            result = await load_edition(command, unit_of_work(), lookups_dir=lookups_dir, publish=False)
        except (LookupRejected, InvalidLookup) as error:
            errors = len(error.errors) if isinstance(error, LookupRejected) else 1
            log.error(
                "area_lookups.startup_load_failed", dataset=entry.dataset.value, edition=entry.edition, errors=errors
            )
            continue
        loaded.append(result.edition)
    return loaded
