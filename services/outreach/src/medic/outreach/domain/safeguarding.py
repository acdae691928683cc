"""Safeguarding records of the medical students who work with children, as a fold of their history. No I/O.

A person's record is their `Stream.SAFEGUARDING` history folded (see domain/history.py): registered, DBS checks
recorded (and Update Service status checks added to them, or voided when recorded in error), a renewal in progress
or not, safeguarding training, a leaving date. Nothing is edited: a correction is a new event.

Who may work with children on a day is `safeguarding_clearance.clearance_of(record, contact, day)`:

- supervised, occasional contact (a teacher present): an enhanced check (with or without the children's barred
  list), whatever its workforce;
- unsupervised or regular contact ("regulated activity"): an enhanced check with the children's barred list, in the
  child (or child and adult) workforce;
- either: the check issued on or before the day, not voided, its recheck not yet due on the day, its last Update
  Service status check (if any, on or before the day) not `changed`; safeguarding training completed on or before
  the day and not expired on it; the person not left on or before the day.

The recheck due date is fixed when the check (or an Update Service status check with result `no_change`) is
recorded, by the policy then in force (`recheck_due_on`), and kept in the history: an "as of" answer is what the
record said then. A certificate number never enters the history: only a keyed hash of it and its last four digits,
in a table of their own (erasure deletes them). The reminders the timers send are in `safeguarding_reminders`.
"""

import hashlib
import hmac
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from .dates import add_years
from .history import HistoryEvent

DEFAULT_RECHECK_YEARS = 3
# Reminders before a recheck is due or training expires, in days; on the day itself the check or training lapses.
THRESHOLDS = (30, 14, 7)
CERTIFICATE_NUMBER = re.compile(r"[0-9]{12}")
PERSON_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class DbsLevel(StrEnum):
    BASIC = "basic"
    STANDARD = "standard"
    ENHANCED = "enhanced"
    ENHANCED_BARRED_CHILDREN = "enhanced_barred_children"  # enhanced, with the children's barred list


ENHANCED_LEVELS = frozenset({DbsLevel.ENHANCED, DbsLevel.ENHANCED_BARRED_CHILDREN})


class Workforce(StrEnum):
    CHILD = "child"
    ADULT = "adult"
    CHILD_AND_ADULT = "child_and_adult"
    OTHER = "other"


CHILD_WORKFORCES = frozenset({Workforce.CHILD, Workforce.CHILD_AND_ADULT})


class SeenHow(StrEnum):
    """How the certificate was seen: the original, or a DBS Update Service status check (with its date and
    result)."""

    ORIGINAL_CERTIFICATE = "original_certificate"
    UPDATE_SERVICE = "update_service"


class StatusResult(StrEnum):
    """An Update Service status check's answer: no new information since issue, or the certificate is no longer
    current (a new check is needed)."""

    NO_CHANGE = "no_change"
    CHANGED = "changed"


class VoidReason(StrEnum):
    RECORDED_IN_ERROR = "recorded_in_error"
    WRONG_PERSON = "wrong_person"
    DUPLICATE = "duplicate"
    WRONG_DETAILS = "wrong_details"


class ContactKind(StrEnum):
    SUPERVISED_OCCASIONAL = "supervised_occasional"  # enhanced check (no barred list needed), training in date
    UNSUPERVISED_OR_REGULAR = "unsupervised_or_regular"  # enhanced + children's barred list, child workforce, training


CONTACT_WORDS = {
    ContactKind.SUPERVISED_OCCASIONAL: "supervised, occasional contact with children",
    ContactKind.UNSUPERVISED_OR_REGULAR: "unsupervised or regular contact with children",
}


class EventType(StrEnum):
    """The events of a safeguarding history (`data`: ids, codes and dates only)."""

    REGISTERED = "person_registered"  # {}
    CHECK_RECORDED = "dbs_check_recorded"  # check_id, level, workforce, issued_on, seen_how, recheck_due_on
    STATUS_CHECKED = "update_service_checked"  # check_id, checked_on, result, recheck_due_on (no_change only)
    CHECK_VOIDED = "dbs_check_voided"  # check_id, reason
    RENEWAL_STARTED = "renewal_started"  # {}
    RENEWAL_STOPPED = "renewal_stopped"  # {}
    TRAINING_RECORDED = "training_recorded"  # training_id, completed_on, expires_on
    LEFT = "leaving_recorded"  # left_on


