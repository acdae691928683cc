"""The reminders and lapses the safeguarding timers send: a DBS recheck or training expiry 30, 14 and 7 days ahead
(the nearest threshold reached only; no DBS reminder while a renewal is in progress), and the lapse on the day. No
I/O."""

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .safeguarding import THRESHOLDS, DbsCheck, SafeguardingRecord, StatusResult
from .safeguarding_clearance import training_in_force


class ReminderKind(StrEnum):
    DBS_RECHECK = "dbs_recheck"  # a recheck due in 30, 14 or 7 days
    DBS_LAPSED = "dbs_lapsed"  # the recheck is due today: the check no longer clears anyone
    TRAINING_EXPIRING = "training_expiry"
    TRAINING_LAPSED = "training_lapsed"


@dataclass(frozen=True)
class Reminder:
    kind: ReminderKind
    person_id: str
    about: uuid.UUID  # the check or the training
    due_on: date
    days_before: int | None  # None when it lapses

    @property
    def key(self) -> str:
        """Unique to this firing: `<kind>:<person>:<due date>[:<days>]` (a new due date reminds again)."""
        tail = "" if self.days_before is None else f":{self.days_before}"
        return f"{self.kind.value}:{self.person_id}:{self.due_on.isoformat()}{tail}"


def threshold_reached(days_left: int) -> int | None:
    """The nearest threshold reached `days_left` days before a date (only that one fires, so a service that was
    down past a threshold sends the nearest one not yet passed, not every one it missed)."""
    reached = [t for t in THRESHOLDS if days_left <= t]
    return min(reached) if reached else None


def current_check(record: SafeguardingRecord, today: date) -> DbsCheck | None:
    """The check a recheck reminder is about: of the valid checks issued by today, the one due last."""
    valid = [
        c
        for c in record.checks
        if c.voided is None
        and c.issued_on <= today
        and ((s := c.status_on(today)) is None or s.result is not StatusResult.CHANGED)
    ]
    return max(valid, key=lambda c: (c.due_on(today), c.issued_on)) if valid else None


def reminders_due(record: SafeguardingRecord, today: date) -> list[Reminder]:
    """What is due on `today`: a recheck or training reminder at the nearest threshold reached (none for DBS while a
    renewal is in progress), or the lapse of the check or training on (or after) its day. None for a person
    unregistered, erased or left."""
    if not record.registered or record.erased or (record.left_on is not None and record.left_on <= today):
        return []
    due: list[Reminder] = []
    check = current_check(record, today)
    if check is not None:
        due_on = check.due_on(today)
        days_left = (due_on - today).days
        if days_left <= 0:
            due.append(Reminder(ReminderKind.DBS_LAPSED, record.person_id, check.check_id, due_on, None))
        elif not record.renewal_in_progress and (threshold := threshold_reached(days_left)) is not None:
            due.append(Reminder(ReminderKind.DBS_RECHECK, record.person_id, check.check_id, due_on, threshold))
    training = training_in_force(record, today)
    if training is not None:
        days_left = (training.expires_on - today).days
        kind, about = ReminderKind.TRAINING_LAPSED, training.training_id
        if days_left <= 0:
            due.append(Reminder(kind, record.person_id, about, training.expires_on, None))
        elif (threshold := threshold_reached(days_left)) is not None:
            due.append(
                Reminder(ReminderKind.TRAINING_EXPIRING, record.person_id, about, training.expires_on, threshold)
            )
    return due
