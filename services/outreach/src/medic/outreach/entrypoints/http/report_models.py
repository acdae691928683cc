"""Response bodies of the impact report and how its refusals become HTTP answers."""

from typing import Any

from pydantic import BaseModel, Field

from medic.outreach.domain.disclosure import Rendered
from medic.shared.openapi import ErrorOut, FieldErrorsOut


class PolicyOut(BaseModel):
    name: str = Field(examples=["hesa"])
    title: str = Field(examples=["HESA rounding and suppression"])
    rules: list[str]
    mark: str = Field(description="What a hidden figure is shown as", examples=[".."])
    for_publication: bool = Field(description="False for the exact internal view")


class SectionOut(BaseModel):
    """One table. `counts`: rows of values by column, with column totals (`totals`) where the rows are exclusive
    and row totals where the columns are. `rates`: numerator, denominator and percentage per row, the overall row
    last. `means`: counts and means per row. A figure the policy hides is its `mark`."""

    key: str = Field(examples=["watcch_by_cycle"])
    title: str
    note: str
    kind: str = Field(examples=["counts"])
    columns: list[str] | None = None
    rows: list[dict[str, Any]]
    totals: dict[str, Rendered] | None = None
    total: Rendered | None = None
    overall: str | None = None


class ReportOut(BaseModel):
    policy: PolicyOut = Field(description="The disclosure policy the figures are rendered under, with its rules")
    sections: list[SectionOut]


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        409: (ErrorOut, "Refused for now: the reason is the detail"),
        422: (FieldErrorsOut, "Bad input: `loc` names the field (e.g. an unknown policy)"),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