# What erasure keeps of each event (keys of `data`); an event of another type is deleted.
KEPT_AFTER_ERASURE: Mapping[str, frozenset[str]] = {
    EventType.REGISTERED: frozenset(),
    EventType.CHECK_RECORDED: frozenset({"check_id", "level", "workforce", "issued_on", "seen_how", "recheck_due_on"}),
    EventType.STATUS_CHECKED: frozenset({"check_id", "checked_on", "result", "recheck_due_on"}),
    EventType.CHECK_VOIDED: frozenset({"check_id", "reason"}),
    EventType.RENEWAL_STARTED: frozenset(),
    EventType.RENEWAL_STOPPED: frozenset(),
    EventType.TRAINING_RECORDED: frozenset({"training_id", "completed_on", "expires_on"}),
    EventType.LEFT: frozenset({"left_on"}),
}


def kept_after_erasure(event: HistoryEvent) -> dict[str, Any] | None:
    """The part of `event` erasure keeps (the type, dates and codes the single central record needs), or None."""
    keys = KEPT_AFTER_ERASURE.get(event.type)
    if keys is None:
        return None
    return {k: v for k, v in event.data.items() if k in keys}


class InvalidSafeguarding(ValueError):
    """Input that contradicts another field, the record or today (409); `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SafeguardingNotFound(Exception):
    """No such person or check (or not one the caller may see): 404."""


class SafeguardingRefused(Exception):
    """An action the record's state does not allow now (409), with the reason and what is allowed instead."""

    def __init__(self, action: "Action", reason: str, allowed: Iterable["Action"]) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason
        self.allowed = tuple(allowed)


def certificate_digest(number: str, key: bytes) -> str:
    """HMAC-SHA256 of a 12-digit certificate number under the service's secret key, hex: the only form of the
    number kept, so that one typed later can be verified without the number being recoverable."""
    if not CERTIFICATE_NUMBER.fullmatch(number):
        raise InvalidSafeguarding("certificate_number", "a DBS certificate number is 12 digits")
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def digest_matches(number: str, key: bytes, digest: str) -> bool:
    if not CERTIFICATE_NUMBER.fullmatch(number):
        return False
    return hmac.compare_digest(certificate_digest(number, key), digest)


# --- the folded record ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCheck:
    checked_on: date
    result: StatusResult
    recheck_due_on: date | None  # with result no_change: the recheck is due this many years after it
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class DbsCheck:
    check_id: uuid.UUID
    level: DbsLevel
    workforce: Workforce
    issued_on: date
    seen_how: SeenHow
    recheck_due_on: date  # as recorded: the policy's years after issue
    recorded_at: datetime
    recorded_by: str
    status_checks: tuple[StatusCheck, ...] = ()
    voided: VoidReason | None = None
    voided_at: datetime | None = None

    def status_on(self, day: date) -> StatusCheck | None:
        """The latest Update Service status check made on or before `day`."""
        made = [s for s in self.status_checks if s.checked_on <= day]
        return max(made, key=lambda s: s.checked_on) if made else None

    def due_on(self, day: date) -> date:
        """When a recheck is due, as known on `day`: after issue, or after the last `no_change` status check."""
        dues = [self.recheck_due_on]
        dues += [s.recheck_due_on for s in self.status_checks if s.checked_on <= day and s.recheck_due_on]
        return max(dues)


@dataclass(frozen=True)
class Training:
    training_id: uuid.UUID
    completed_on: date
    expires_on: date  # the first day it is no longer in date
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class SafeguardingRecord:
    person_id: str
    registered_at: datetime | None = None
    registered_by: str | None = None
    checks: tuple[DbsCheck, ...] = ()
    trainings: tuple[Training, ...] = ()
    renewal_in_progress: bool = False
    left_on: date | None = None
    erased: bool = False  # the personal details were erased (not in the history: the people table says so)
    events: int = field(default=0, compare=False)

    @property
    def registered(self) -> bool:
        return self.registered_at is not None

    def check(self, check_id: uuid.UUID) -> DbsCheck | None:
        return next((c for c in self.checks if c.check_id == check_id), None)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _optional_day(value: Any) -> date | None:
    return None if value is None else _day(value)


def _replace_check(record: SafeguardingRecord, check: DbsCheck) -> SafeguardingRecord:
    return replace(record, checks=tuple(check if c.check_id == check.check_id else c for c in record.checks))


