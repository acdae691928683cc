"""Response bodies of the impact report and the research extract, and how refusals become HTTP answers."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from medic.outreach.domain.disclosure import Rendered
from medic.outreach.domain.impact import ExtractRow
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


class AreaIndicatorOut(BaseModel):
    dataset: str = Field(examples=["imd"])
    edition: str = Field(examples=["2019"])
    measure: str = Field(examples=["imd_quintile"])
    value: int = Field(examples=[1])


class IndividualIndicatorOut(BaseModel):
    measure: str = Field(examples=["free_school_meals"])
    value: str = Field(examples=["yes"])
    source: str = Field(examples=["self_declared"])


class ActivityOut(BaseModel):
    activity_id: uuid.UUID
    kind: str = Field(examples=["workshop"])
    attendance: str | None = Field(examples=["present"], description="None: not recorded yet")
    minutes: int | None


class SurveyChangeOut(BaseModel):
    questionnaire_id: uuid.UUID
    questionnaire: str
    code: str = Field(examples=["know_how_to_apply"])
    pre_mean: float | None
    post_mean: float | None
    change: float | None


class OutcomeOut(BaseModel):
    stage: str = Field(examples=["offered"])
    course_type: str = Field(examples=["medicine"])
    entry_year: int = Field(examples=[2028])
    source: str
    occurred_on: date


class ExtractRowOut(BaseModel):
    """One participant in one cycle, by pseudonymous id only: no name, contact, date of birth, postcode, school or
    free text."""

    participant_id: uuid.UUID
    cycle: str = Field(examples=["2026/27"])
    state: str = Field(examples=["enrolled"])
    area_indicators: list[AreaIndicatorOut]
    individual_indicators: list[IndividualIndicatorOut]
    activities: list[ActivityOut]
    survey_change: list[SurveyChangeOut]
    outcomes: list[OutcomeOut]

    @classmethod
    def of(cls, row: ExtractRow) -> "ExtractRowOut":
        def number(value: Decimal | None) -> float | None:
            return None if value is None else float(value)

        return cls(
            participant_id=row.participant_id,
            cycle=row.cycle,
            state=row.state.value,
            area_indicators=[
                AreaIndicatorOut(dataset=a.dataset, edition=a.edition, measure=a.measure, value=a.value)
                for a in row.area_indicators
            ],
            individual_indicators=[
                IndividualIndicatorOut(measure=i.measure, value=i.value, source=i.source)
                for i in row.individual_indicators
            ],
            activities=[
                ActivityOut(
                    activity_id=a.activity_id,
                    kind=a.kind.value,
                    attendance=None if a.attendance is None else a.attendance.value,
                    minutes=a.minutes,
                )
                for a in row.activities
            ],
            survey_change=[
                SurveyChangeOut(
                    questionnaire_id=run.questionnaire_id,
                    questionnaire=run.questionnaire,
                    code=item.code,
                    pre_mean=number(item.pre_mean),
                    post_mean=number(item.post_mean),
                    change=number(item.change),
                )
                for run, item in row.survey_change
            ],
            outcomes=[
                OutcomeOut(
                    stage=o.stage.value,
                    course_type=o.course_type.value,
                    entry_year=o.entry_year,
                    source=o.source.value,
                    occurred_on=o.occurred_on,
                )
                for o in row.outcomes
            ],
        )


class ExtractOut(BaseModel):
    built_on: date = Field(description="The day it was built: research consent is judged on this day")
    note: str
    rows: list[ExtractRowOut]


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        409: (ErrorOut, "Refused for now: the reason is the detail"),
        422: (FieldErrorsOut, "Bad input: `loc` names the field (e.g. an unknown policy)"),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
