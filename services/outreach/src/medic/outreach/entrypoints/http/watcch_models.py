"""Request and response bodies of the WATCCH API, and how its errors become HTTP answers."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from medic.outreach.domain.area_indicators import UnknownPostcode
from medic.outreach.domain.indicators import (
    AreaMeasure,
    CareExperience,
    IndicatorSource,
    IndividualMeasure,
    ParentalEducation,
    YesNoUnknown,
)
from medic.outreach.domain.schools import POSTCODE_PATTERN
from medic.outreach.domain.watcch import (
    Action,
    CycleStatus,
    InvalidWatcch,
    State,
    TransitionRefused,
    WatcchConflict,
    WatcchNotFound,
    YearGroup,
    default_rules,
)
from medic.outreach.domain.watcch_eligibility import (
    AreaCriterion,
    AtLeast,
    Comparison,
    Finding,
    IndividualCriterion,
    InvalidRules,
    Rule,
    StateFundedSchool,
    YearGroupIn,
    rule_to_data,
)
from medic.outreach.domain.watcch_people import RefereeAnswer
from medic.outreach.service_layer.watcch import ApplicationView, CycleView
from medic.shared.http_fields import VISIBLE_TEXT, EmailAddress, IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut
from medic.shared.signed_links import LinkRefused, TooSoon

Name = Annotated[str, Field(max_length=100, pattern=VISIBLE_TEXT)]
LongName = Annotated[str, Field(max_length=200, pattern=VISIBLE_TEXT)]
Phone = Annotated[str, Field(max_length=20, pattern=r"^\+?[0-9 ]{7,19}$", examples=["07700 900123"])]
Urn = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="The school's URN: 6 digits", examples=["100000"])]
Postcode = Annotated[str, Field(max_length=20, pattern=POSTCODE_PATTERN, examples=["EC3A 5DE"])]
Question = Annotated[str, Field(min_length=1, max_length=300, pattern=VISIBLE_TEXT)]
Answer = Annotated[str, Field(max_length=2000, pattern=VISIBLE_TEXT)]
Edition = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")]
DEFAULT_RULES = [rule_to_data(r) for r in default_rules()]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- eligibility rules --------------------------------------------------------------------------------------


class AreaCriterionIn(Strict):
    kind: Literal["area"] = Field(examples=["area"])
    measure: AreaMeasure = Field(examples=["imd_quintile"])
    comparison: Comparison = Field(examples=["at_most"], description="at_most: <=; at_least: >=; equals")
    threshold: int = Field(ge=1, le=10, examples=[2])
    edition: Edition | None = Field(default=None, examples=["2019"], description="Omitted: the newest edition held")


class IndividualCriterionIn(Strict):
    kind: Literal["individual"] = Field(examples=["individual"])
    measure: IndividualMeasure = Field(examples=["free_school_meals"])
    values: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=10, examples=[["yes"]])


CriterionIn = Annotated[AreaCriterionIn | IndividualCriterionIn, Field(discriminator="kind")]


class YearGroupRuleIn(Strict):
    kind: Literal["year_group_in"] = Field(examples=["year_group_in"])
    year_groups: list[YearGroup] = Field(min_length=1, max_length=3, examples=[["year_12"]])


class StateFundedRuleIn(Strict):
    kind: Literal["state_funded_school"] = Field(examples=["state_funded_school"])


class AtLeastRuleIn(Strict):
    kind: Literal["at_least"] = Field(examples=["at_least"])
    n: int = Field(ge=1, le=20, examples=[2])
    criteria: list[CriterionIn] = Field(min_length=1, max_length=20)


RuleIn = Annotated[YearGroupRuleIn | StateFundedRuleIn | AtLeastRuleIn, Field(discriminator="kind")]


def rule_of(body: YearGroupRuleIn | StateFundedRuleIn | AtLeastRuleIn) -> Rule:
    if isinstance(body, YearGroupRuleIn):
        return YearGroupIn(frozenset(y.value for y in body.year_groups))
    if isinstance(body, StateFundedRuleIn):
        return StateFundedSchool()
    criteria: list[AreaCriterion | IndividualCriterion] = [
        AreaCriterion(c.measure, c.comparison, c.threshold, c.edition)
        if isinstance(c, AreaCriterionIn)
        else IndividualCriterion(c.measure, frozenset(c.values))
        for c in body.criteria
    ]
    return AtLeast(body.n, tuple(criteria))


# --- cycles ---------------------------------------------------------------------------------------------------


class CycleIn(Strict):
    name: LongName = Field(examples=["WATCCH 2027/28"])
    academic_year: str = Field(pattern=r"^[0-9]{4}/[0-9]{2}$", examples=["2027/28"])
    capacity: int = Field(ge=1, le=1000, examples=[30])
    applications_open_on: IsoDate = Field(examples=["2027-09-01"])
    applications_close_on: IsoDate = Field(examples=["2027-12-31"])
    programme_starts_on: IsoDate = Field(examples=["2028-01-15"])
    programme_ends_on: IsoDate = Field(examples=["2028-07-08"])
    year_groups: list[YearGroup] = Field(min_length=1, max_length=3, examples=[["year_12"]])
    questions: list[Question] = Field(
        default_factory=list, max_length=10, examples=[["Why are you interested in a career in healthcare?"]]
    )
    rules: list[RuleIn] | None = Field(
        default=None, max_length=20, examples=[DEFAULT_RULES],
        description="Omitted: Year 12 at a state-funded school and at least two widening-participation indicators",
    )  # fmt: skip
    offer_lifetime_days: int | None = Field(
        default=None, ge=1, le=90, examples=[10], description="Omitted: `OUTREACH_WATCCH_OFFER_LIFETIME_DAYS`"
    )


class CyclePatch(Strict):
    """Fields left out (or null) stay as they are. New rules after the first application are a new version."""

    name: LongName | None = Field(default=None, examples=["WATCCH 2026/27"])
    academic_year: str | None = Field(default=None, pattern=r"^[0-9]{4}/[0-9]{2}$", examples=["2026/27"])
    capacity: int | None = Field(default=None, ge=1, le=1000, examples=[32])
    applications_open_on: IsoDate | None = Field(default=None, examples=["2026-09-01"])
    applications_close_on: IsoDate | None = Field(default=None, examples=["2027-01-08"])
    programme_starts_on: IsoDate | None = Field(default=None, examples=["2027-01-16"])
    programme_ends_on: IsoDate | None = Field(default=None, examples=["2027-07-10"])
    year_groups: list[YearGroup] | None = Field(default=None, min_length=1, max_length=3, examples=[["year_12"]])
    questions: list[Question] | None = Field(default=None, max_length=10, examples=[["Why healthcare?"]])
    rules: list[RuleIn] | None = Field(default=None, max_length=20, examples=[DEFAULT_RULES])
    offer_lifetime_days: int | None = Field(default=None, ge=1, le=90, examples=[10])


class CycleOut(BaseModel):
    id: uuid.UUID
    name: str
    academic_year: str
    status: CycleStatus
    capacity: int
    places_taken: int = Field(description="Offered, accepted, enrolled and completed applications")
    free_places: int
    applications_open_on: date
    applications_close_on: date
    programme_starts_on: date
    programme_ends_on: date
    offer_lifetime_days: int
    year_groups: list[YearGroup]
    questions: list[str]
    rules_version: int
    rules: list[dict[str, Any]]
    applications: dict[State, int] = Field(description="Applications by state")

    @classmethod
    def of(cls, view: CycleView) -> "CycleOut":
        c = view.cycle
        return cls(
            id=c.id,
            name=c.name,
            academic_year=c.academic_year,
            status=c.status,
            capacity=c.capacity,
            places_taken=c.places_taken,
            free_places=c.free_places,
            applications_open_on=c.applications_open_on,
            applications_close_on=c.applications_close_on,
            programme_starts_on=c.programme_starts_on,
            programme_ends_on=c.programme_ends_on,
            offer_lifetime_days=c.offer_lifetime_days,
            year_groups=sorted(c.year_groups),
            questions=list(c.questions),
            rules_version=c.rules.version,
            rules=[rule_to_data(r) for r in c.rules.rules],
            applications=dict(view.counts),
        )


# --- applications -------------------------------------------------------------------------------------------


class IndicatorsIn(Strict):
    """Self-declared (on the public form) answers, as UCAS and HESA ask them; each may be left out."""

    free_school_meals: YesNoUnknown | None = Field(default=None, examples=["yes"], description="Ever in 6 years")
    parental_education: ParentalEducation | None = Field(
        default=None, examples=["02"], description="HESA PARED: 01 a parent has a degree, 02 no (first in family)"
    )
    care_experience: CareExperience | None = Field(default=None, examples=["not_care_experienced"])
    young_carer: YesNoUnknown | None = Field(default=None, examples=["no"])
    estranged: YesNoUnknown | None = Field(default=None, examples=["no"])

    def values(self) -> dict[IndividualMeasure, str]:
        return {IndividualMeasure(k): v.value for k, v in self if v is not None}


class ApplicantIn(Strict):
    given_name: Name = Field(examples=["Aisha"])
    family_name: Name = Field(examples=["Khan"])
    date_of_birth: IsoDate = Field(examples=["2009-10-01"], description="15 to 18 when the programme starts")
    email: EmailAddress = Field(examples=["aisha.k@example.com"])
    phone: Phone | None = Field(default=None, examples=["07700 900123"])
    home_postcode: Postcode = Field(description="Area indicators are derived from it")
    guardian_name: LongName = Field(examples=["Mrs Farah Khan"])
    guardian_email: EmailAddress | None = Field(default=None, examples=["farah.khan@example.com"])
    guardian_phone: Phone | None = Field(default=None, examples=["07700 900456"])
    referee_name: LongName | None = Field(default=None, examples=["Mr Daniel Osei"], description="A teacher")
    referee_email: EmailAddress | None = Field(default=None, examples=["d.osei@school.example.sch.uk"])
    school_urn: Urn
    year_group: YearGroup = Field(examples=["year_12"])
    answers: dict[Question, Answer] = Field(
        default_factory=dict,
        max_length=10,
        json_schema_extra={
            "additionalProperties": False,
            "propertyNames": {"minLength": 1, "maxLength": 300, "pattern": VISIBLE_TEXT},
        },
        examples=[{"Why are you interested in a career in healthcare?": "I volunteer at a care home."}],
        description="One answer to each of the cycle's questions, keyed by the question",
    )
    indicators: IndicatorsIn = Field(
        default_factory=IndicatorsIn, examples=[{"free_school_meals": "yes", "parental_education": "02"}]
    )

    def details(self) -> dict[str, Any]:
        return self.model_dump(
            include={"given_name", "family_name", "date_of_birth", "email", "phone", "home_postcode",
                     "guardian_name", "guardian_email", "guardian_phone", "referee_name", "referee_email"}
        )  # fmt: skip


class PublicApplicationIn(ApplicantIn):
    cycle_id: uuid.UUID = Field(examples=["0b9a3f5e-3c1d-4a57-9d3e-2f4b1c6a7e80"])


class CoordinatorApplicationIn(ApplicantIn):
    indicator_source: IndicatorSource = Field(
        default=IndicatorSource.SELF_DECLARED, examples=["school"], description="Who gave the indicators"
    )


class ApplicationReceivedOut(BaseModel):
    """All the public form is told: the reference to quote. Nothing about the decision or anyone else."""

    reference: str = Field(examples=["WAT-2026-7KQ2MX"])


class ApplicationSummaryOut(BaseModel):
    id: uuid.UUID
    reference: str
    participant_id: uuid.UUID = Field(description="The applicant's pseudonymous id")
    cycle_id: uuid.UUID
    state: State
    school_urn: str
    year_group: YearGroup
    submitted_at: datetime
    entered_by_coordinator: bool
    rules_version: int | None
    eligible_since: datetime | None = Field(description="The waitlist order: this, then a draw made at that time")
    offer_expires_at: datetime | None
    actions: list[Action] = Field(description="What a coordinator may do now")

    @classmethod
    def of(cls, view: ApplicationView) -> "ApplicationSummaryOut":
        a = view.application
        return cls(
            id=a.id,
            reference=a.reference,
            participant_id=a.participant_id,
            cycle_id=a.cycle_id,
            state=a.state,
            school_urn=a.school_urn,
            year_group=a.year_group,
            submitted_at=a.submitted_at,
            entered_by_coordinator=a.entered_by_coordinator,
            rules_version=a.rules_version,
            eligible_since=None if a.queue is None else a.queue.eligible_at,
            offer_expires_at=a.offer_expires_at,
            actions=list(view.actions),
        )


class UsedValueOut(BaseModel):
    name: str
    value: str | None = Field(description="null: missing (not held)")
    edition: str | None = Field(description="For an area measure: the edition the value came from")
    source: str | None = Field(description="For an individual indicator: who gave it")


class FindingOut(BaseModel):
    rule: str
    outcome: Literal["met", "not_met", "missing"]
    values: list[UsedValueOut]
    criteria: list["FindingOut"]
    note: str

    @classmethod
    def of(cls, finding: Finding) -> "FindingOut":
        return cls(
            rule=finding.rule,
            outcome=finding.outcome.value,
            values=[UsedValueOut(**vars(v)) for v in finding.values],
            criteria=[cls.of(c) for c in finding.criteria],
            note=finding.note,
        )


class DecisionOut(BaseModel):
    """Why the application is (not) eligible, rule by rule, with the values used."""

    eligible: bool
    rules_version: int
    findings: list[FindingOut]


class PersonalDetailsOut(BaseModel):
    given_name: str
    family_name: str
    date_of_birth: date
    email: str
    phone: str | None
    home_postcode: str
    guardian_name: str
    guardian_email: str | None
    guardian_phone: str | None
    referee_name: str | None
    referee_email: str | None
    answers: dict[str, str]
    notes: list[dict[str, str]]


class ApplicationOut(ApplicationSummaryOut):
    """The single application view (coordinators): personal details, the decision, the referee's answer."""

    personal_details: PersonalDetailsOut | None = Field(description="null once erased")
    decision: DecisionOut | None
    referee: str | None = Field(description="The latest referee link: pending, expired, confirmed, not_confirmed")

    @classmethod
    def of_view(cls, view: ApplicationView) -> "ApplicationOut":
        d = view.details
        return cls(
            **ApplicationSummaryOut.of(view).model_dump(),
            personal_details=None if d is None else PersonalDetailsOut(**{k: v for k, v in d.values().items()}),
            decision=decision_out(view),
            referee=view.referee,
        )


