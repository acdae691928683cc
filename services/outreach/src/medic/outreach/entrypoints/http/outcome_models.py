"""Request and response bodies of the progression-outcomes API, and how its errors become HTTP answers."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from medic.outreach.domain.outcomes import InvalidOutcome, Outcome, OutcomeConflict, OutcomeNotFound
from medic.shared.contracts.outreach.outcomes import CourseType, OutcomeSource, OutcomeStage
from medic.shared.http_fields import NOT_TEXT, IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: OutcomeStage = Field(examples=["applied"], description="applied, offered (any offer) or enrolled")
    course_type: CourseType = Field(examples=["medicine"])
    entry_year: Annotated[int, NOT_TEXT] = Field(
        ge=2000, le=2100, examples=[2027], description="The calendar year the course starts (2027 for 2027/28)"
    )
    source: OutcomeSource = Field(examples=["self_reported"], description="self_reported, ucas or hesa")
    occurred_on: IsoDate = Field(
        examples=["2026-10-15"], description="When the participant applied, had the offer or enrolled; not future"
    )


class OutcomeOut(BaseModel):
    id: uuid.UUID
    participant_id: uuid.UUID
    stage: OutcomeStage
    course_type: CourseType
    entry_year: int
    source: OutcomeSource
    occurred_on: date

    @classmethod
    def of(cls, outcome: Outcome) -> "OutcomeOut":
        return cls(
            id=outcome.id,
            participant_id=outcome.participant_id,
            stage=outcome.stage,
            course_type=outcome.course_type,
            entry_year=outcome.entry_year,
            source=outcome.source,
            occurred_on=outcome.occurred_on,
        )


@contextmanager
def answering_errors() -> Iterator[None]:
    """A fact recorded already 409, an unknown participant 404.

    What the domain refuses after the schema let it through (a date in the future, an entry year more than three
    years ahead, an outcome after its year of entry) contradicts another field or today: 409 naming the field.
    """
    try:
        yield
    except OutcomeNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except OutcomeConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except InvalidOutcome as error:
        detail = [{"loc": ["body", error.field], "msg": str(error), "type": "value_error"}]
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        404: (ErrorOut, "No such participant"),
        409: (
            ErrorOut | FieldErrorsOut,
            "The same outcome from the same source is recorded already; or (`loc` names the field) a date in the "
            "future, an entry year more than three years ahead, or an outcome after its year of entry",
        ),
        422: (FieldErrorsOut, "Bad input: `loc` names the field"),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
