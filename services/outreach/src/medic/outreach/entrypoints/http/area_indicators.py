"""HTTP API: the area-indicator lookups (loaded editions, loading a new one, looking a postcode up). Coordinators
only. Loading reads a file already on the server, under the configured lookups directory (`OUTREACH_LOOKUPS_DIR`):
the real files are large (the ONS postcode directory is ~2.7 million rows), so they are copied there rather than
uploaded through the API."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.service_layer import area_indicators as handlers
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from .area_indicator_models import (
    EditionOut,
    LoadEditionIn,
    LoadOut,
    PostcodeIn,
    PostcodeLookupOut,
    answering_errors,
    responses,
)
from .dependencies import unit_of_work

router = APIRouter(tags=["area indicators"])

UnitOfWork = Annotated[OutreachUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]


@router.get("/area-lookups", summary="The lookup editions loaded")
async def list_editions(uow: UnitOfWork, _: Coordinator) -> list[EditionOut]:
    return [EditionOut.of(edition) for edition in await handlers.list_editions(uow)]


@router.post(
    "/area-lookups",
    summary="Load an edition of a lookup file",
    description="Reads the file (a path under `OUTREACH_LOOKUPS_DIR`) as the given dataset and edition, in one "
    "transaction: its rows, the edition's record (when, which file, how many rows), and the edition's values for "
    "every participant with stored areas (from their stored area codes; earlier editions' values are kept). "
    "Publishes `outreach.indicator_edition.loaded.v1`. A new `onspd` edition replaces the postcode directory "
    "(participants keep the areas already resolved). An edition already loaded is answered as it is "
    "(`already_loaded`): nothing is read, changed or published. Every bad line is reported (at most 100) in a 409 "
    'as `loc: ["body", "file", line, column]`, the header being line 1, and then nothing is loaded. A file not in '
    "the lookups directory is 404 on `file`. Columns read: see docs/outreach.md (Area indicators).",
    responses=responses(),
)
async def load_edition(request: Request, body: LoadEditionIn, uow: UnitOfWork, _: Coordinator) -> LoadOut:
    lookups_dir: Path = request.app.state.lookups_dir
    command = handlers.LoadEdition(
        dataset=body.dataset, edition=body.edition, file=body.file, correlation_id=correlation_id_from(request)
    )
    with answering_errors():
        return LoadOut.of(await handlers.load_edition(command, uow, lookups_dir=lookups_dir))


@router.post(
    "/area-lookups/postcode",
    summary="Look a postcode up",
    description="The postcode's areas and every value the loaded editions give them, for checking a file. "
    "Nothing is stored. A postcode not in the postcode directory is 404 on `postcode`. (A POST so that the "
    "postcode stays out of URLs and access logs.)",
    responses=responses(),
)
async def lookup_postcode(body: PostcodeIn, uow: UnitOfWork, _: Coordinator) -> PostcodeLookupOut:
    with answering_errors():
        return PostcodeLookupOut.of(await handlers.lookup_postcode(body.postcode, uow))