def decision_out(view: ApplicationView) -> DecisionOut | None:
    d = view.application.decision
    if d is None:
        return None
    return DecisionOut(
        eligible=d.eligible, rules_version=d.rules_version, findings=[FindingOut.of(f) for f in d.findings]
    )


class ActionIn(Strict):
    reason: Annotated[str, Field(max_length=1000, pattern=VISIBLE_TEXT)] | None = Field(
        default=None, examples=["Moved out of the area"], description="Needed to withdraw; kept, never published"
    )


# --- referee ----------------------------------------------------------------------------------------------------


class RefereeLinkOut(BaseModel):
    """Shown once: send the link to the referee. Only a hash of the token is kept."""

    path: str = Field(examples=["/watcch/referee/2bq…"])
    token: str
    expires_at: datetime


class RefereeRequestOut(BaseModel):
    """What the referee sees: enough to recognise the student, nothing more."""

    applicant: str = Field(examples=["Aisha K."])
    school_urn: str
    year_group: YearGroup
    cycle: str
    expires_at: datetime
    answer: RefereeAnswer | None


class RefereeAnswerIn(Strict):
    answer: RefereeAnswer = Field(examples=["confirmed"])


# --- errors -------------------------------------------------------------------------------------------------------


class TransitionRefusedOut(BaseModel):
    detail: str
    state: State
    allowed_actions: list[Action]


