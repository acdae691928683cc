"""The guard of mentoring: on a day, the mentor cleared for the mentoring kind of contact and the participant's
consents to taking part and to mentoring valid; and the automatic pause of active matches that stop meeting it.

The guard asks the safeguarding area (`clearance`) and the consent area (`consent_check`), with both people's history
streams locked first (`uow.history.lock`), so a withdrawal or a voided check being committed meanwhile is waited
for and seen, never slipped past. Locks are always taken safeguarding first, then consent.

`recheck_matches` runs inside its caller's transaction: the consent area's withdrawal and the safeguarding area's
changes call it (their own stream is locked already by their append), and the daily timer calls it through
`recheck_all_active` for every active match, so a lapse by time (a recheck overdue, training or consent expired)
pauses the match at the next tick. Each pause happens once: its key, `mentoring_auto_pause:<match>:<active since>`,
is recorded in `watcch_fired_timers` with the event, in the same transaction.
"""

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.conditions import Unmet
from medic.outreach.domain.history import Stream, end_of_day
from medic.outreach.domain.mentoring import Action, Actor, Match, State
from medic.outreach.domain.policies import MentoringPolicy
from medic.shared.contracts.outreach import mentoring as events
from medic.shared.events import Envelope
from medic.shared.logging import get_logger

log = get_logger(__name__)


def today_at(uow: OutreachUnitOfWork, now: datetime) -> date:
    """Today where the programmes run."""
    return now.astimezone(ZoneInfo(uow.policies.zone)).date()


async def lock_both(uow: OutreachUnitOfWork, mentor_id: str, participant_id: uuid.UUID, *, now: datetime) -> None:
    await uow.history.lock(Stream.SAFEGUARDING, mentor_id, now=now)
    await uow.history.lock(Stream.CONSENT, str(participant_id), now=now)


async def unmet_on(
    uow: OutreachUnitOfWork,
    mentor_id: str,
    participant_id: uuid.UUID,
    on: date,
    *,
    guard: MentoringPolicy | None = None,
    known_at: datetime | None = None,
) -> list[Unmet]:
    """Every condition of both people unmet on `on`, by what is on record now (lock first to act on it), or by what
    had been recorded by `known_at`."""
    return [
        *await mentor_unmet(uow, mentor_id, on, guard=guard, known_at=known_at),
        *await participant_unmet(uow, participant_id, on, known_at=known_at),
    ]


async def unmet_on_past_day(
    uow: OutreachUnitOfWork, mentor_id: str, participant_id: uuid.UUID, on: date, *, today: date
) -> list[Unmet]:
    """The guard for something that happened on `on` (a session logged afterwards): every condition unmet by the
    record as it stood at the end of that day (a consent given or a check recorded later does not reach back; a
    withdrawal or a void then does) and by the record now (a check voided since as recorded in error), each once."""
    unmet = await unmet_on(uow, mentor_id, participant_id, on)
    if on < today:
        then = end_of_day(on, ZoneInfo(uow.policies.zone))
        seen = {(u.code, u.subject) for u in unmet}
        then_unmet = await unmet_on(uow, mentor_id, participant_id, on, known_at=then)
        unmet += [u for u in then_unmet if (u.code, u.subject) not in seen]
    return unmet


async def mentor_unmet(
    uow: OutreachUnitOfWork,
    mentor_id: str,
    on: date,
    *,
    guard: MentoringPolicy | None = None,
    known_at: datetime | None = None,
) -> list[Unmet]:
    # Imported here: the safeguarding area calls recheck_matches, so a module-level import would be circular.
    from medic.outreach.domain.safeguarding import ContactKind
    from medic.outreach.service_layer.safeguarding import clearance

    contact = ContactKind((guard or uow.policies.mentoring).contact)
    answer = await clearance(uow, mentor_id, contact, on, known_at=known_at)
    if answer.cleared:
        return []
    unmet = [u if u.subject else replace(u, subject=mentor_id) for u in answer.unmet]
    return unmet or [Unmet("mentor_not_cleared", "the mentor is not cleared for mentoring on the day", mentor_id)]


