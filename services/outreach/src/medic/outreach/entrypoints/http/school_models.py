"""Request and response bodies of the schools API, and how its errors become HTTP answers."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from medic.outreach.domain.schools import (
    MAX_LA_NAME,
    MAX_NAME,
    POSTCODE_PATTERN,
    ContactRole,
    InvalidSchool,
    SchoolConflict,
    SchoolNotFound,
)
from medic.outreach.service_layer.school_import import ImportRejected, ImportSummary
from medic.outreach.service_layer.schools import SchoolView
from medic.shared.contracts.outreach import SchoolPhase
from medic.shared.http_fields import VISIBLE_TEXT, EmailAddress
from medic.shared.openapi import ErrorOut, FieldErrorsOut

URN_PATTERN = r"^[0-9]{6}$"
SchoolName = Annotated[str, Field(max_length=MAX_NAME, pattern=VISIBLE_TEXT)]
LaName = Annotated[str, Field(max_length=MAX_LA_NAME, pattern=VISIBLE_TEXT)]
Urn = Annotated[str, Field(pattern=URN_PATTERN, description="6 digits", examples=["100000"])]
Laestab = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{7}$",
        description="7 digits: the local authority's code (3) and the establishment number (4)",
        examples=["2013614"],
    ),
]
Postcode = Annotated[
    str,
    Field(
        max_length=20,
        pattern=POSTCODE_PATTERN,
        description="A UK postcode; stored upper case with one space before the last three characters",
        examples=["EC1A 1BB"],
    ),
]


class SchoolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urn: Urn
    laestab: Laestab
    name: SchoolName = Field(examples=["Hillside Primary School"])
    phase: SchoolPhase = Field(examples=["primary"])
    local_authority_name: LaName = Field(examples=["City of London"])
    postcode: Postcode
    state_funded: StrictBool = Field(examples=[True], description="False for an independent school")


class SchoolPatch(BaseModel):
    """Fields left out (or null) stay as they are. The URN names the school and does not change."""

    model_config = ConfigDict(extra="forbid")

    laestab: Laestab | None = Field(default=None, examples=["2013614"])
    name: SchoolName | None = Field(default=None, examples=["Hillside Primary Academy"])
    phase: SchoolPhase | None = Field(default=None, examples=["all_through"])
    local_authority_name: LaName | None = Field(default=None, examples=["City of London"])
    postcode: Postcode | None = Field(default=None, examples=["E1 6AN"])
    state_funded: StrictBool | None = Field(default=None, examples=[True])


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SchoolName = Field(examples=["Ms Amina Yusuf"])
    email: EmailAddress = Field(examples=["a.yusuf@hillside.example.sch.uk"])
    role: ContactRole = Field(examples=["teacher"], description="A teacher, or the school's outreach lead")


class ContactOut(BaseModel):
    name: str
    email: str
    role: ContactRole


class SchoolOut(BaseModel):
    urn: str
    laestab: str
    establishment_number: str
    name: str
    phase: SchoolPhase
    local_authority_code: str
    local_authority_name: str
    postcode: str
    state_funded: bool
    contact: ContactOut | None = Field(description="Shown to coordinators only; null for others, or if none is set")

    @classmethod
    def of(cls, view: SchoolView, *, with_contact: bool) -> "SchoolOut":
        school, contact = view.school, view.contact if with_contact else None
        return cls(
            urn=school.urn,
            laestab=school.laestab,
            establishment_number=school.establishment_number,
            name=school.name,
            phase=school.phase,
            local_authority_code=school.local_authority_code,
            local_authority_name=school.local_authority_name,
            postcode=school.postcode,
            state_funded=school.state_funded,
            contact=None if contact is None else ContactOut(name=contact.name, email=contact.email, role=contact.role),
        )


class ImportSummaryOut(BaseModel):
    """What an import did, counted in schools (the same file again: all unchanged)."""

    created: int = Field(examples=[12])
    updated: int = Field(examples=[1])
    unchanged: int = Field(examples=[40])

    @classmethod
    def of(cls, summary: ImportSummary) -> "ImportSummaryOut":
        return cls(**vars(summary))


@contextmanager
def answering_errors() -> Iterator[None]:
    """Domain errors as HTTP answers naming the field: bad input 422, conflicts 409, unknown schools 404."""
    try:
        yield
    except SchoolNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except (InvalidSchool, SchoolConflict) as error:
        code = status.HTTP_409_CONFLICT if isinstance(error, SchoolConflict) else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, [{"loc": ["body", error.field], "msg": str(error), "type": "value_error"}]) from None
    except ImportRejected as rejected:
        errors = [{"loc": ["body", e.line, e.column], "msg": e.message, "type": "value_error"} for e in rejected.errors]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, errors) from None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented answers of a schools route besides its success, FastAPI's 422 and the edge's."""
    described = {
        400: (ErrorOut, "The CSV file is neither UTF-8 nor Windows-1252"),
        404: (ErrorOut, "No school with this URN"),
        408: (ErrorOut, "The request body did not arrive within `HTTP_BODY_TIMEOUT_S`"),
        409: (FieldErrorsOut, "A school with this URN is already registered"),
        415: (ErrorOut, "The request body is not `text/csv`"),
        422: (FieldErrorsOut, 'Bad input: `loc` names the field (for CSV: `["body", line, column]`)'),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
