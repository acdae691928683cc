"""Safeguarding use cases: people, DBS checks, training, clearance, and what erasure and retention need.

Every change locks the person's history stream (`uow.history.lock`), folds it, asks the domain whether the action is
allowed, appends the new events and stages the matching bus events in the same transaction. The certificate number
is hashed (HMAC-SHA256 under the service's key) before anything is stored; it never reaches the history, the bus or
a log line.

`clearance`, `forget_person` and `people_left_before` are for the other areas (the primary-school guard, mentoring,
erasure): they run inside the caller's open unit of work (and open one of their own if it is not open).
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from medic.outreach.adapters.safeguarding_repository import Person
from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.history import HistoryEvent, Stream, end_of_day
from medic.outreach.domain.safeguarding import (
    Action,
    ContactKind,
    DbsCheck,
    DbsLevel,
    EventType,
    SafeguardingNotFound,
    SafeguardingRecord,
    SafeguardingRefused,
    SeenHow,
    StatusResult,
    VoidReason,
    Workforce,
    apply,
    certificate_digest,
    check_recorded,
    digest_matches,
    fold,
    kept_after_erasure,
    options,
    require,
    status_checked,
    training_recorded,
)
from medic.outreach.domain.safeguarding_clearance import Clearance, clearance_of
from medic.outreach.service_layer.mentoring_guard import recheck_matches
from medic.outreach.service_layer.transactions import joined
from medic.shared.contracts.outreach import safeguarding as events
from medic.shared.events import Envelope, EventPayload
from medic.shared.logging import get_logger

log = get_logger(__name__)

SAFEGUARDING = Stream.SAFEGUARDING


@dataclass(frozen=True)
class Actor:
    """Who records a change (the token's `sub`), when, and the request's correlation id."""

    by: str
    now: datetime
    today: date
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class PersonView:
    person: Person
    record: SafeguardingRecord
    full_name: str | None  # None once erased
    last_fours: dict[uuid.UUID, str]
    actions: Sequence[Action]


async def _publish(uow: OutreachUnitOfWork, payload: EventPayload, person_id: str, correlation_id: uuid.UUID) -> None:
    subject = f"safeguarding/people/{person_id}"
    await uow.publish(Envelope.wrap(payload, subject=subject, correlation_id=correlation_id))


async def _record(
    uow: OutreachUnitOfWork, person_id: str, *, known_at: datetime | None = None, person: Person | None = None
) -> SafeguardingRecord:
    record = fold(person_id, await uow.history.events(SAFEGUARDING, person_id, known_at=known_at))
    if person is not None and person.erased_at is not None and (known_at is None or person.erased_at <= known_at):
        record = replace(record, erased=True)
    return record


async def is_known(uow: OutreachUnitOfWork, person_id: str) -> bool:
    """Whether the person is registered here (inside the caller's unit of work)."""
    async with joined(uow):
        return await uow.safeguarding.person(person_id) is not None


async def _locked(uow: OutreachUnitOfWork, person_id: str, now: datetime) -> tuple[Person, SafeguardingRecord]:
    """The registered person and their record, their stream held until the transaction ends; 404 if unknown."""
    person = await uow.safeguarding.person(person_id)
    if person is None:
        raise SafeguardingNotFound("no such person")
    await uow.history.lock(SAFEGUARDING, person_id, now=now)
    return person, await _record(uow, person_id, person=person)


async def _append(
    uow: OutreachUnitOfWork, record: SafeguardingRecord, type_: EventType, data: Mapping[str, object], actor: Actor
) -> SafeguardingRecord:
    event = await uow.history.append(
        SAFEGUARDING, record.person_id, type_.value, data, recorded_at=actor.now, recorded_by=actor.by
    )
    return apply(record, event)


async def _view(uow: OutreachUnitOfWork, person: Person, record: SafeguardingRecord) -> PersonView:
    return PersonView(
        person=person,
        record=record,
        full_name=await uow.safeguarding.full_name(person.person_id),
        last_fours=await uow.safeguarding.last_fours(person.person_id),
        actions=options(record),
    )


# --- people ---------------------------------------------------------------------------------------------------


async def register_person(uow: OutreachUnitOfWork, person_id: str, full_name: str, actor: Actor) -> PersonView:
    """Registers a person who works with children (their name kept apart); 409 if registered already."""
    async with uow:
        if not await uow.safeguarding.add_person(person_id, full_name, now=actor.now):
            existing = await _record(uow, person_id)
            raise SafeguardingRefused(Action.REGISTER, f"{person_id} is registered already", options(existing))
        await uow.history.lock(SAFEGUARDING, person_id, now=actor.now)
        record = await _record(uow, person_id)
        require(record, Action.REGISTER)
        record = await _append(uow, record, EventType.REGISTERED, {}, actor)
        await _publish(uow, events.SafeguardingPersonRegisteredV1(person_id=person_id), person_id, actor.correlation_id)
        person = await uow.safeguarding.person(person_id)
        assert person is not None
        view = await _view(uow, person, record)
        await uow.commit()
    log.info("safeguarding.person_registered", person_id=person_id)
    return view


async def list_people(uow: OutreachUnitOfWork, *, limit: int, offset: int) -> list[tuple[Person, SafeguardingRecord]]:
    async with uow:
        people = await uow.safeguarding.people(limit=limit, offset=offset)
        return [(p, await _record(uow, p.person_id, person=p)) for p in people]


async def get_person(uow: OutreachUnitOfWork, person_id: str) -> PersonView:
    async with uow:
        person = await uow.safeguarding.person(person_id)
        if person is None:
            raise SafeguardingNotFound("no such person")
        return await _view(uow, person, await _record(uow, person_id, person=person))


async def history(uow: OutreachUnitOfWork, person_id: str) -> list[HistoryEvent]:
    async with uow:
        if await uow.safeguarding.person(person_id) is None:
            raise SafeguardingNotFound("no such person")
        return await uow.history.events(SAFEGUARDING, person_id)


async def record_leaving(uow: OutreachUnitOfWork, person_id: str, left_on: date, actor: Actor) -> PersonView:
    """Records (or corrects) the leaving date, which retention counts from."""
    async with uow:
        person, record = await _locked(uow, person_id, actor.now)
        require(record, Action.RECORD_LEAVING)
        record = await _append(uow, record, EventType.LEFT, {"left_on": left_on.isoformat()}, actor)
        await uow.safeguarding.set_left_on(person_id, left_on)
        payload = events.SafeguardingPersonLeftV1(person_id=person_id, left_on=left_on)
        await _publish(uow, payload, person_id, actor.correlation_id)
        await recheck_matches(uow, mentor_id=person_id, now=actor.now)  # left today: active matches pause
        person = await uow.safeguarding.person(person_id) or person
        view = await _view(uow, person, record)
        await uow.commit()
    return view


# --- DBS checks -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordCheck:
    level: DbsLevel
    workforce: Workforce
    certificate_number: str
    issued_on: date
    seen_how: SeenHow
    status_checked_on: date | None
    status_result: StatusResult | None


async def record_check(
    uow: OutreachUnitOfWork, person_id: str, command: RecordCheck, actor: Actor, *, key: bytes, recheck_years: int
) -> tuple[PersonView, DbsCheck]:
    """Appends a DBS check (and its Update Service status check, if seen that way); the certificate number goes
    only into `dbs_certificates`, hashed, with its last four digits."""
    check_id = uuid.uuid4()
    digest = certificate_digest(command.certificate_number, key)
    new = check_recorded(
        check_id=check_id,
        level=command.level,
        workforce=command.workforce,
        issued_on=command.issued_on,
        seen_how=command.seen_how,
        status_checked_on=command.status_checked_on,
        status_result=command.status_result,
        today=actor.today,
        recheck_years=recheck_years,
    )
    async with uow:
        person, record = await _locked(uow, person_id, actor.now)
        require(record, Action.RECORD_CHECK)
        for type_, data in new:
            record = await _append(uow, record, type_, data, actor)
        await uow.safeguarding.add_certificate(
            check_id, person_id, digest, command.certificate_number[-4:], now=actor.now
        )
        check = record.check(check_id)
        assert check is not None
        await _publish(
            uow,
            events.DbsCheckRecordedV1(
                person_id=person_id,
                check_id=check_id,
                level=check.level.value,
                workforce=check.workforce.value,
                issued_on=check.issued_on,
                seen_how=check.seen_how.value,
                recheck_due_on=check.recheck_due_on,
            ),
            person_id,
            actor.correlation_id,
        )
        for status in check.status_checks:
            await _publish_status(uow, person_id, check, status.checked_on, status.result, actor)
        view = await _view(uow, person, record)
        await uow.commit()
    log.info("safeguarding.dbs_check_recorded", person_id=person_id, check_id=str(check_id), level=check.level.value)
    return view, check


async def _publish_status(
    uow: OutreachUnitOfWork, person_id: str, check: DbsCheck, checked_on: date, result: StatusResult, actor: Actor
) -> None:
    payload = events.DbsCheckUpdateServiceCheckedV1(
        person_id=person_id,
        check_id=check.check_id,
        checked_on=checked_on,
        result=result.value,
        recheck_due_on=check.due_on(checked_on),
    )
    await _publish(uow, payload, person_id, actor.correlation_id)


async def _locked_check(
    uow: OutreachUnitOfWork, person_id: str, check_id: uuid.UUID, now: datetime
) -> tuple[Person, SafeguardingRecord, DbsCheck]:
    person, record = await _locked(uow, person_id, now)
    check = record.check(check_id)
    if check is None:
        raise SafeguardingNotFound("no such check")
    return person, record, check


async def add_status_check(
    uow: OutreachUnitOfWork,
    person_id: str,
    check_id: uuid.UUID,
    checked_on: date,
    result: StatusResult,
    actor: Actor,
    *,
    recheck_years: int,
) -> tuple[PersonView, DbsCheck]:
    """An Update Service status check on a check: `no_change` moves the recheck date on; `changed` means the check
    no longer clears anyone (a new check is needed)."""
    async with uow:
        person, record, check = await _locked_check(uow, person_id, check_id, actor.now)
        require(record, Action.ADD_STATUS_CHECK, check)
        type_, data = status_checked(
            check_id=check_id,
            issued_on=check.issued_on,
            checked_on=checked_on,
            result=result,
            today=actor.today,
            recheck_years=recheck_years,
        )
        record = await _append(uow, record, type_, data, actor)
        after = record.check(check_id)
        assert after is not None
        await _publish_status(uow, person_id, after, checked_on, result, actor)
        await recheck_matches(uow, mentor_id=person_id, now=actor.now)  # `changed`: active matches pause at once
        view = await _view(uow, person, record)
        await uow.commit()
    log.info("safeguarding.update_service_checked", person_id=person_id, check_id=str(check_id), result=result.value)
    return view, after


async def void_check(
    uow: OutreachUnitOfWork, person_id: str, check_id: uuid.UUID, reason: VoidReason, actor: Actor
) -> tuple[PersonView, DbsCheck]:
    """Voids a check recorded in error (it stays in the history, marked void, and clears no one)."""
    async with uow:
        person, record, check = await _locked_check(uow, person_id, check_id, actor.now)
        require(record, Action.VOID_CHECK, check)
        data = {"check_id": str(check_id), "reason": reason.value}
        record = await _append(uow, record, EventType.CHECK_VOIDED, data, actor)
        await recheck_matches(uow, mentor_id=person_id, now=actor.now)  # active matches pause at once
        payload = events.DbsCheckVoidedV1(person_id=person_id, check_id=check_id, reason=reason.value)
        await _publish(uow, payload, person_id, actor.correlation_id)
        after = record.check(check_id)
        assert after is not None
        view = await _view(uow, person, record)
        await uow.commit()
    log.info("safeguarding.dbs_check_voided", person_id=person_id, check_id=str(check_id), reason=reason.value)
    return view, after


async def verify_certificate(
    uow: OutreachUnitOfWork, person_id: str, check_id: uuid.UUID, number: str, *, key: bytes
) -> bool:
    """Whether `number` is the certificate number recorded with the check (compared as keyed hashes). A check whose
    number was erased matches nothing."""
    async with uow:
        if await uow.safeguarding.person(person_id) is None:
            raise SafeguardingNotFound("no such person")
        record = await _record(uow, person_id)
        if record.check(check_id) is None:
            raise SafeguardingNotFound("no such check")
        certificate = await uow.safeguarding.certificate(check_id)
    return certificate is not None and digest_matches(number, key, certificate.number_hmac)


# --- renewal, training ------------------------------------------------------------------------------------------


async def set_renewal(uow: OutreachUnitOfWork, person_id: str, in_progress: bool, actor: Actor) -> PersonView:
    """Starts or stops a renewal (idempotent: setting what is already so records nothing). A renewal in progress
    pauses recheck reminders; it clears no one."""
    async with uow:
        person, record = await _locked(uow, person_id, actor.now)
        if record.renewal_in_progress != in_progress:
            action = Action.START_RENEWAL if in_progress else Action.STOP_RENEWAL
            require(record, action)
            type_ = EventType.RENEWAL_STARTED if in_progress else EventType.RENEWAL_STOPPED
            record = await _append(uow, record, type_, {}, actor)
            kind = events.SafeguardingRenewalStartedV1 if in_progress else events.SafeguardingRenewalStoppedV1
            await _publish(uow, kind(person_id=person_id), person_id, actor.correlation_id)
        else:
            require(record, Action.RECORD_CHECK)  # still a live record
        view = await _view(uow, person, record)
        await uow.commit()
    return view


async def record_training(
    uow: OutreachUnitOfWork, person_id: str, completed_on: date, expires_on: date, actor: Actor
) -> PersonView:
    training_id = uuid.uuid4()
    type_, data = training_recorded(
        training_id=training_id, completed_on=completed_on, expires_on=expires_on, today=actor.today
    )
    async with uow:
        person, record = await _locked(uow, person_id, actor.now)
        require(record, Action.RECORD_TRAINING)
        record = await _append(uow, record, type_, data, actor)
        payload = events.SafeguardingTrainingRecordedV1(
            person_id=person_id, training_id=training_id, completed_on=completed_on, expires_on=expires_on
        )
        await _publish(uow, payload, person_id, actor.correlation_id)
        view = await _view(uow, person, record)
        await uow.commit()
    return view


# --- clearance ----------------------------------------------------------------------------------------------------


async def clearance(
    uow: OutreachUnitOfWork,
    person_id: str,
    contact: ContactKind,
    on: date,
    *,
    known_at: datetime | None = None,
    lock_at: datetime | None = None,
) -> Clearance:
    """Whether `person_id` is cleared for `contact` on `on`, by what had been recorded by `known_at` (default:
    everything). With `lock_at` (a guard about to act on the answer), the person's stream is held until the
    transaction ends, so no change to their record interleaves. An unregistered person is not cleared."""
    async with joined(uow):
        person = await uow.safeguarding.person(person_id)
        if person is None:
            return clearance_of(SafeguardingRecord(person_id), contact, on)
        if lock_at is not None:
            await uow.history.lock(SAFEGUARDING, person_id, now=lock_at)
        return clearance_of(await _record(uow, person_id, known_at=known_at, person=person), contact, on)


def _known_at(day: date, zone: ZoneInfo) -> datetime | None:
    """The end of `day` where the programmes run; None (everything) for the last day there is."""
    return None if day >= date.max - timedelta(days=1) else end_of_day(day, zone)


async def person_clearance(
    uow: OutreachUnitOfWork, person_id: str, contact: ContactKind, as_of: date, zone: ZoneInfo
) -> Clearance:
    """The clearance the record gave at the end of `as_of` (what was recorded by then, judged on that day)."""
    async with uow:
        person = await uow.safeguarding.person(person_id)
        if person is None:
            raise SafeguardingNotFound("no such person")
        record = await _record(uow, person_id, known_at=_known_at(as_of, zone), person=person)
    return clearance_of(record, contact, as_of)


async def cleared_report(uow: OutreachUnitOfWork, on: date, contact: ContactKind, zone: ZoneInfo) -> list[Clearance]:
    """Everyone registered by the end of `on`, with their clearance for `contact` on `on` as the record said then."""
    known_at = _known_at(on, zone)
    async with uow:
        histories = await uow.history.all_events(SAFEGUARDING, known_at=known_at)
        erased = await uow.safeguarding.erased()
    answers = []
    for person_id, found in sorted(histories.items()):
        record = fold(person_id, found)
        erased_at = erased.get(person_id)
        if erased_at is not None and (known_at is None or erased_at <= known_at):
            record = replace(record, erased=True)  # erased by then: cleared for nothing from that day
        if record.registered:
            answers.append(clearance_of(record, contact, on))
    return answers


# --- erasure and retention ----------------------------------------------------------------------------------------


async def forget_person(uow: OutreachUnitOfWork, person_id: str, *, now: datetime) -> None:
    """Erasure of a medical student's safeguarding record (when they have left): their name, certificate hashes and
    last four digits are deleted; the history is stripped to the checks' and training's types, codes and dates, who
    recorded them and when (the single central record must show that everyone who worked with children was
    checked); the person is marked erased (no further changes). Idempotent; runs inside the caller's unit of work
    (the erasure area publishes the erasure event and keeps the erasure record)."""
    async with joined(uow) as own:
        if await uow.safeguarding.person(person_id) is None:
            return
        await uow.history.lock(SAFEGUARDING, person_id, now=now)
        names, certificates = await uow.safeguarding.erase_personal_details(person_id, now=now)
        await uow.history.strip(SAFEGUARDING, person_id, kept_after_erasure)
        if own:
            await uow.commit()
        log.info("safeguarding.personal_details_erased", names=names, certificates=certificates)  # not the person


async def people_left_before(uow: OutreachUnitOfWork, day: date) -> list[str]:
    """Retention: the people whose leaving date is before `day` and whose personal details are not erased yet."""
    async with joined(uow):
        return await uow.safeguarding.left_before(day)
