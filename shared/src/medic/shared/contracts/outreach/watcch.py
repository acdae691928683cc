"""WATCCH cycles and applications.

A participant appears only by their pseudonymous id (a random UUID outreach gives each person): no event carries a
name, date of birth, email, phone, postcode, parent or guardian, referee, the answers to the form's questions, the
indicator values a decision used, or any reason written by a coordinator. Consumers needing more ask outreach.
"""

import uuid
from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE


class WatcchCycleV1(EventPayload):
    source: ClassVar[str] = SOURCE

    cycle_id: uuid.UUID = Field(description="The cycle.")
    name: str = Field(description="The cycle's name.", examples=["WATCCH 2026/27"])
    academic_year: str = Field(description="The academic year, e.g. 2026/27.", examples=["2026/27"])
    capacity: int = Field(description="Places in the cycle.", examples=[30])
    applications_open_on: date = Field(description="First day the public form takes applications.")
    applications_close_on: date = Field(description="Last day the public form takes applications.")
    programme_starts_on: date = Field(description="First day of the programme.")


class WatcchCycleOpenedV1(WatcchCycleV1):
    """A cycle started taking applications."""

    event_type: ClassVar[str] = "outreach.watcch_cycle.opened.v1"


class WatcchCycleClosedV1(WatcchCycleV1):
    """A cycle stopped taking applications (offers, the waitlist and enrolment go on)."""

    event_type: ClassVar[str] = "outreach.watcch_cycle.closed.v1"


class WatcchApplicationV1(EventPayload):
    """What every application event carries: which application, whose (pseudonymously), in which cycle."""

    source: ClassVar[str] = SOURCE

    application_id: uuid.UUID = Field(description="The application.")
    cycle_id: uuid.UUID = Field(description="The cycle applied to.")
    participant_id: uuid.UUID = Field(description="The applicant's pseudonymous id (never their details).")


class WatcchApplicationSubmittedV1(WatcchApplicationV1):
    """An application arrived (through the public form or entered by a coordinator)."""

    event_type: ClassVar[str] = "outreach.watcch_application.submitted.v1"

    school_urn: str = Field(description="The applicant's school (URN, 6 digits).", examples=["100000"])
    year_group: str = Field(description="The applicant's school year.", examples=["year_12"])
    entered_by_coordinator: bool = Field(description="True when a coordinator entered it on the applicant's behalf.")


class WatcchApplicationDecidedV1(WatcchApplicationV1):
    """Eligibility was decided (on submission, or again by a coordinator's re-evaluation). Only the outcome and
    the rules' version: the values judged stay in outreach."""

    event_type: ClassVar[str] = "outreach.watcch_application.decided.v1"

    eligible: bool = Field(description="Whether every rule was met.")
    rules_version: int = Field(description="The version of the cycle's rules it was judged by.", examples=[1])
    reevaluation: bool = Field(description="True when a coordinator asked for it to be judged again.")


class WatcchApplicationWaitlistedV1(WatcchApplicationV1):
    """The application joined the cycle's waitlist."""

    event_type: ClassVar[str] = "outreach.watcch_application.waitlisted.v1"


class WatcchApplicationOfferedV1(WatcchApplicationV1):
    """A place was offered (by a coordinator, or from the head of the waitlist when a place freed)."""

    event_type: ClassVar[str] = "outreach.watcch_application.offered.v1"

    expires_at: datetime = Field(description="When the offer lapses unless accepted.")
    from_waitlist: bool = Field(description="True when the waitlist moved by itself to offer it.")


class WatcchApplicationAcceptedV1(WatcchApplicationV1):
    event_type: ClassVar[str] = "outreach.watcch_application.accepted.v1"


class WatcchApplicationDeclinedV1(WatcchApplicationV1):
    event_type: ClassVar[str] = "outreach.watcch_application.declined.v1"


class WatcchApplicationOfferExpiredV1(WatcchApplicationV1):
    """The offer was not accepted within the cycle's offer lifetime."""

    event_type: ClassVar[str] = "outreach.watcch_application.offer_expired.v1"


class WatcchApplicationEnrolledV1(WatcchApplicationV1):
    event_type: ClassVar[str] = "outreach.watcch_application.enrolled.v1"


class WatcchApplicationCompletedV1(WatcchApplicationV1):
    event_type: ClassVar[str] = "outreach.watcch_application.completed.v1"


class WatcchApplicationWithdrawnV1(WatcchApplicationV1):
    """Withdrawn (the reason stays in outreach)."""

    event_type: ClassVar[str] = "outreach.watcch_application.withdrawn.v1"

    previous_state: str = Field(description="The state it was withdrawn from.", examples=["offered"])


PUBLISHED: tuple[type[EventPayload], ...] = (
    WatcchCycleOpenedV1,
    WatcchCycleClosedV1,
    WatcchApplicationSubmittedV1,
    WatcchApplicationDecidedV1,
    WatcchApplicationWaitlistedV1,
    WatcchApplicationOfferedV1,
    WatcchApplicationAcceptedV1,
    WatcchApplicationDeclinedV1,
    WatcchApplicationOfferExpiredV1,
    WatcchApplicationEnrolledV1,
    WatcchApplicationCompletedV1,
    WatcchApplicationWithdrawnV1,
)
