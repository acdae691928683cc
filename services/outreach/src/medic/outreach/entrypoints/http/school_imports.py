"""HTTP API: import of schools from a CSV extract of Get Information About Schools (`text/csv` body)."""

from email.message import Message
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.school_commands import ImportSchools
from medic.outreach.service_layer import school_import
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from .dependencies import unit_of_work
from .school_models import ImportSummaryOut, answering_errors, responses

router = APIRouter(tags=["schools"])

CSV_MEDIA_TYPE = "text/csv"
CSV_FORMAT = "gias-schools-csv"
EXAMPLE = (
    "URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (name),"
    "EstablishmentTypeGroup (name),PhaseOfEducation (name),Postcode\n"
    "100000,201,City of London,3614,The Aldgate School,Voluntary aided school,Local authority maintained schools,"
    "Primary,EC3A 5DE\n"
)


async def _csv_text(request: Request) -> str:
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    if message.get_content_type() != CSV_MEDIA_TYPE:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"the request body must be {CSV_MEDIA_TYPE}")
    body = await request.body()
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp1252")  # GIAS's own downloads are Windows-1252
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the CSV file must be UTF-8 or Windows-1252") from None


@router.post(
    "/imports/schools",
    summary="Import schools from a Get Information About Schools CSV extract",
    description="The body is a CSV extract from Get Information About Schools (`Content-Type: text/csv`, UTF-8 "
    "or Windows-1252), its header line naming the columns in any order. Read: `URN` (the school's key), "
    "`LA (code)`, `LA (name)`, `EstablishmentNumber`, `EstablishmentName`, `PhaseOfEducation (name)`, "
    "`EstablishmentTypeGroup (name)`, `Postcode`; every other column is ignored. Phases: Primary and Middle "
    "deemed primary are `primary`, Secondary and Middle deemed secondary `secondary`, All-through `all_through`, "
    "16 plus `sixteen_plus`, Not applicable in the Special schools type group `special`; any other is refused. "
    "Independent schools are not state-funded; every other type group is. Every line is checked and every error "
    'reported at once as `loc: ["body", line, column]` (the header is line 1); when there is any, nothing is '
    "imported. Rows matching what is stored change nothing and publish nothing; changed rows update and publish "
    "`outreach.school.updated.v1`, new ones `outreach.school.registered.v1`. At most "
    f"{school_import.MAX_ROWS} rows per file.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                CSV_MEDIA_TYPE: {
                    "schema": {"type": "string", "format": CSV_FORMAT, "description": "A GIAS extract: see above"},
                    "example": EXAMPLE,
                }
            },
        }
    },
    responses=responses(400, 408, 415, 422),
)
async def import_schools(
    request: Request,
    uow: Annotated[OutreachUnitOfWork, Depends(unit_of_work)],
    _: Annotated[Principal, Depends(require_roles(Role.COORDINATOR))],
) -> ImportSummaryOut:
    command = ImportSchools(text=await _csv_text(request), correlation_id=correlation_id_from(request))
    with answering_errors():
        return ImportSummaryOut.of(await school_import.import_schools(command, uow))
