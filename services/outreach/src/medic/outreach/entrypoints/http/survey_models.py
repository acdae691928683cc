"""Request and response bodies of the surveys API, and how its errors become HTTP answers."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from medic.outreach.domain.surveys import (
    MAX_ITEM_TEXT,
    MAX_ITEMS,
    MAX_NAME,
    SCALE,
    ContradictoryInput,
    InvalidSurvey,
    Item,
    ItemChange,
    Response,
    SurveyConflict,
    SurveyNotFound,
    Version,
)
from medic.outreach.service_layer.surveys import QuestionnaireView
from medic.shared.contracts.outreach.surveys import ResponseKind
from medic.shared.http_fields import NOT_TEXT, VISIBLE_TEXT
from medic.shared.openapi import ErrorOut, FieldErrorsOut

EXAMPLE_ITEMS = [
    {"code": "know_how_to_apply", "text": "I know how to apply to study medicine"},
    {"code": "belong_at_university", "text": "People like me belong at university"},
]
CODE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN, examples=["know_how_to_apply"])]
Likert = Annotated[int, Field(ge=1, le=5), NOT_TEXT]
TWO_PLACES = Decimal("0.01")


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code = Field(description="Short and stable: one statement per code in the whole questionnaire")
    text: Annotated[str, Field(max_length=MAX_ITEM_TEXT, pattern=VISIBLE_TEXT)] = Field(
        examples=["I know how to apply to study medicine"], description="The statement, answered 1 to 5"
    )

    def item(self) -> Item:
        return Item(self.code, self.text)


Items = Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS, examples=[EXAMPLE_ITEMS])]


class QuestionnaireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=MAX_NAME, pattern=VISIBLE_TEXT)] = Field(
        examples=["Access and success questionnaire (example items)"]
    )
    items: Items = Field(description="Version 1's items, in order")


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: Items = Field(description="The version's items, in order")


class ItemOut(BaseModel):
    code: str
    text: str


class VersionOut(BaseModel):
    questionnaire_id: uuid.UUID
    version: int
    items: list[ItemOut]
    responses: int = Field(description="Responses to this version; once there is one, its items never change")
    scale: dict[int, str] = Field(description="What the answers 1 to 5 mean")

    @classmethod
    def of(cls, version: Version) -> "VersionOut":
        return cls(
            questionnaire_id=version.questionnaire_id,
            version=version.number,
            items=[ItemOut(code=i.code, text=i.text) for i in version.items],
            responses=version.responses,
            scale=SCALE,
        )


class QuestionnaireOut(BaseModel):
    id: uuid.UUID
    name: str
    latest_version: int
    versions: list[VersionOut]

    @classmethod
    def of(cls, view: QuestionnaireView) -> "QuestionnaireOut":
        return cls(
            id=view.questionnaire.id,
            name=view.questionnaire.name,
            latest_version=max(v.number for v in view.versions),
            versions=[VersionOut.of(v) for v in view.versions],
        )


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questionnaire_id: uuid.UUID = Field(examples=["7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"])
    version: int = Field(ge=1, le=10_000, examples=[1], description="The version answered")
    participant_id: uuid.UUID = Field(
        examples=["5d9e1f7a-8b2c-4e3d-a1f0-6c7b8d9e0f12"], description="The participant's pseudonymous id"
    )
    cycle_id: uuid.UUID = Field(
        examples=["0b4f3c6e-2f7a-4c1e-9a57-3f0d2c9b8e11"], description="The WATCCH cycle the response counts for"
    )
    activity_id: uuid.UUID | None = Field(
        default=None, examples=[None], description="The activity it was collected at, if any (of the same cycle)"
    )
    kind: ResponseKind = Field(examples=["pre"])
    answers: Annotated[dict[Code, Likert], Field(min_length=1, max_length=MAX_ITEMS)] = Field(
        examples=[{"know_how_to_apply": 2, "belong_at_university": 3}],
        json_schema_extra={"additionalProperties": False, "propertyNames": {"pattern": CODE_PATTERN}},
        description="Item code -> 1 (strongly disagree) to 5 (strongly agree); items left out were not answered",
    )


class ResponseOut(BaseModel):
    id: uuid.UUID
    questionnaire_id: uuid.UUID
    version: int
    participant_id: uuid.UUID
    cycle_id: uuid.UUID
    activity_id: uuid.UUID | None
    kind: ResponseKind
    answers: dict[str, int]
    recorded_at: datetime

    @classmethod
    def of(cls, response: Response) -> "ResponseOut":
        return cls(**{**vars(response), "answers": dict(response.answers)})


def _two_places(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(TWO_PLACES)


class ItemChangeOut(BaseModel):
    code: str
    text: str
    pre_respondents: int = Field(description="Participants with a pre answer to the item")
    post_respondents: int = Field(description="Participants with a post answer to the item")
    n: int = Field(description="Participants with both: the means and the change are over these")
    pre_mean: Decimal | None = Field(description="Two decimals; null when n is 0")
    post_mean: Decimal | None
    change: Decimal | None = Field(description="post_mean - pre_mean (from the exact means)")

    @classmethod
    def of(cls, row: ItemChange) -> "ItemChangeOut":
        return cls(
            code=row.code,
            text=row.text,
            pre_respondents=row.pre_respondents,
            post_respondents=row.post_respondents,
            n=row.n,
            pre_mean=_two_places(row.pre_mean),
            post_mean=_two_places(row.post_mean),
            change=_two_places(row.change),
        )


class SurveyChangeOut(BaseModel):
    questionnaire_id: uuid.UUID
    cycle_id: uuid.UUID
    items: list[ItemChangeOut]


@contextmanager
def answering_errors() -> Iterator[None]:
    """Bad input 422 naming the field, what the state does not allow 409, unknown objects 404."""
    try:
        yield
    except SurveyNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except SurveyConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except InvalidSurvey as error:
        detail = [{"loc": ["body", *error.loc], "msg": str(error), "type": "value_error"}]
        contradiction = isinstance(error, ContradictoryInput)
        code = status.HTTP_409_CONFLICT if contradiction else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, detail) from None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        404: (ErrorOut, "No such questionnaire, version, cycle, activity or participant"),
        409: (
            ErrorOut | FieldErrorsOut,
            "Not allowed in the current state: the reason is the detail; or (`loc` names the field) input that "
            "contradicts other input or what is stored: a code used twice, an item's code given another "
            "statement, an answer to an item the version lacks, an activity of another cycle",
        ),
        422: (FieldErrorsOut, "Bad input: `loc` names the field"),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
