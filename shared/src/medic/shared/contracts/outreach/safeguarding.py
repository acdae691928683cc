"""Safeguarding records of the medical students who work with children: DBS checks, training, reminders.

A person appears by their person id (their university id, the id primary sessions and student tokens use). No
event carries a name, a DBS certificate number or any part of it, or text typed by a person: ids, codes and dates
only. Erasure's own event (`outreach.safeguarding_person.erased.v1`) is in erasure.py.
"""

import uuid
from datetime import date
from typing import ClassVar

from pydantic import Field

from medic.shared.events import EventPayload

from .source import SOURCE

PERSON = "The person's id (their university id)."


class SafeguardingPersonV1(EventPayload):
    source: ClassVar[str] = SOURCE

    person_id: str = Field(description=PERSON, examples=["2301234"])


class SafeguardingPersonRegisteredV1(SafeguardingPersonV1):
    """A person who works with children was registered for a safeguarding record."""

    event_type: ClassVar[str] = "outreach.safeguarding_person.registered.v1"


class SafeguardingPersonLeftV1(SafeguardingPersonV1):
    """A leaving date was recorded (retention counts from it)."""

    event_type: ClassVar[str] = "outreach.safeguarding_person.left.v1"

    left_on: date = Field(description="The day they left (or will leave) the programmes.")


class DbsCheckV1(SafeguardingPersonV1):
    check_id: uuid.UUID = Field(description="The check, the same in every event about it.")


class DbsCheckRecordedV1(DbsCheckV1):
    """A DBS check was recorded (never its certificate number)."""

    event_type: ClassVar[str] = "outreach.dbs_check.recorded.v1"

    level: str = Field(description="basic, standard, enhanced or enhanced_barred_children.", examples=["enhanced"])
    workforce: str = Field(description="child, adult, child_and_adult or other.", examples=["child"])
    issued_on: date = Field(description="The certificate's issue date.")
    seen_how: str = Field(description="original_certificate or update_service.", examples=["original_certificate"])
    recheck_due_on: date = Field(description="When a recheck is due (by the policy when recorded).")


class DbsCheckVoidedV1(DbsCheckV1):
    """A check recorded in error was voided: it no longer clears anyone (the record keeps it, marked void)."""

    event_type: ClassVar[str] = "outreach.dbs_check.voided.v1"

    reason: str = Field(
        description="recorded_in_error, wrong_person, duplicate or wrong_details.", examples=["recorded_in_error"]
    )


class DbsCheckUpdateServiceCheckedV1(DbsCheckV1):
    """An Update Service status check was made on the certificate."""

    event_type: ClassVar[str] = "outreach.dbs_check.update_service_checked.v1"

    checked_on: date = Field(description="The day of the status check.")
    result: str = Field(description="no_change or changed (a new check is needed).", examples=["no_change"])
    recheck_due_on: date = Field(description="When a recheck is now due.")


class DbsRecheckDueV1(DbsCheckV1):
    """A reminder: the person's DBS recheck is due in `days_before` days (30, 14 or 7; not while a renewal is in
    progress)."""

    event_type: ClassVar[str] = "outreach.dbs_check.recheck_due.v1"

    due_on: date = Field(description="The day the recheck is due.")
    days_before: int = Field(description="How many days before: 30, 14 or 7.", examples=[30])


class DbsCheckLapsedV1(DbsCheckV1):
    """The recheck is due today: the check no longer clears the person for contact with children."""

    event_type: ClassVar[str] = "outreach.dbs_check.lapsed.v1"

    due_on: date = Field(description="The day the recheck was due.")


class SafeguardingTrainingV1(SafeguardingPersonV1):
    training_id: uuid.UUID = Field(description="The training record.")
    expires_on: date = Field(description="The first day the training is no longer in date.")


class SafeguardingTrainingRecordedV1(SafeguardingTrainingV1):
    """Safeguarding training was recorded."""

    event_type: ClassVar[str] = "outreach.safeguarding_training.recorded.v1"

    completed_on: date = Field(description="The day it was completed.")


class SafeguardingTrainingExpiringV1(SafeguardingTrainingV1):
    """A reminder: the person's safeguarding training expires in `days_before` days (30, 14 or 7)."""

    event_type: ClassVar[str] = "outreach.safeguarding_training.expiring.v1"

    days_before: int = Field(description="How many days before: 30, 14 or 7.", examples=[30])


class SafeguardingTrainingLapsedV1(SafeguardingTrainingV1):
    """The person's safeguarding training is out of date from today."""

    event_type: ClassVar[str] = "outreach.safeguarding_training.lapsed.v1"


class SafeguardingRenewalStartedV1(SafeguardingPersonV1):
    """A DBS renewal is in progress: recheck reminders pause (it clears no one)."""

    event_type: ClassVar[str] = "outreach.safeguarding_renewal.started.v1"


class SafeguardingRenewalStoppedV1(SafeguardingPersonV1):
    """The renewal is no longer in progress: recheck reminders resume."""

    event_type: ClassVar[str] = "outreach.safeguarding_renewal.stopped.v1"


PUBLISHED: tuple[type[EventPayload], ...] = (
    SafeguardingPersonRegisteredV1,
    SafeguardingPersonLeftV1,
    DbsCheckRecordedV1,
    DbsCheckVoidedV1,
    DbsCheckUpdateServiceCheckedV1,
    DbsRecheckDueV1,
    DbsCheckLapsedV1,
    SafeguardingTrainingRecordedV1,
    SafeguardingTrainingExpiringV1,
    SafeguardingTrainingLapsedV1,
    SafeguardingRenewalStartedV1,
    SafeguardingRenewalStoppedV1,
)
