"""Consent use cases: publish the wording, record consents given and withdrawn, and answer whether a participant's
consents allow something on a day (now, or as the record stood at the end of a past day).

Every change appends to the participant's `Stream.CONSENT` history with the stream locked, and stages its event in
the outbox in the same transaction. Withdrawal takes effect when it commits: every check after it (a mentoring
guard, the research extract, a partner webhook asking `consent_check`) sees it.

The reading functions (`consent_check`, `consent_state`, `research_consented`, `forget_participant`) work inside a
unit of work the caller has open (another area's guard, in its own transaction), or open one of their own.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.conditions import Unmet
from medic.outreach.domain.consent import (
    GIVEN,
    WITHDRAWN,
    ConsentCheck,
    ConsentConflict,
    ConsentNotFound,
    ConsentPolicy,
    ConsentScope,
    ConsentText,
    ExpiryDue,
    ExpiryKind,
    GiveConsent,
    Key,
    Party,
    Standing,
    WithdrawConsent,
    check,
    check_given,
    clean_text,
    expiry_due,
    fold,
    given_data,
    needed_parties,
    partners_ever_named,
    valid_partners,
    withdrawal_data,
)
from medic.outreach.domain.history import HistoryEvent, Stream, end_of_day
from medic.outreach.service_layer.mentoring_guard import recheck_matches
from medic.outreach.service_layer.transactions import joined
from medic.shared.contracts.outreach import consent as events
from medic.shared.events import Envelope
from medic.shared.logging import get_logger

log = get_logger(__name__)


def _subject(participant_id: uuid.UUID) -> str:
    return str(participant_id)


async def _require_participant(uow: OutreachUnitOfWork, participant_id: uuid.UUID) -> None:
    if not await uow.consent.participant_exists(participant_id):
        raise ConsentNotFound("no such participant")


# --- the wording --------------------------------------------------------------------------------------------------


async def publish_text(
    uow: OutreachUnitOfWork, scope: ConsentScope, text: str, *, now: datetime, published_by: str
) -> ConsentText:
    """The scope's next version of the wording. Never edited afterwards."""
    cleaned = clean_text(text)
    try:
        async with uow:
            published = await uow.consent.publish_text(scope, cleaned, now=now, by=published_by)
            await uow.commit()
    except IntegrityError:
        raise ConsentConflict("another version of this wording was published meanwhile; look again") from None
    log.info("consent.text_published", scope=scope.value, version=published.version)
    return published


async def list_texts(uow: OutreachUnitOfWork, scope: ConsentScope | None = None) -> Sequence[ConsentText]:
    async with uow:
        return await uow.consent.texts(scope)


# --- recording ----------------------------------------------------------------------------------------------------


async def record_consent(
    uow: OutreachUnitOfWork, participant_id: uuid.UUID, command: GiveConsent, *, now: datetime, today: date,
    recorded_by: str, correlation_id: uuid.UUID,
) -> HistoryEvent:  # fmt: skip
    """A consent given, appended to the participant's history; publishes `outreach.consent.given.v1`."""
    subject = _subject(participant_id)
    async with uow:
        await uow.history.lock(Stream.CONSENT, subject, now=now)  # first: an erasure holds it while it deletes
        await _require_participant(uow, participant_id)
        expires_on = check_given(
            command,
            today=today,
            cycle_ends_on=await uow.consent.cycle_ends_on(participant_id),
            published=await uow.consent.text_published(command.scope, command.text_version),
            known_partners=await uow.consent.known_partner_ids(command.partner_ids),
        )
        event = await uow.history.append(
            Stream.CONSENT, subject, GIVEN, given_data(command, expires_on), recorded_at=now, recorded_by=recorded_by
        )
        payload = events.ConsentGivenV1(
            participant_id=participant_id,
            scope=command.scope.value,
            party=command.party.value,
            partner_ids=sorted(command.partner_ids),
            text_version=command.text_version,
            method=command.method.value,
            given_on=command.form_dated_on or today,
            recorded_at=now,
            expires_on=expires_on,
        )
        await uow.publish(
            Envelope.wrap(payload, subject=f"participants/{participant_id}", correlation_id=correlation_id)
        )
        await uow.commit()
    log.info("consent.given", participant_id=subject, scope=command.scope.value, party=command.party.value)
    return event