def apply(record: SafeguardingRecord, event: HistoryEvent) -> SafeguardingRecord:
    """The record after `event` (an event naming an unknown check, or of an unknown type, changes nothing)."""
    data, at, by = event.data, event.recorded_at, event.recorded_by
    record = replace(record, events=record.events + 1)
    match event.type:
        case EventType.REGISTERED:
            return record if record.registered else replace(record, registered_at=at, registered_by=by)
        case EventType.CHECK_RECORDED:
            check = DbsCheck(
                check_id=uuid.UUID(str(data["check_id"])),
                level=DbsLevel(data["level"]),
                workforce=Workforce(data["workforce"]),
                issued_on=_day(data["issued_on"]),
                seen_how=SeenHow(data["seen_how"]),
                recheck_due_on=_day(data["recheck_due_on"]),
                recorded_at=at,
                recorded_by=by,
            )
            return replace(record, checks=(*record.checks, check))
        case EventType.STATUS_CHECKED | EventType.CHECK_VOIDED:
            found = record.check(uuid.UUID(str(data["check_id"])))
            if found is None:
                return record
            if event.type == EventType.CHECK_VOIDED:
                return _replace_check(record, replace(found, voided=VoidReason(data["reason"]), voided_at=at))
            status = StatusCheck(
                checked_on=_day(data["checked_on"]),
                result=StatusResult(data["result"]),
                recheck_due_on=_optional_day(data.get("recheck_due_on")),
                recorded_at=at,
                recorded_by=by,
            )
            return _replace_check(record, replace(found, status_checks=(*found.status_checks, status)))
        case EventType.RENEWAL_STARTED | EventType.RENEWAL_STOPPED:
            return replace(record, renewal_in_progress=event.type == EventType.RENEWAL_STARTED)
        case EventType.TRAINING_RECORDED:
            training = Training(
                training_id=uuid.UUID(str(data["training_id"])),
                completed_on=_day(data["completed_on"]),
                expires_on=_day(data["expires_on"]),
                recorded_at=at,
                recorded_by=by,
            )
            return replace(record, trainings=(*record.trainings, training))
        case EventType.LEFT:
            return replace(record, left_on=_optional_day(data.get("left_on")))
    return record


def fold(person_id: str, events: Iterable[HistoryEvent]) -> SafeguardingRecord:
    """The record a history (in the order recorded) describes."""
    record = SafeguardingRecord(person_id)
    for event in events:
        record = apply(record, event)
    return record


# --- what may be done to a record, as data ---------------------------------------------------------------------


class Action(StrEnum):
    REGISTER = "register"
    RECORD_CHECK = "record_check"
    ADD_STATUS_CHECK = "add_status_check"
    VOID_CHECK = "void_check"
    START_RENEWAL = "start_renewal"
    STOP_RENEWAL = "stop_renewal"
    RECORD_TRAINING = "record_training"
    RECORD_LEAVING = "record_leaving"


Guard = Callable[[SafeguardingRecord, DbsCheck | None], str | None]  # what stands in the way, or None


def _unregistered(record: SafeguardingRecord, _: DbsCheck | None) -> str | None:
    return f"{record.person_id} is registered already" if record.registered else None


def _registered(record: SafeguardingRecord, _: DbsCheck | None) -> str | None:
    return None if record.registered else f"{record.person_id} is not registered"


def _not_erased(record: SafeguardingRecord, _: DbsCheck | None) -> str | None:
    return "the record's personal details were erased: it is kept as it was" if record.erased else None


def _check_not_voided(_: SafeguardingRecord, check: DbsCheck | None) -> str | None:
    if check is None:
        return "no such check"
    return f"the check was voided ({check.voided.value})" if check.voided else None


def _renewal_not_started(record: SafeguardingRecord, _: DbsCheck | None) -> str | None:
    return "a renewal is in progress already" if record.renewal_in_progress else None


def _renewal_started(record: SafeguardingRecord, _: DbsCheck | None) -> str | None:
    return None if record.renewal_in_progress else "no renewal is in progress"


_LIVE: tuple[Guard, ...] = (_registered, _not_erased)
# Each action and what must hold for it. Check-level actions name a check (`check`), record-level ones do not.
RULES: Mapping[Action, tuple[Guard, ...]] = {
    Action.REGISTER: (_unregistered,),
    Action.RECORD_CHECK: _LIVE,
    Action.ADD_STATUS_CHECK: (*_LIVE, _check_not_voided),
    Action.VOID_CHECK: (*_LIVE, _check_not_voided),
    Action.START_RENEWAL: (*_LIVE, _renewal_not_started),
    Action.STOP_RENEWAL: (*_LIVE, _renewal_started),
    Action.RECORD_TRAINING: _LIVE,
    Action.RECORD_LEAVING: _LIVE,
}
CHECK_ACTIONS = frozenset({Action.ADD_STATUS_CHECK, Action.VOID_CHECK})


