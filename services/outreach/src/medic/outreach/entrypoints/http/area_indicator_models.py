"""Request and response bodies of the area-indicator lookups API, and how its errors become HTTP answers."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from medic.outreach.domain.area_indicators import (
    AreaIndicatorValue,
    Areas,
    Edition,
    InvalidLookup,
    LookupNotFound,
)
from medic.outreach.domain.indicators import AreaMeasure
from medic.outreach.service_layer.area_indicators import LoadResult, PostcodeLookup
from medic.outreach.service_layer.area_lookup_files import LookupRejected
from medic.shared.contracts.outreach.indicators import AreaDataset
from medic.shared.openapi import FieldErrorsOut


class LoadEditionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: AreaDataset = Field(examples=["onspd"], description="Which lookup the file is")
    edition: str = Field(
        max_length=20,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        examples=["sample"],
        description="The edition's label, kept with every value derived from it (e.g. the year of publication)",
    )
    file: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        examples=["onspd_sample.csv"],
        description="The file's path under the configured lookups directory (`OUTREACH_LOOKUPS_DIR`); "
        "a path outside it is refused",
    )


class PostcodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    postcode: str = Field(max_length=20, examples=["EC3A 5DE"], description="A UK postcode, any case and spacing")


class EditionOut(BaseModel):
    dataset: AreaDataset
    edition: str
    geography: str = Field(description="What the file is keyed by: postcode, lsoa11, msoa11, lsoa21 or msoa21")
    file: str = Field(description="The file it was loaded from, relative to the lookups directory")
    rows: int = Field(description="Data rows read from the file")
    loaded_at: datetime

    @classmethod
    def of(cls, edition: Edition) -> "EditionOut":
        return cls(
            dataset=edition.dataset,
            edition=edition.edition,
            geography=edition.geography.value,
            file=edition.file,
            rows=edition.rows,
            loaded_at=edition.loaded_at,
        )


class LoadOut(BaseModel):
    edition: EditionOut
    already_loaded: bool = Field(description="True if this edition was loaded before: nothing was read or changed")
    participants_rederived: int = Field(description="Participants whose values were derived from the new edition")

    @classmethod
    def of(cls, result: LoadResult) -> "LoadOut":
        return cls(
            edition=EditionOut.of(result.edition),
            already_loaded=result.already_loaded,
            participants_rederived=result.participants_rederived,
        )


class AreasOut(BaseModel):
    lsoa11: str | None
    msoa11: str | None
    lsoa21: str | None
    msoa21: str | None

    @classmethod
    def of(cls, areas: Areas) -> "AreasOut":
        return cls(lsoa11=areas.lsoa11, msoa11=areas.msoa11, lsoa21=areas.lsoa21, msoa21=areas.msoa21)


class AreaValueOut(BaseModel):
    measure: AreaMeasure
    value: int
    dataset: str
    edition: str

    @classmethod
    def of(cls, value: AreaIndicatorValue) -> "AreaValueOut":
        return cls(measure=value.measure, value=value.value, dataset=value.dataset, edition=value.edition)


class PostcodeLookupOut(BaseModel):
    postcode: str = Field(description="The postcode, upper case with one space")
    areas: AreasOut
    values: list[AreaValueOut] = Field(description="Every value each loaded edition gives these areas")

    @classmethod
    def of(cls, lookup: PostcodeLookup) -> "PostcodeLookupOut":
        return cls(
            postcode=lookup.postcode,
            areas=AreasOut.of(lookup.areas),
            values=[AreaValueOut.of(v) for v in lookup.values],
        )


@contextmanager
def answering_errors() -> Iterator[None]:
    """A file or a postcode that is not there as 404 naming the field; a file's bad lines (the file contradicts
    the dataset named) as 409 with `loc: ["body", "file", line, column]`; other bad input as 422 naming the
    field."""
    try:
        yield
    except LookupNotFound as error:
        detail = [{"loc": ["body", error.field], "msg": str(error), "type": "value_error"}]
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail) from None
    except InvalidLookup as error:
        detail = [{"loc": ["body", error.field], "msg": str(error), "type": "value_error"}]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from None
    except LookupRejected as rejected:
        errors = [
            {"loc": ["body", "file", e.line, e.column], "msg": e.message, "type": "value_error"}
            for e in rejected.errors
        ]
        raise HTTPException(status.HTTP_409_CONFLICT, errors) from None


def responses() -> dict[int | str, dict[str, Any]]:
    return {
        404: {
            "model": FieldErrorsOut,
            "description": "No such file in the lookups directory, or the postcode is not in the postcode lookup: "
            "`loc` names the field",
        },
        409: {
            "model": FieldErrorsOut,
            "description": 'The file\'s lines are not the dataset named: each bad line is `["body", "file", line, '
            "column]`, the header being line 1",
        },
        422: {"model": FieldErrorsOut, "description": "Bad input: `loc` names the field"},
    }