async def participant_unmet(
    uow: OutreachUnitOfWork, participant_id: uuid.UUID, on: date, *, known_at: datetime | None = None
) -> list[Unmet]:
    from medic.outreach.domain.consent import ConsentScope
    from medic.outreach.service_layer.consent import consent_check

    scopes = [ConsentScope.TAKING_PART, ConsentScope.MENTORING]
    answer = await consent_check(uow, participant_id, scopes, on, known_at=known_at)
    if answer.valid:
        return []
    subject = str(participant_id)
    unmet = [u if u.subject else replace(u, subject=subject) for u in answer.unmet]
    return unmet or [Unmet("consent_not_valid", "the participant's consents to mentoring are not valid", subject)]


async def recheck_matches(
    uow: OutreachUnitOfWork,
    *,
    participant_id: uuid.UUID | None = None,
    mentor_id: str | None = None,
    now: datetime,
    guard: MentoringPolicy | None = None,
) -> list[uuid.UUID]:
    """Pauses (with an event naming the unmet conditions' codes) each active match of that person that fails the
    guard today; returns their ids. Inside the caller's transaction (open `uow`; the caller commits)."""
    if participant_id is None and mentor_id is None:
        raise ValueError("name the participant or the mentor whose matches to recheck")
    today = today_at(uow, now)
    matches = await uow.mentoring.matches(participant_id=participant_id, mentor_id=mentor_id, states={State.ACTIVE})
    paused = []
    for match in matches:
        unmet = await unmet_on(uow, match.mentor_id, match.participant_id, today, guard=guard)
        if unmet and await pause_automatically(uow, match, unmet, now=now, today=today):
            paused.append(match.id)
    return paused


async def pause_automatically(
    uow: OutreachUnitOfWork, match: Match, unmet: list[Unmet], *, now: datetime, today: date
) -> bool:
    """The match paused by the service, once per time it was active; False if it was not active any more."""
    codes = tuple(dict.fromkeys(u.code for u in unmet))
    after = match.moved(Action.PAUSE, Actor.SYSTEM, now=now, today=today, reasons=codes)
    if not await uow.mentoring.save_match(after, was=match.state, now=now):
        return False
    event = events.MentoringMatchPausedV1(
        match_id=match.id, programme_id=match.programme_id, mentor_id=match.mentor_id,
        participant_id=match.participant_id, automatic=True, reason_codes=list(codes),
    )  # fmt: skip
    envelope = Envelope.wrap(event, subject=f"mentoring/matches/{match.id}", correlation_id=uuid.uuid4())
    since = match.active_since.isoformat() if match.active_since else "never"
    key = f"mentoring_auto_pause:{match.id}:{since}"
    if not await uow.watcch.fire_once(key, event_id=envelope.id, event_type=envelope.type, now=now):
        return False  # pragma: no cover - the state change above is conditional: only one pause per active period
    await uow.publish(envelope)
    log.info("mentoring.match_paused", match_id=str(match.id), automatic=True, reasons=list(codes))
    return True


async def recheck_all_active(unit_of_work: Callable[[], OutreachUnitOfWork], *, now: datetime) -> list[uuid.UUID]:
    """The daily timer's tick: every active match checked today, each in its own transaction with both streams
    locked; one that fails (a conflict, a database error) is logged and left for the next tick."""
    async with unit_of_work() as uow:
        active = await uow.mentoring.matches(states={State.ACTIVE})
    today = today_at(uow, now)
    paused = []
    for candidate in active:
        try:
            async with unit_of_work() as uow:
                await lock_both(uow, candidate.mentor_id, candidate.participant_id, now=now)
                match = await uow.mentoring.match(candidate.id)
                if match is None or match.state is not State.ACTIVE:
                    continue
                unmet = await unmet_on(uow, match.mentor_id, match.participant_id, today)
                if unmet and await pause_automatically(uow, match, unmet, now=now, today=today):
                    await uow.commit()
                    paused.append(match.id)
        except Exception as error:  # one match's failure does not stop the others
            log.warning("mentoring.recheck_failed", match_id=str(candidate.id), error=type(error).__name__)
    return paused
