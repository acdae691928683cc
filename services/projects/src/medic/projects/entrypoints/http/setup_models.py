"""Request and response bodies of the set-up API, and how its errors become HTTP answers."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from medic.projects.domain.setup import (
    LARGEST_GROUP,
    MAX_AREA,
    MAX_GROUP_NAME,
    MAX_NAME,
    SMALLEST_GROUP,
    USER_ID_PATTERN,
    Cohort,
    Group,
    InvalidSetup,
    Practice,
    SetupConflict,
    SetupNotFound,
    Student,
    Supervisor,
    academic_years_pattern,
)
from medic.projects.service_layer.csv_import import ImportRejected, ImportSummary, Problem
from medic.shared.http_fields import VISIBLE_TEXT, EmailAddress, IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut

MAX_LINKS = 50  # practices per supervisor, members per group in one request


AcademicYear = Annotated[
    str,
    Field(
        pattern=academic_years_pattern(),
        description="`YYYY-YY`, the second year following the first (2000-01 to 2099-00)",
        examples=["2026-27"],
    ),
]
GroupSize = Annotated[int, Field(ge=SMALLEST_GROUP, le=LARGEST_GROUP, examples=[2])]
Name = Annotated[str, Field(max_length=MAX_NAME, pattern=VISIBLE_TEXT)]
OdsCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][0-9]{5}$",
        description="A GP practice's NHS ODS code: a letter and five digits (stored upper case)",
        examples=["Y03053"],
    ),
]
UserId = Annotated[
    str,
    Field(
        pattern=f"^{USER_ID_PATTERN}$",
        description="The supervisor's user id: the `sub` claim of the tokens they sign in with",
        examples=["gp-tutor-4711"],
    ),
]
UniversityId = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{6,12}$",
        description="The student's university id, 6 to 12 digits: the `sub` claim of their tokens",
        examples=["20231234"],
    ),
]
Ids = Annotated[list[uuid.UUID], Field(max_length=MAX_LINKS)]


class CohortIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    academic_year: AcademicYear
    placement_start: IsoDate = Field(description="First day of the GP placement", examples=["2026-09-07"])
    placement_end: IsoDate = Field(description="Last day; after the first", examples=["2026-11-13"])
    min_group_size: GroupSize | None = Field(
        default=None, description="Fewest students in a formed group; default `CAP_GROUP_MIN_SIZE`", examples=[2]
    )
    max_group_size: GroupSize | None = Field(
        default=None,
        description="Most students in a group, not below the fewest; default `CAP_GROUP_MAX_SIZE`",
        examples=[6],
    )


class CohortChangeIn(BaseModel):
    """Only the fields given change. The academic year names the cohort and does not change."""

    model_config = ConfigDict(extra="forbid")

    placement_start: IsoDate | None = Field(default=None, examples=["2026-09-14"])
    placement_end: IsoDate | None = Field(default=None, examples=["2026-11-20"])
    min_group_size: GroupSize | None = Field(default=None, examples=[3])
    max_group_size: GroupSize | None = Field(default=None, examples=[5])


class CohortOut(BaseModel):
    id: uuid.UUID
    academic_year: str
    placement_start: date
    placement_end: date
    min_group_size: int
    max_group_size: int
    created_at: datetime

    @classmethod
    def of(cls, cohort: Cohort) -> "CohortOut":
        return cls(**vars(cohort))


class PracticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["Riverside Medical Centre"])
    ods_code: OdsCode
    area: str = Field(max_length=MAX_AREA, pattern=VISIBLE_TEXT, description="Area or borough", examples=["Hackney"])


class PracticeChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, examples=["Riverside Health Centre"])
    ods_code: OdsCode | None = Field(default=None, examples=["Y03053"])
    area: str | None = Field(default=None, max_length=MAX_AREA, pattern=VISIBLE_TEXT, examples=["Islington"])


class PracticeOut(BaseModel):
    id: uuid.UUID
    name: str
    ods_code: str
    area: str
    created_at: datetime

    @classmethod
    def of(cls, practice: Practice) -> "PracticeOut":
        return cls(**vars(practice))


class SupervisorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: UserId
    name: Name = Field(examples=["Dr Asha Patel"])
    email: EmailAddress = Field(examples=["a.patel@nhs.example"])
    practice_ids: Ids = Field(
        default_factory=list,
        description="GP practices the supervisor is linked to",
        examples=[["5f0c6f0e-8a53-4c2e-9d1a-2b7f3c4d5e6f"]],
    )


class SupervisorChangeIn(BaseModel):
    """Only the fields given change; `practice_ids` is the whole new set (it links and unlinks)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, examples=["Dr Asha Patel-Jones"])
    email: EmailAddress | None = Field(default=None, examples=["asha.patel@nhs.example"])
    practice_ids: Ids | None = Field(default=None, examples=[["5f0c6f0e-8a53-4c2e-9d1a-2b7f3c4d5e6f"]])


