"""HTTP API: bulk import of practices, students and groups from CSV (`text/csv` bodies)."""

from collections.abc import Awaitable, Callable
from email.message import Message
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status

from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.setup_commands import ImportCsv
from medic.projects.service_layer import csv_import
from medic.shared.auth import Principal, Role, require_roles
from medic.shared.http import correlation_id_from

from .dependencies import unit_of_work
from .setup_models import ImportSummaryOut, answering_errors, responses

router = APIRouter(tags=["setup"])

CSV_MEDIA_TYPE = "text/csv"

COMMON = (
    "The body is a UTF-8 CSV file (`Content-Type: text/csv`) with a header line naming the columns, in any "
    'order. Every line is checked and every error reported at once, as `loc: ["body", line, column]` (the '
    "header is line 1); when there is any, nothing is imported. Rows matching what is stored change nothing and "
    "publish nothing, so the same file twice is harmless; changed rows update. At most "
    f"{csv_import.MAX_ROWS} rows per file."
)


def _csv_body(kind: str, example: str) -> dict[str, Any]:
    """The operation's body in its OpenAPI document: a CSV file of this kind (the format says which columns)."""
    schema = {"type": "string", "format": f"{kind}-csv", "description": f"A CSV file of {kind}: see the operation"}
    return {"requestBody": {"required": True, "content": {CSV_MEDIA_TYPE: {"schema": schema, "example": example}}}}


async def _csv_text(request: Request) -> str:
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    if message.get_content_type() != CSV_MEDIA_TYPE:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"the request body must be {CSV_MEDIA_TYPE}")
    try:
        return (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the CSV file must be UTF-8") from None


Importer = Callable[[ImportCsv, ProjectsUnitOfWork], Awaitable[csv_import.ImportSummary]]


async def _import(request: Request, uow: ProjectsUnitOfWork, importer: Importer) -> ImportSummaryOut:
    command = ImportCsv(text=await _csv_text(request), correlation_id=correlation_id_from(request))
    with answering_errors():
        return ImportSummaryOut.of(await importer(command, uow))


UnitOfWork = Annotated[ProjectsUnitOfWork, Depends(unit_of_work)]
Coordinator = Annotated[Principal, Depends(require_roles(Role.COORDINATOR))]
IMPORT_RESPONSES = responses(400, 404, 408, 409, 415, 422)


@router.post(
    "/imports/practices",
    summary="Import GP practices from CSV",
    description="Columns: `ods_code` (a letter and five digits, matched case-insensitively: the practice's "
    "key), `name`, `area` (area or borough). Publishes `projects.practice.registered.v1` or `.changed.v1` for "
    "each practice created or changed.\n\n" + COMMON,
    openapi_extra=_csv_body("practices", "ods_code,name,area\nY03053,Riverside Medical Centre,Hackney\n"),
    responses=IMPORT_RESPONSES,
)
async def import_practices(request: Request, uow: UnitOfWork, _: Coordinator) -> ImportSummaryOut:
    return await _import(request, uow, csv_import.import_practices)


@router.post(
    "/imports/students",
    summary="Import students from CSV",
    description="Columns: `university_id` (6 to 12 digits: the student's key, and the `sub` of their tokens), "
    "`name`, `email`. Publishes `projects.student.registered.v1` or `.changed.v1` (ids only) for each student "
    "created or changed.\n\n" + COMMON,
    openapi_extra=_csv_body(
        "students", "university_id,name,email\n20231234,Sam Okafor,sam.okafor@student.example.ac.uk\n"
    ),
    responses=IMPORT_RESPONSES,
)
async def import_students(request: Request, uow: UnitOfWork, _: Coordinator) -> ImportSummaryOut:
    return await _import(request, uow, csv_import.import_students)


@router.post(
    "/imports/groups",
    summary="Import groups and their members from CSV",
    description="One row per student: `cohort` (academic year, e.g. `2026-27`), `group` (its name in the cohort: "
    "the group's key with the cohort), `practice_ods_code`, `student_university_id`, `supervisor_user_ids` "
    "(`;`-separated; on any of the group's rows, or all). Each group in the file gets exactly the students and "
    "supervisors listed for it, and its size must be within the cohort's range; groups not in the file are left "
    "alone, and a student in one of them cannot be placed by the file. The cohorts, practices, students and "
    "supervisors must exist. Publishes `projects.group.created.v1` or `.changed.v1` for each group created or "
    "changed, then `projects.group.formed.v1` for each that has just reached its cohort's minimum size.\n\n" + COMMON,
    openapi_extra=_csv_body(
        "groups",
        "cohort,group,practice_ods_code,student_university_id,supervisor_user_ids\n"
        "2026-27,A1,Y03053,20231234,gp-tutor-4711\n"
        "2026-27,A1,Y03053,20231235,\n",
    ),
    responses=IMPORT_RESPONSES,
)
async def import_groups(request: Request, uow: UnitOfWork, _: Coordinator) -> ImportSummaryOut:
    return await _import(request, uow, csv_import.import_groups)