async def withdraw_consent(
    uow: OutreachUnitOfWork, participant_id: uuid.UUID, command: WithdrawConsent, *, now: datetime, today: date,
    recorded_by: str, correlation_id: uuid.UUID,
) -> HistoryEvent:  # fmt: skip
    """A consent withdrawn, at once: appended to the history and `outreach.consent.withdrawn.v1` published in one
    transaction, so every check from the commit on sees it. Whatever else must stop at once (active mentoring
    matches) is done here too, in the same transaction."""
    subject = _subject(participant_id)
    async with uow:
        await uow.history.lock(Stream.CONSENT, subject, now=now)  # first: an erasure holds it while it deletes
        await _require_participant(uow, participant_id)
        standing = fold(await uow.history.events(Stream.CONSENT, subject))
        data = withdrawal_data(command, standing, today)
        event = await uow.history.append(Stream.CONSENT, subject, WITHDRAWN, data, recorded_at=now,
                                         recorded_by=recorded_by)  # fmt: skip
        payload = events.ConsentWithdrawnV1(
            participant_id=participant_id,
            scope=command.scope.value,
            party=command.party.value,
            partner_ids=[uuid.UUID(p) for p in data["partner_ids"]],
            method=command.method.value,
            withdrawn_on=command.form_dated_on or today,
            recorded_at=now,
        )
        await uow.publish(
            Envelope.wrap(payload, subject=f"participants/{participant_id}", correlation_id=correlation_id)
        )
        await recheck_matches(uow, participant_id=participant_id, now=now)  # active matches pause at once
        await uow.commit()
    log.info("consent.withdrawn", participant_id=subject, scope=command.scope.value, party=command.party.value)
    return event


# --- reading ------------------------------------------------------------------------------------------------------


async def _standing(
    uow: OutreachUnitOfWork, participant_id: uuid.UUID, known_at: datetime | None
) -> dict[Key, Standing]:
    return fold(await uow.history.events(Stream.CONSENT, _subject(participant_id), known_at=known_at))


async def consent_check(
    uow: OutreachUnitOfWork,
    participant_id: uuid.UUID,
    scopes: Collection[ConsentScope],
    on: date,
    *,
    known_at: datetime | None = None,
    partner_id: uuid.UUID | None = None,
    policy: ConsentPolicy | None = None,
) -> ConsentCheck:
    """Whether the participant's consents to every one of `scopes` are valid on `on`, from the history as known at
    `known_at` (None: everything recorded), listing each unmet condition. Partner sharing is judged for
    `partner_id` (or for any partner every needed party names). A participant with no record has no consent."""
    async with joined(uow):
        standing = await _standing(uow, participant_id, known_at)
        parties = needed_parties(await uow.consent.date_of_birth(participant_id), on, policy or uow.policies.consent)
    return check(participant_id, standing, scopes, on, parties, partner_id=partner_id)


@dataclass(frozen=True)
class ScopeState:
    scope: ConsentScope
    valid: bool
    records: tuple[Standing, ...]  # the standing record of each party (and partner), whether needed or not
    unmet: tuple[Unmet, ...]


@dataclass(frozen=True)
class ConsentState:
    participant_id: uuid.UUID
    on: date
    needed: tuple[Party, ...]
    scopes: tuple[ScopeState, ...]
    partners: frozenset[uuid.UUID]  # partner sharing: valid with these

    def valid(self, scope: ConsentScope) -> bool:
        return next(s.valid for s in self.scopes if s.scope is scope)

    @property
    def unmet(self) -> tuple[Unmet, ...]:
        return tuple(u for s in self.scopes for u in s.unmet)


async def consent_state(
    uow: OutreachUnitOfWork, participant_id: uuid.UUID, on: date, zone: ZoneInfo, *, as_of: bool,
    policy: ConsentPolicy | None = None,
) -> ConsentState:  # fmt: skip
    """Each scope's state on `on`: as the record stood at the end of that day (`as_of`), or as known now."""
    known_at = end_of_day(on, zone) if as_of else None
    async with joined(uow):
        await _require_participant(uow, participant_id)
        standing = await _standing(uow, participant_id, known_at)
        parties = needed_parties(await uow.consent.date_of_birth(participant_id), on, policy or uow.policies.consent)
    scopes = []
    for scope in ConsentScope:
        judged = check(participant_id, standing, [scope], on, parties)
        records = tuple(s for k, s in sorted(standing.items(), key=_order) if k[1] is scope)
        scopes.append(ScopeState(scope, judged.valid, records, judged.unmet))
    return ConsentState(participant_id, on, parties, tuple(scopes), frozenset(valid_partners(standing, on, parties)))


