"""Clearance: whether a medical student may have a kind of contact with children on a day, and every condition unmet
if not (the rules are in `safeguarding`'s docstring). A pure function of the folded record. No I/O."""

import uuid
from dataclasses import dataclass
from datetime import date

from .conditions import Unmet
from .safeguarding import (
    CHILD_WORKFORCES,
    CONTACT_WORDS,
    ENHANCED_LEVELS,
    ContactKind,
    DbsCheck,
    DbsLevel,
    SafeguardingRecord,
    StatusResult,
    Training,
    Workforce,
)


@dataclass(frozen=True)
class Clearance:
    """Whether `person_id` may have `contact` with children on `on`, and every condition unmet if not. The basis:
    the check judged (the best on record), when its recheck is due, and when the training in force expires."""

    person_id: str
    contact: ContactKind
    on: date
    cleared: bool
    unmet: tuple[Unmet, ...]
    check_id: uuid.UUID | None = None
    level: DbsLevel | None = None
    workforce: Workforce | None = None
    recheck_due_on: date | None = None
    training_expires_on: date | None = None


def check_unmet(check: DbsCheck, contact: ContactKind, on: date, person_id: str) -> list[Unmet]:
    """What `check` lacks for `contact` on `on` (a voided check, or one issued later, is not judged here)."""
    unmet = []
    words = CONTACT_WORDS[contact]
    if contact is ContactKind.UNSUPERVISED_OR_REGULAR:
        if check.level not in ENHANCED_LEVELS:
            unmet.append(
                Unmet(
                    "dbs_level",
                    f"{words} needs an enhanced check with the children's barred list; "
                    f"the check on record is {check.level.value}",
                    person_id,
                )
            )
        elif check.level is not DbsLevel.ENHANCED_BARRED_CHILDREN:
            unmet.append(
                Unmet(
                    "dbs_barred_list",
                    f"{words} needs the children's barred list checked; the enhanced "
                    "check on record has no barred list check",
                    person_id,
                )
            )
        if check.workforce not in CHILD_WORKFORCES:
            unmet.append(
                Unmet(
                    "dbs_workforce",
                    f"{words} needs a check in the child (or child and adult) "
                    f"workforce; the check on record is {check.workforce.value}",
                    person_id,
                )
            )
    elif check.level not in ENHANCED_LEVELS:
        unmet.append(
            Unmet(
                "dbs_level", f"{words} needs an enhanced check; the check on record is {check.level.value}", person_id
            )
        )
    status = check.status_on(on)
    if status is not None and status.result is StatusResult.CHANGED:
        unmet.append(
            Unmet(
                "dbs_status_changed",
                f"the Update Service status check of {status.checked_on.isoformat()} "
                "found the certificate no longer current: a new check is needed",
                person_id,
            )
        )
    due = check.due_on(on)
    if on >= due:
        unmet.append(Unmet("dbs_recheck_due", f"the DBS recheck was due on {due.isoformat()}", person_id))
    return unmet


def training_in_force(record: SafeguardingRecord, on: date) -> Training | None:
    """Of the training completed on or before `on`, the one that lasts longest."""
    done = [t for t in record.trainings if t.completed_on <= on]
    return max(done, key=lambda t: (t.expires_on, t.completed_on)) if done else None


def clearance_of(record: SafeguardingRecord | None, contact: ContactKind, on: date) -> Clearance:
    """The clearance the record gives for `contact` on `on`, listing every unmet condition."""
    if record is None or not record.registered:
        person_id = record.person_id if record is not None else ""
        missing = (
            Unmet(
                "no_safeguarding_record",
                "no safeguarding record: register the person and record a DBS check and safeguarding training",
                person_id or None,
            ),
        )
        return Clearance(person_id, contact, on, False, missing)
    person_id = record.person_id
    unmet: list[Unmet] = []
    if record.erased:
        unmet.append(Unmet("record_erased", "the person's safeguarding record was erased after they left", person_id))
    if record.left_on is not None and record.left_on <= on:
        unmet.append(Unmet("person_left", f"left on {record.left_on.isoformat()}", person_id))
    candidates = [c for c in record.checks if c.voided is None and c.issued_on <= on]
    best: DbsCheck | None = None
    if not candidates:
        unmet.append(
            Unmet(
                "no_dbs_check",
                f"no DBS check on record issued on or before {on.isoformat()} (voided checks do not count)",
                person_id,
            )
        )
    else:
        best = min(
            candidates,
            key=lambda c: (
                len(check_unmet(c, contact, on, person_id)),
                -c.due_on(on).toordinal(),
                -c.issued_on.toordinal(),
            ),
        )
        unmet += check_unmet(best, contact, on, person_id)
    training = training_in_force(record, on)
    if training is None:
        unmet.append(
            Unmet("training_missing", f"no safeguarding training completed on or before {on.isoformat()}", person_id)
        )
    elif training.expires_on <= on:
        unmet.append(
            Unmet(
                "training_expired", f"the safeguarding training expired on {training.expires_on.isoformat()}", person_id
            )
        )
    return Clearance(
        person_id=person_id,
        contact=contact,
        on=on,
        cleared=not unmet,
        unmet=tuple(unmet),
        check_id=best.check_id if best else None,
        level=best.level if best else None,
        workforce=best.workforce if best else None,
        recheck_due_on=best.due_on(on) if best else None,
        training_expires_on=training.expires_on if training else None,
    )