# Schema-valid fields the domain refuses for contradicting another field, the cycle or today (409 naming the field;
# rules: `n` above the criteria named, a threshold or value the measure does not have), and references (404).
CONTRADICTIONS = frozenset(
    {"academic_year", "applications_close_on", "programme_starts_on", "programme_ends_on", "answers",
     "guardian_email", "year_group", "date_of_birth"}
)  # fmt: skip
REFERENCES = frozenset({"cycle_id", "school_urn"})


@contextmanager
def answering_errors() -> Iterator[None]:
    """Bad input 422 naming the field; state conflicts 409 with the reason; unknown objects 404; links 409/410."""
    try:
        yield
    except WatcchNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except (InvalidWatcch, InvalidRules, UnknownPostcode) as error:
        loc = ["body", *str(error.field).split(".")]
        detail = [{"loc": loc, "msg": str(error), "type": "value_error"}]
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
        if isinstance(error, InvalidRules) or error.field in CONTRADICTIONS:
            code = status.HTTP_409_CONFLICT
        elif error.field in REFERENCES:
            code = status.HTTP_404_NOT_FOUND
        raise HTTPException(code, detail) from None
    except WatcchConflict as error:
        loc = ["body", error.field] if error.field else ["body"]
        raise HTTPException(status.HTTP_409_CONFLICT, [{"loc": loc, "msg": str(error), "type": "conflict"}]) from None
    except TransitionRefused as refused:
        body = {"detail": refused.reason, "state": refused.state.value,
                "allowed_actions": [a.value for a in refused.allowed]}  # fmt: skip
        raise HTTPException(status.HTTP_409_CONFLICT, body) from None
    except TooSoon as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    except LinkRefused as refused:
        code = status.HTTP_410_GONE if refused.gone else status.HTTP_409_CONFLICT
        raise HTTPException(code, str(refused)) from None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described: dict[int, tuple[object, str]] = {
        404: (ErrorOut | FieldErrorsOut, "No such cycle, application or link; or (`loc` names it) school"),
        409: (
            FieldErrorsOut,
            "Not now: the state, the capacity or a duplicate, with the reason; or a field contradicting another, "
            "the cycle or today (`loc` names it): dates out of order, rules asking more than they name",
        ),
        410: (ErrorOut, "The link has expired or was replaced"),
        422: (FieldErrorsOut, "Bad input: `loc` names the field"),
        429: (ErrorOut, "Too many requests from this client; see Retry-After"),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