def _order(item: tuple[Key, Standing]) -> tuple[int, str]:
    (party, _, partner), _ = item
    return (list(Party).index(party), str(partner or ""))


async def history(uow: OutreachUnitOfWork, participant_id: uuid.UUID) -> list[HistoryEvent]:
    """Every record, in the order recorded."""
    async with uow:
        await _require_participant(uow, participant_id)
        return await uow.history.events(Stream.CONSENT, _subject(participant_id))


async def research_consented(
    uow: OutreachUnitOfWork, participant_ids: Collection[uuid.UUID], on: date, *, policy: ConsentPolicy | None = None
) -> set[uuid.UUID]:
    """Those of `participant_ids` whose consent to research is valid on `on`, by everything recorded so far."""
    async with joined(uow):
        by_subject = await uow.history.all_events(Stream.CONSENT)
        born = await uow.consent.dates_of_birth(participant_ids)
    consented = set()
    for participant_id in participant_ids:
        standing = fold(by_subject.get(_subject(participant_id), []))
        parties = needed_parties(born.get(participant_id), on, policy or uow.policies.consent)
        if check(participant_id, standing, [ConsentScope.RESEARCH], on, parties).valid:
            consented.add(participant_id)
    return consented


# --- timers -------------------------------------------------------------------------------------------------------


def _expiry_event(participant_id: uuid.UUID, due: ExpiryDue, today: date) -> events.ConsentV1:
    common = {
        "participant_id": participant_id,
        "scope": due.scope.value,
        "party": due.party.value,
        "partner_ids": list(due.partner_ids),
        "expires_on": due.expires_on,
    }
    if due.kind is ExpiryKind.REMINDER:
        return events.ConsentExpiringV1(**common, days_left=(due.expires_on - today).days)
    return events.ConsentExpiredV1(**common)


async def expiry_timers(
    uow: OutreachUnitOfWork, *, now: datetime, zone: ZoneInfo, policy: ConsentPolicy | None = None
) -> list[str]:
    """Sends each reminder and expiry due today, once per key (`consent_expiry:<kind>:<consent given>`), each in
    its own transaction with the participant's stream locked: the key goes into `watcch_fired_timers` and the event
    into the outbox together, so a restart or a second replica never sends one twice. Returns the keys fired."""
    policy = policy or uow.policies.consent
    today = now.astimezone(zone).date()
    async with uow:
        by_subject = await uow.history.all_events(Stream.CONSENT)
        candidates = [
            (subject, due) for subject, found in by_subject.items() for due in expiry_due(fold(found), today, policy)
        ]
        fired_already = await uow.watcch.fired([due.key for _, due in candidates])
    fired = []
    for subject, candidate in candidates:
        if candidate.key not in fired_already and await _fire(uow, subject, candidate, now, today, policy):
            fired.append(candidate.key)
    return fired


async def _fire(
    uow: OutreachUnitOfWork, subject: str, candidate: ExpiryDue, now: datetime, today: date, policy: ConsentPolicy
) -> bool:
    async with uow:
        await uow.history.lock(Stream.CONSENT, subject, now=now)
        standing = fold(await uow.history.events(Stream.CONSENT, subject))
        due = next((d for d in expiry_due(standing, today, policy) if d.key == candidate.key), None)
        if due is None:
            return False  # withdrawn or given again meanwhile
        envelope = Envelope.wrap(
            _expiry_event(uuid.UUID(subject), due, today),
            subject=f"participants/{subject}",
            correlation_id=uuid.uuid4(),
        )
        if not await uow.watcch.fire_once(due.key, event_id=envelope.id, event_type=envelope.type, now=now):
            return False
        await uow.publish(envelope)
        await uow.commit()
    log.info("consent.expiry_timer", participant_id=subject, kind=due.kind.value, scope=due.scope.value)
    return True


# --- erasure ------------------------------------------------------------------------------------------------------


async def forget_participant(uow: OutreachUnitOfWork, participant_id: uuid.UUID) -> set[uuid.UUID]:
    """Erasure: deletes the participant's consent history (in the caller's transaction, if open). Returns the
    partners ever named in a consent to partner sharing, to be told."""
    async with joined(uow) as own:
        subject = _subject(participant_id)
        partners = partners_ever_named(await uow.history.events(Stream.CONSENT, subject))
        erased = await uow.history.erase(Stream.CONSENT, subject)
        if own:
            await uow.commit()
    log.info("consent.forgotten", participant_id=subject, records=erased, partners=len(partners))
    return partners