class SupervisorOut(BaseModel):
    id: uuid.UUID
    user_id: str
    name: str
    email: str
    practice_ids: list[uuid.UUID]
    created_at: datetime

    @classmethod
    def of(cls, supervisor: Supervisor) -> "SupervisorOut":
        return cls(**{**vars(supervisor), "practice_ids": sorted(supervisor.practice_ids)})


class StudentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    university_id: UniversityId
    name: Name = Field(examples=["Sam Okafor"])
    email: EmailAddress = Field(examples=["sam.okafor@student.example.ac.uk"])


class StudentOut(BaseModel):
    id: uuid.UUID
    university_id: str
    name: str
    email: str
    created_at: datetime

    @classmethod
    def of(cls, student: Student) -> "StudentOut":
        return cls(**vars(student))


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cohort_id: uuid.UUID = Field(examples=["0b6f3c1e-2d4a-4b8e-9f10-1a2b3c4d5e6f"])
    practice_id: uuid.UUID = Field(examples=["5f0c6f0e-8a53-4c2e-9d1a-2b7f3c4d5e6f"])
    name: str = Field(
        max_length=MAX_GROUP_NAME, pattern=VISIBLE_TEXT, description="Unique in the cohort", examples=["A1"]
    )
    student_ids: Ids = Field(
        default_factory=list,
        description="Students to start with (may be none)",
        examples=[["7d9e2f4a-1b3c-4d5e-8f6a-9b0c1d2e3f4a"]],
    )
    supervisor_ids: Ids = Field(
        default_factory=list,
        description="Supervisors to start with (may be none)",
        examples=[["3c2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a0f9"]],
    )


class GroupOut(BaseModel):
    id: uuid.UUID
    cohort_id: uuid.UUID
    practice_id: uuid.UUID
    name: str
    student_ids: list[uuid.UUID]
    supervisor_ids: list[uuid.UUID]
    created_at: datetime

    @classmethod
    def of(cls, group: Group) -> "GroupOut":
        return cls(
            **{**vars(group), "student_ids": list(group.student_ids), "supervisor_ids": list(group.supervisor_ids)}
        )


class ImportSummaryOut(BaseModel):
    """What an import did, counted in practices, students or groups (the same file again: all unchanged)."""

    created: int = Field(examples=[12])
    updated: int = Field(examples=[1])
    unchanged: int = Field(examples=[40])

    @classmethod
    def of(cls, summary: ImportSummary) -> "ImportSummaryOut":
        return cls(**vars(summary))


def _field_errors(status_code: int, where: str, field: str, message: str) -> HTTPException:
    return HTTPException(status_code, [{"loc": [where, field], "msg": message, "type": "value_error"}])


@contextmanager
def answering_errors(*path_fields: str) -> Iterator[None]:
    """Domain errors as HTTP answers naming the field: bad input 422, conflicts 409, unknown ids 404.
    `path_fields` are the route's path parameters; other fields are in the body."""
    try:
        yield
    except (InvalidSetup, SetupConflict, SetupNotFound) as error:
        where = "path" if error.field in path_fields else "body"
        code = {
            InvalidSetup: status.HTTP_422_UNPROCESSABLE_CONTENT,
            SetupConflict: status.HTTP_409_CONFLICT,
            SetupNotFound: status.HTTP_404_NOT_FOUND,
        }[type(error)]
        raise _field_errors(code, where, error.field, str(error)) from None
    except ImportRejected as rejected:
        errors = [{"loc": ["body", e.line, e.column], "msg": e.message, "type": "value_error"} for e in rejected.errors]
        code = {
            Problem.INVALID: status.HTTP_422_UNPROCESSABLE_CONTENT,
            Problem.UNKNOWN: status.HTTP_404_NOT_FOUND,
            Problem.CONFLICT: status.HTTP_409_CONFLICT,
        }[rejected.problem]
        raise HTTPException(code, errors) from None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented answers of a set-up route besides its success, FastAPI's 422 and the edge's."""
    described = {
        400: (ErrorOut, "The CSV file is not UTF-8"),
        404: (FieldErrorsOut, "No such object, or one the caller may not see: `loc` names the id"),
        408: (ErrorOut, "The request body did not arrive within `HTTP_BODY_TIMEOUT_S`"),
        409: (FieldErrorsOut, "The current state does not allow it: `loc` names the field, `msg` says why"),
        415: (ErrorOut, "The request body is not `text/csv`"),
        422: (FieldErrorsOut, 'Bad input: `loc` names the field (for CSV: `["body", line, column]`)'),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