def refusal(record: SafeguardingRecord, action: Action, check: DbsCheck | None = None) -> str | None:
    """Why `action` may not be taken now (the first reason), or None."""
    for guard in RULES[action]:
        if (reason := guard(record, check)) is not None:
            return reason
    return None


def options(record: SafeguardingRecord) -> list[Action]:
    """The record-level actions allowed now."""
    return [a for a in Action if a not in CHECK_ACTIONS and refusal(record, a) is None]


def check_options(record: SafeguardingRecord, check: DbsCheck) -> list[Action]:
    """The actions allowed now on one check."""
    return [a for a in sorted(CHECK_ACTIONS) if refusal(record, a, check) is None]


def require(record: SafeguardingRecord, action: Action, check: DbsCheck | None = None) -> None:
    """Raise SafeguardingRefused (409) unless `action` is allowed."""
    if (reason := refusal(record, action, check)) is not None:
        raise SafeguardingRefused(action, reason, options(record))


# --- new events (validated) -------------------------------------------------------------------------------------


def check_recorded(
    *,
    check_id: uuid.UUID,
    level: DbsLevel,
    workforce: Workforce,
    issued_on: date,
    seen_how: SeenHow,
    status_checked_on: date | None,
    status_result: StatusResult | None,
    today: date,
    recheck_years: int,
) -> list[tuple[EventType, dict[str, Any]]]:
    """The events recording a check (and, seen through the Update Service, its status check)."""
    if issued_on > today:
        raise InvalidSafeguarding("issued_on", "the issue date is in the future")
    events: list[tuple[EventType, dict[str, Any]]] = [
        (
            EventType.CHECK_RECORDED,
            {
                "check_id": str(check_id),
                "level": level.value,
                "workforce": workforce.value,
                "issued_on": issued_on.isoformat(),
                "seen_how": seen_how.value,
                "recheck_due_on": add_years(issued_on, recheck_years).isoformat(),
            },
        )
    ]
    if seen_how is SeenHow.UPDATE_SERVICE:
        if status_checked_on is None:
            raise InvalidSafeguarding("status_checked_on", "seen through the Update Service: say when it was checked")
        if status_result is None:
            raise InvalidSafeguarding("status_result", "seen through the Update Service: say what it answered")
        events.append(
            status_checked(
                check_id=check_id,
                issued_on=issued_on,
                checked_on=status_checked_on,
                result=status_result,
                today=today,
                recheck_years=recheck_years,
                field_="status_checked_on",
            )
        )
    elif status_checked_on is not None or status_result is not None:
        field_ = "status_checked_on" if status_checked_on is not None else "status_result"
        raise InvalidSafeguarding(field_, "an original certificate has no Update Service status check")
    return events


def status_checked(
    *,
    check_id: uuid.UUID,
    issued_on: date,
    checked_on: date,
    result: StatusResult,
    today: date,
    recheck_years: int,
    field_: str = "checked_on",
) -> tuple[EventType, dict[str, Any]]:
    """The event of an Update Service status check (`field_` names the date's field in the request)."""
    if checked_on > today:
        raise InvalidSafeguarding(field_, "the status check is in the future")
    if checked_on < issued_on:
        raise InvalidSafeguarding(field_, "the status check is before the certificate's issue date")
    data: dict[str, Any] = {"check_id": str(check_id), "checked_on": checked_on.isoformat(), "result": result.value}
    if result is StatusResult.NO_CHANGE:
        data["recheck_due_on"] = add_years(checked_on, recheck_years).isoformat()
    return EventType.STATUS_CHECKED, data


def training_recorded(
    *, training_id: uuid.UUID, completed_on: date, expires_on: date, today: date
) -> tuple[EventType, dict[str, Any]]:
    if completed_on > today:
        raise InvalidSafeguarding("completed_on", "the training's completion date is in the future")
    if expires_on <= completed_on:
        raise InvalidSafeguarding("expires_on", "the training expires before it was completed")
    data = {
        "training_id": str(training_id),
        "completed_on": completed_on.isoformat(),
        "expires_on": expires_on.isoformat(),
    }
    return EventType.TRAINING_RECORDED, data
