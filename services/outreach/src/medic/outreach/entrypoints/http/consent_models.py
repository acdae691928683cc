"""Request and response bodies of the consent API, and how its refusals become HTTP answers."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from medic.outreach.domain.conditions import Unmet
from medic.outreach.domain.consent import (
    GIVEN,
    MAX_TEXT,
    ConsentConflict,
    ConsentMethod,
    ConsentNotFound,
    ConsentScope,
    ConsentText,
    GiveConsent,
    InvalidConsent,
    Party,
    Standing,
    Status,
    WithdrawConsent,
)
from medic.outreach.domain.history import HistoryEvent
from medic.outreach.service_layer.consent import ConsentState
from medic.shared.http_fields import NOT_TEXT, IsoDate
from medic.shared.openapi import ErrorOut, FieldErrorsOut

from .dependencies import UnmetOut

# The wording: any characters but controls other than tab and line breaks, and something besides spaces.
WORDING = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\x00-\x20\x7f\x85\xa0][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
EXAMPLE_TEXT = (
    "I agree that the University may use my answers to WATCCH questionnaires, without my name, in research "
    "about widening access to healthcare careers. I can withdraw at any time."
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextIn(Strict):
    scope: ConsentScope = Field(examples=["research"])
    text: str = Field(
        min_length=1, max_length=MAX_TEXT, pattern=WORDING, examples=[EXAMPLE_TEXT],
        description="The exact wording the participant or guardian agrees to (published once, never edited)",
    )  # fmt: skip


class TextOut(BaseModel):
    scope: ConsentScope
    version: int = Field(examples=[1])
    text: str
    published_at: datetime
    published_by: str

    @classmethod
    def of(cls, text: ConsentText) -> "TextOut":
        return cls(**vars(text))


class ConsentIn(Strict):
    party: Party = Field(examples=["participant"], description="Whose consent: the participant's or a guardian's")
    scope: ConsentScope = Field(examples=["taking_part"])
    text_version: Annotated[int, Field(ge=1, le=100_000), NOT_TEXT] = Field(
        examples=[1], description="The published version of the scope's wording consented to"
    )
    method: ConsentMethod = Field(examples=["online_form"], description="How it was given")
    partner_ids: list[uuid.UUID] = Field(
        default=[], max_length=50, examples=[[]],
        description="Partner sharing only (and then at least one): the known partners it names",
    )  # fmt: skip
    form_dated_on: IsoDate | None = Field(
        default=None, examples=["2026-09-14"], description="The date on the form: required on paper; not after today"
    )
    expires_on: IsoDate | None = Field(
        default=None, examples=[None],
        description="Its last day, if before the end of the participant's cycle (the default)",
    )  # fmt: skip

    def command(self) -> GiveConsent:
        return GiveConsent(
            party=self.party,
            scope=self.scope,
            text_version=self.text_version,
            method=self.method,
            partner_ids=frozenset(self.partner_ids),
            form_dated_on=self.form_dated_on,
            expires_on=self.expires_on,
        )


class WithdrawalIn(Strict):
    party: Party = Field(examples=["participant"])
    scope: ConsentScope = Field(examples=["taking_part"])
    method: ConsentMethod = Field(examples=["email"], description="How the withdrawal was made")
    partner_id: uuid.UUID | None = Field(
        default=None, examples=[None],
        description="Partner sharing only: withdraw for this partner alone (omitted: for every partner)",
    )  # fmt: skip
    form_dated_on: IsoDate | None = Field(
        default=None, examples=[None], description="The date on the form: required on paper; not after today"
    )

    def command(self) -> WithdrawConsent:
        return WithdrawConsent(self.party, self.scope, self.method, self.partner_id, self.form_dated_on)


class RecordOut(BaseModel):
    """One record of the history: a consent given or withdrawn."""

    event_id: uuid.UUID
    kind: str = Field(examples=["given"], description="given or withdrawn")
    party: Party
    scope: ConsentScope
    partner_ids: list[uuid.UUID]
    text_version: int | None = Field(description="The wording consented to (given only)")
    method: ConsentMethod
    form_dated_on: date | None
    expires_on: date | None = Field(description="Its last day (given only)")
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def of(cls, event: HistoryEvent) -> "RecordOut":
        data = event.data
        return cls(
            event_id=event.event_id,
            kind="given" if event.type == GIVEN else "withdrawn",
            party=data["party"],
            scope=data["scope"],
            partner_ids=data.get("partner_ids", []),
            text_version=data.get("text_version"),
            method=data["method"],
            form_dated_on=data.get("form_dated_on"),
            expires_on=data.get("expires_on"),
            recorded_at=event.recorded_at,
            recorded_by=event.recorded_by,
        )


class StandingOut(BaseModel):
    """A party's standing record for the scope (for partner sharing: per partner), and its status on the day."""

    party: Party
    partner_id: uuid.UUID | None
    status: Status = Field(description="given (and valid), expired or withdrawn")
    text_version: int | None
    method: ConsentMethod
    form_dated_on: date | None
    expires_on: date | None
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def of(cls, standing: Standing, on: date) -> "StandingOut":
        return cls(
            party=standing.party,
            partner_id=standing.partner_id,
            status=standing.status(on),
            text_version=standing.text_version,
            method=standing.method,
            form_dated_on=standing.form_dated_on,
            expires_on=standing.expires_on,
            recorded_at=standing.recorded_at,
            recorded_by=standing.recorded_by,
        )


