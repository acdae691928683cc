"""Events of the consent area: a WATCCH participant's consent given, withdrawn, nearing its expiry, expired.

Partner sharing stops downstream on `withdrawn` and `expired` (the notifications service's partner webhooks ask
outreach before sending anything). Events carry the pseudonymous participant id, codes and dates only: never the
wording consented to, a name, a date of birth or anything typed by a person.
"""

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class ConsentV1(EventPayload):
    """What every consent event carries: whose consent (pseudonymously), by whom, to what."""

    source: ClassVar[str] = SOURCE

    participant_id: uuid.UUID = Field(description="The participant's pseudonymous id (never their details).")
    scope: str = Field(
        description="taking_part, mentoring, photographs, partner_sharing or research.", examples=["research"]
    )
    party: str = Field(description="Whose consent: participant, or guardian (a parent or guardian).",
                       examples=["participant"])  # fmt: skip
    partner_ids: list[uuid.UUID] = Field(
        description="Partner sharing: the partners this is about (empty for the other scopes)."
    )


class ConsentGivenV1(ConsentV1):
    """A consent was recorded as given."""

    event_type: ClassVar[str] = "outreach.consent.given.v1"

    text_version: int = Field(description="The version of the scope's wording consented to.", examples=[1])
    method: str = Field(description="online_form, paper_form, verbal_recorded or email.", examples=["paper_form"])
    given_on: date = Field(description="The date on the form, or else the day it was recorded.")
    recorded_at: datetime = Field(description="When it was recorded.")
    expires_on: date | None = Field(description="The last day it holds (by default the end of the cycle).")


class ConsentWithdrawnV1(ConsentV1):
    """A consent was withdrawn: from the moment it was recorded, nothing it allowed may be done."""

    event_type: ClassVar[str] = "outreach.consent.withdrawn.v1"

    method: str = Field(description="online_form, paper_form, verbal_recorded or email.", examples=["email"])
    withdrawn_on: date = Field(description="The date on the form, or else the day it was recorded.")
    recorded_at: datetime = Field(description="When it was recorded: it took effect then.")


class ConsentExpiringV1(ConsentV1):
    """A consent's last day is near (the policy's days before; once per consent given)."""

    event_type: ClassVar[str] = "outreach.consent.expiring.v1"

    expires_on: date = Field(description="The last day it holds.")
    days_left: int = Field(description="Days from today to its last day.", examples=[14])


class ConsentExpiredV1(ConsentV1):
    """A consent's last day has passed (sent the day after, once per consent given)."""

    event_type: ClassVar[str] = "outreach.consent.expired.v1"

    expires_on: date = Field(description="The last day it held.")


PUBLISHED: tuple[type[EventPayload], ...] = (ConsentGivenV1, ConsentWithdrawnV1, ConsentExpiringV1, ConsentExpiredV1)