def unmet_out(unmet: tuple[Unmet, ...]) -> list[UnmetOut]:
    return [UnmetOut(code=u.code, message=u.message, subject=u.subject) for u in unmet]


class ScopeOut(BaseModel):
    scope: ConsentScope
    valid: bool = Field(description="Every needed party's consent given, not expired, not withdrawn, on the day")
    records: list[StandingOut]
    unmet: list[UnmetOut]


class ConsentsOut(BaseModel):
    participant_id: uuid.UUID
    as_of: date = Field(description="The record as it stood at the end of this day (Europe/London), judged on it")
    guardian_needed: bool = Field(description="Under the policy age that day: a parent's or guardian's consent too")
    scopes: list[ScopeOut]
    partner_ids: list[uuid.UUID] = Field(description="Partner sharing is valid with these partners")

    @classmethod
    def of(cls, state: ConsentState) -> "ConsentsOut":
        return cls(
            participant_id=state.participant_id,
            as_of=state.on,
            guardian_needed=Party.GUARDIAN in state.needed,
            scopes=[
                ScopeOut(
                    scope=s.scope,
                    valid=s.valid,
                    records=[StandingOut.of(r, state.on) for r in s.records],
                    unmet=unmet_out(s.unmet),
                )
                for s in state.scopes
            ],
            partner_ids=sorted(state.partners),
        )


class PermissionsOut(BaseModel):
    """What may be done with the participant on the day, by their consents (and a guardian's where needed)."""

    participant_id: uuid.UUID
    as_of: date
    taking_part: bool
    mentoring: bool
    photographs: bool = Field(description="Photographs may be taken and used")
    research: bool = Field(description="Their data may be in the research extract")
    partner_ids: list[uuid.UUID] = Field(description="The partners their data may be shared with")
    unmet: list[UnmetOut] = Field(description="Why anything is not allowed, condition by condition")

    @classmethod
    def of(cls, state: ConsentState) -> "PermissionsOut":
        return cls(
            participant_id=state.participant_id,
            as_of=state.on,
            taking_part=state.valid(ConsentScope.TAKING_PART),
            mentoring=state.valid(ConsentScope.MENTORING),
            photographs=state.valid(ConsentScope.PHOTOGRAPHS),
            research=state.valid(ConsentScope.RESEARCH),
            partner_ids=sorted(state.partners),
            unmet=unmet_out(state.unmet),
        )


# Fields the schema cannot judge alone: contradicting another field, the record or today (409 naming them).
QUERY_FIELDS = frozenset({"as_of"})


@contextmanager
def answering_errors() -> Iterator[None]:
    """Unknown participant 404; a field contradicting another, the record or today 409 naming it; a change the
    record does not allow 409 with the reason."""
    try:
        yield
    except ConsentNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except InvalidConsent as error:
        loc = ["query" if error.field in QUERY_FIELDS else "body", error.field]
        code = status.HTTP_422_UNPROCESSABLE_CONTENT if error.field == "text" else status.HTTP_409_CONFLICT
        raise HTTPException(code, [{"loc": loc, "msg": str(error), "type": "value_error"}]) from None
    except ConsentConflict as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described: dict[int, tuple[object, str]] = {
        404: (ErrorOut, "No such participant"),
        409: (
            ErrorOut | FieldErrorsOut,
            "A field contradicting another, the record or today (`loc` names it: a wording version not published, "
            "partners not known, a date after today or past the cycle), or nothing to withdraw (the reason)",
        ),
        422: (FieldErrorsOut, "Bad input: `loc` names the field"),
    }
    return {code: {"model": described[code][0], "description": described[code][1]} for code in codes}
