"""WATCCH use cases: cycles, applications from submission to completion, the waitlist moving by itself.

Every change to an application's places runs with its cycle's row locked (PostgreSQL: `SELECT ... FOR UPDATE`;
SQLite: writers take turns), and a place is taken by a conditional update (`places_taken < capacity`), so the
cycle never holds more offered, accepted, enrolled or completed applications than its capacity, however many
requests race. When a place frees, the head of the waitlist is offered it in the same transaction.

Personal details are written to their one table and read back only for the single application view; events carry
the pseudonymous participant id.
"""

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.adapters.watcch_repository import ApplicationFilter
from medic.outreach.domain.indicators import INDIVIDUAL_VALUES, IndicatorSource, IndividualMeasure
from medic.outreach.domain.watcch import (
    HOLDS_PLACE,
    REFERENCE_ALPHABET,
    Action,
    Actor,
    Application,
    Cycle,
    CycleStatus,
    InvalidWatcch,
    State,
    TransitionRefused,
    WatcchConflict,
    WatcchNotFound,
    YearGroup,
    academic_year_start,
    check,
    cycle_exists,
    options,
)
from medic.outreach.domain.watcch_eligibility import (
    ApplicantFacts,
    AreaFact,
    Rule,
    RuleSet,
    decide,
    validate,
)
from medic.outreach.domain.watcch_people import PersonalDetails
from medic.outreach.service_layer.activities import release_participant
from medic.outreach.service_layer.area_indicators import derive_for_participant
from medic.shared.contracts.outreach import watcch as events
from medic.shared.events import Envelope, EventPayload
from medic.shared.logging import get_logger

log = get_logger(__name__)

DRAW_RANGE = 2**31 - 1


def _draw() -> int:
    return secrets.randbelow(DRAW_RANGE)


def new_reference(academic_year: str) -> str:
    """WAT-<first year>-<6 characters of 34>: about 1.5e9 per year, drawn at random (unguessable enough to be
    worthless to try; the reference opens nothing by itself)."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"WAT-{academic_year_start(academic_year)}-{code}"


async def _publish(uow: OutreachUnitOfWork, event: EventPayload, subject: str, correlation_id: uuid.UUID) -> None:
    await uow.publish(Envelope.wrap(event, subject=subject, correlation_id=correlation_id))


def _ids(application: Application) -> dict[str, Any]:
    return {
        "application_id": application.id,
        "cycle_id": application.cycle_id,
        "participant_id": application.participant_id,
    }


async def _publish_application(
    uow: OutreachUnitOfWork, kind: type[events.WatcchApplicationV1], application: Application,
    correlation_id: uuid.UUID, **extra: Any,
) -> None:  # fmt: skip
    await _publish(uow, kind(**_ids(application), **extra), f"watcch/applications/{application.id}", correlation_id)


def _cycle_event(kind: type[events.WatcchCycleV1], cycle: Cycle) -> events.WatcchCycleV1:
    return kind(
        cycle_id=cycle.id,
        name=cycle.name,
        academic_year=cycle.academic_year,
        capacity=cycle.capacity,
        applications_open_on=cycle.applications_open_on,
        applications_close_on=cycle.applications_close_on,
        programme_starts_on=cycle.programme_starts_on,
    )


# --- cycles ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleFields:
    name: str
    academic_year: str
    capacity: int
    applications_open_on: date
    applications_close_on: date
    programme_starts_on: date
    programme_ends_on: date
    year_groups: frozenset[YearGroup]
    questions: tuple[str, ...]
    rules: tuple[Rule, ...]
    offer_lifetime_days: int


@dataclass(frozen=True)
class CycleView:
    cycle: Cycle
    counts: Mapping[State, int]


async def create_cycle(fields: CycleFields, uow: OutreachUnitOfWork) -> CycleView:
    now = datetime.now(UTC)
    cycle = Cycle(
        id=uuid.uuid4(),
        status=CycleStatus.DRAFT,
        rules=RuleSet(1, validate(fields.rules)),
        **{k: v for k, v in vars(fields).items() if k != "rules"},
    ).check()
    async with uow:
        if await uow.watcch.cycle_by_year(cycle.academic_year) is not None:
            raise WatcchConflict(cycle_exists(cycle.academic_year), "academic_year")
        await uow.watcch.add_cycle(cycle, now=now)
        await uow.commit()
    return CycleView(cycle, {})


async def change_cycle(
    cycle_id: uuid.UUID, changes: Mapping[str, Any], uow: OutreachUnitOfWork, correlation_id: uuid.UUID
) -> CycleView:
    """`changes`: fields of `CycleFields` to set. New rules replace the current version while no application has
    been judged by the cycle's rules; after that they are a new version (applications keep theirs). More places
    are offered to the waitlist at once."""
    now = datetime.now(UTC)
    async with uow:
        before = await _locked_cycle(uow, cycle_id)
        rules = before.rules
        if "rules" in changes:
            new_rules = validate(changes["rules"])
            if new_rules != rules.rules:
                version = rules.version + 1 if await uow.watcch.has_applications(cycle_id) else rules.version
                rules = RuleSet(version, new_rules)
                await uow.watcch.save_rules(cycle_id, rules, now=now)
        others = {k: v for k, v in changes.items() if k != "rules"}
        if "academic_year" in others and others["academic_year"] != before.academic_year:
            if await uow.watcch.has_applications(cycle_id):
                raise WatcchConflict("the academic year cannot change once there are applications", "academic_year")
            if await uow.watcch.cycle_by_year(others["academic_year"]) is not None:
                raise WatcchConflict(f"there is a cycle for {others['academic_year']} already", "academic_year")
        after = replace(before, rules=rules, **others).check()
        await uow.watcch.update_cycle(after)
        await _fill(uow, after, now, correlation_id)
        after = await _locked_cycle(uow, cycle_id)
        counts = await uow.watcch.counts(cycle_id)
        await uow.commit()
    return CycleView(after, counts)


async def set_cycle_status(
    cycle_id: uuid.UUID, status: CycleStatus, uow: OutreachUnitOfWork, correlation_id: uuid.UUID
) -> CycleView:
    """Open (from draft or closed) or close (from open). Publishes opened / closed."""
    async with uow:
        cycle = await _locked_cycle(uow, cycle_id)
        allowed = {CycleStatus.OPEN: {CycleStatus.DRAFT, CycleStatus.CLOSED}, CycleStatus.CLOSED: {CycleStatus.OPEN}}
        if cycle.status not in allowed[status]:
            verb = "open" if status is CycleStatus.OPEN else "close"
            raise WatcchConflict(f"cannot {verb} a cycle that is {cycle.status.value}", "status")
        cycle = replace(cycle, status=status)
        await uow.watcch.update_cycle(cycle)
        kind = events.WatcchCycleOpenedV1 if status is CycleStatus.OPEN else events.WatcchCycleClosedV1
        await _publish(uow, _cycle_event(kind, cycle), f"watcch/cycles/{cycle.id}", correlation_id)
        counts = await uow.watcch.counts(cycle_id)
        await uow.commit()
    return CycleView(cycle, counts)


async def get_cycle(cycle_id: uuid.UUID, uow: OutreachUnitOfWork) -> CycleView:
    async with uow:
        cycle = await uow.watcch.cycle(cycle_id)
        if cycle is None:
            raise WatcchNotFound("no such cycle")
        return CycleView(cycle, await uow.watcch.counts(cycle_id))


async def list_cycles(uow: OutreachUnitOfWork) -> list[CycleView]:
    async with uow:
        return [CycleView(c, await uow.watcch.counts(c.id)) for c in await uow.watcch.cycles()]


async def _locked_cycle(uow: OutreachUnitOfWork, cycle_id: uuid.UUID) -> Cycle:
    cycle = await uow.watcch.cycle(cycle_id, lock=True)
    if cycle is None:
        raise WatcchNotFound("no such cycle")
    return cycle


# --- applications -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitApplication:
    cycle_id: uuid.UUID
    school_urn: str
    year_group: YearGroup
    details: Mapping[str, Any]  # the fields of PersonalDetails but the answers
    answers: Mapping[str, str]
    indicators: Mapping[IndividualMeasure, str]
    indicator_source: IndicatorSource
    by_coordinator: bool
    correlation_id: uuid.UUID


@dataclass(frozen=True)
class ApplicationView:
    application: Application
    actions: Sequence[Action]
    details: PersonalDetails | None = None  # only on the single view, for coordinators
    referee: str | None = None  # the latest referee link's state: pending, confirmed, not_confirmed, expired


def _check_indicators(indicators: Mapping[IndividualMeasure, str]) -> None:
    for measure, value in indicators.items():
        if value not in {v.value for v in INDIVIDUAL_VALUES[measure]}:
            raise InvalidWatcch(f"indicators.{measure.value}", f"not a value of {measure.value}")


async def _facts(uow: OutreachUnitOfWork, application: Application, area: Sequence[AreaFact] | None) -> ApplicantFacts:
    school = await uow.schools.get(application.school_urn)
    if area is None:
        values = await uow.area_indicators.values_for(application.participant_id)
        area = [AreaFact(v.measure, v.edition, v.value) for v in values]
    return ApplicantFacts(
        year_group=application.year_group.value,
        school_state_funded=None if school is None else school.state_funded,
        area=tuple(area),
        individual=await uow.watcch.indicators(application.participant_id),
    )


async def submit_application(command: SubmitApplication, uow: OutreachUnitOfWork) -> Application:
    """Stores the application and its person, derives the area indicators, decides eligibility, and queues an
    eligible one (offering it a place if one is free and no one is ahead). All or nothing."""
    now = datetime.now(UTC)
    _check_indicators(command.indicators)
    async with uow:
        cycle = await uow.watcch.cycle(command.cycle_id, lock=True)
        if cycle is None and command.by_coordinator:
            raise WatcchNotFound("no such cycle")  # the cycle in the path
        if cycle is None:
            raise InvalidWatcch("cycle_id", "no such cycle")
        if command.by_coordinator:
            if cycle.status is CycleStatus.DRAFT:
                raise WatcchConflict("the cycle is not open yet", "cycle_id")
        elif (closed := cycle.takes_public_applications(now.date())) is not None:
            raise WatcchConflict(closed, "cycle_id")
        if await uow.schools.get(command.school_urn) is None:
            raise InvalidWatcch("school_urn", "not a registered school")
        details = PersonalDetails.create(questions=cycle.questions, answers=command.answers, **command.details)
        cycle.check_applicant(command.year_group, details.date_of_birth)
        participant_id = uuid.uuid4()
        derived = await derive_for_participant(uow, participant_id, details.home_postcode, now=now)
        await uow.watcch.add_participant(participant_id, details, now=now)
        await uow.watcch.record_indicators(participant_id, command.indicators, command.indicator_source, now=now)
        reference = new_reference(cycle.academic_year)
        while await uow.watcch.reference_taken(reference):
            reference = new_reference(cycle.academic_year)
        application = Application(
            id=uuid.uuid4(),
            reference=reference,
            cycle_id=cycle.id,
            participant_id=participant_id,
            school_urn=command.school_urn,
            year_group=command.year_group,
            state=State.SUBMITTED,
            submitted_at=now,
            entered_by_coordinator=command.by_coordinator,
        )
        await uow.watcch.add_application(application, now=now)
        await _publish_application(
            uow, events.WatcchApplicationSubmittedV1, application, command.correlation_id,
            school_urn=application.school_urn, year_group=application.year_group.value,
            entered_by_coordinator=command.by_coordinator,
        )  # fmt: skip
        area = [AreaFact(v.measure, v.edition, v.value) for v in derived]
        decision = decide(cycle.rules, await _facts(uow, application, area))
        decided = application.decided(decision, Action.DECIDE, Actor.SYSTEM, now, _draw())
        await _save(uow, decided, application.state, now, decided=True)
        await _publish_application(
            uow, events.WatcchApplicationDecidedV1, decided, command.correlation_id,
            eligible=decision.eligible, rules_version=decision.rules_version, reevaluation=False,
        )  # fmt: skip
        if decided.state is State.ELIGIBLE:
            await _waitlist(uow, decided, Actor.SYSTEM, now, command.correlation_id)
            await _fill(uow, cycle, now, command.correlation_id)
        final = await uow.watcch.application(application.id)
        await uow.commit()
    assert final is not None
    return final


async def _save(
    uow: OutreachUnitOfWork, application: Application, was: State, now: datetime, *, decided: bool = False
) -> None:
    if not await uow.watcch.save(application, was=was, now=now, decided=decided):
        raise WatcchConflict("the application changed meanwhile; look again and retry")


async def _waitlist(
    uow: OutreachUnitOfWork, application: Application, actor: Actor, now: datetime, correlation_id: uuid.UUID
) -> Application:
    waiting = application.moved(Action.WAITLIST, State.WAITLISTED, actor)
    await _save(uow, waiting, application.state, now)
    await _publish_application(uow, events.WatcchApplicationWaitlistedV1, waiting, correlation_id)
    return waiting


async def _offer(
    uow: OutreachUnitOfWork, application: Application, cycle: Cycle, actor: Actor, now: datetime,
    correlation_id: uuid.UUID,
) -> Application:  # fmt: skip
    check(application.state, Action.OFFER, actor)  # the state's refusal first, then the capacity's
    if not await uow.watcch.take_place(cycle.id):
        current = await uow.watcch.cycle(cycle.id)
        taken = current.places_taken if current else cycle.places_taken
        raise WatcchConflict(f"no free place: {taken} of {cycle.capacity} places are offered or taken", "capacity")
    offered = application.offered(actor, now, cycle.offer_lifetime)
    await _save(uow, offered, application.state, now)
    await _publish_application(
        uow, events.WatcchApplicationOfferedV1, offered, correlation_id,
        expires_at=offered.offer_expires_at, from_waitlist=actor is Actor.SYSTEM,
    )  # fmt: skip
    return offered


async def _fill(uow: OutreachUnitOfWork, cycle: Cycle, now: datetime, correlation_id: uuid.UUID) -> int:
    """Offers free places to the head of the waitlist, in order, until none is free or no one waits."""
    offered = 0
    while True:
        current = await uow.watcch.cycle(cycle.id)
        if current is None or current.free_places <= 0:
            return offered
        head = await uow.watcch.waitlist(cycle.id, limit=1)
        if not head:
            return offered
        await _offer(uow, head[0], current, Actor.SYSTEM, now, correlation_id)
        offered += 1


_MOVES: dict[Action, tuple[State, type[events.WatcchApplicationV1]]] = {
    Action.ACCEPT: (State.ACCEPTED, events.WatcchApplicationAcceptedV1),
    Action.DECLINE: (State.DECLINED, events.WatcchApplicationDeclinedV1),
    Action.ENROL: (State.ENROLLED, events.WatcchApplicationEnrolledV1),
    Action.COMPLETE: (State.COMPLETED, events.WatcchApplicationCompletedV1),
}


async def take_action(
    application_id: uuid.UUID, action: Action, reason: str | None, uow: OutreachUnitOfWork,
    correlation_id: uuid.UUID, *, actor: Actor = Actor.COORDINATOR,
) -> ApplicationView:  # fmt: skip
    """A coordinator's action (also on the participant's behalf: accept, decline, withdraw)."""
    now = datetime.now(UTC)
    async with uow:
        found = await uow.watcch.application(application_id)
        if found is None:
            raise WatcchNotFound("no such application")
        cycle = await _locked_cycle(uow, found.cycle_id)
        before = await uow.watcch.application(application_id)  # again, now that the cycle is ours
        assert before is not None
        if action is Action.REEVALUATE:
            check(before.state, action, actor)
            decision = decide(cycle.rules, await _facts(uow, before, None))
            after = before.decided(decision, action, actor, now, _draw())
            await _save(uow, after, before.state, now, decided=True)
            await _publish_application(
                uow, events.WatcchApplicationDecidedV1, after, correlation_id,
                eligible=decision.eligible, rules_version=decision.rules_version, reevaluation=True,
            )  # fmt: skip
            if after.state is State.ELIGIBLE and before.state is not State.ELIGIBLE:  # newly eligible: queued
                after = await _waitlist(uow, after, Actor.SYSTEM, now, correlation_id)
                await _fill(uow, cycle, now, correlation_id)
        elif action is Action.WAITLIST:
            after = await _waitlist(uow, before, actor, now, correlation_id)
            await _fill(uow, cycle, now, correlation_id)
        elif action is Action.OFFER:
            after = await _offer(uow, before, cycle, actor, now, correlation_id)
        elif action is Action.WITHDRAW:
            after = before.moved(action, State.WITHDRAWN, actor, reason=reason)
            await _save(uow, after, before.state, now)
            await uow.watcch.add_note(
                before.participant_id, {"at": now.isoformat(), "withdrawn": (reason or "").strip()}, now=now
            )
            await _publish_application(
                uow, events.WatcchApplicationWithdrawnV1, after, correlation_id, previous_state=before.state.value
            )
            # Their places and waitlist positions in the cycle's activities to come go to others (completing
            # keeps them: a completed participant's record stays as it was).
            await release_participant(uow, before.participant_id, cycle.id, now, correlation_id)
        elif action in _MOVES:
            target, kind = _MOVES[action]
            check(before.state, action, actor)
            if action is Action.ACCEPT and before.offer_expired(now):
                raise TransitionRefused(action, before.state, "the offer has expired", options(before.state, actor))
            after = before.moved(action, target, actor)
            await _save(uow, after, before.state, now)
            await _publish_application(uow, kind, after, correlation_id)
        else:
            check(before.state, action, actor)  # decide and expire are the service's own: refused
            raise AssertionError("unreachable")  # pragma: no cover
        if before.state in HOLDS_PLACE and after.state not in HOLDS_PLACE:
            await uow.watcch.release_place(cycle.id)
            await _fill(uow, cycle, now, correlation_id)
        final = await uow.watcch.application(application_id)
        await uow.commit()
    assert final is not None
    return ApplicationView(final, options(final.state, Actor.COORDINATOR))


async def expire_offers(uow: OutreachUnitOfWork, *, now: datetime) -> list[uuid.UUID]:
    """Every offer past its lifetime becomes offer_expired, once (keyed), and its place goes to the waitlist. Each
    in its own transaction: one that meets a conflict is rolled back, logged and left for the next tick, and the
    others go on."""
    async with uow:
        due = await uow.watcch.offers_expired_by(now)
    expired = []
    for candidate in due:
        try:
            if await _expire_offer(uow, candidate, now):
                expired.append(candidate.id)
        except WatcchConflict as conflict:
            log.warning("watcch.offer_expiry_conflict", application_id=str(candidate.id), field=conflict.field)
    return expired


async def _expire_offer(uow: OutreachUnitOfWork, candidate: Application, now: datetime) -> bool:
    async with uow:
        cycle = await _locked_cycle(uow, candidate.cycle_id)
        application = await uow.watcch.application(candidate.id)
        if application is None or not application.offer_expired(now):
            return False  # accepted, declined or withdrawn meanwhile
        assert application.offered_at is not None
        correlation_id = uuid.uuid4()
        after = application.moved(Action.EXPIRE, State.OFFER_EXPIRED, Actor.SYSTEM)
        event = events.WatcchApplicationOfferExpiredV1(**_ids(after))
        envelope = Envelope.wrap(event, subject=f"watcch/applications/{after.id}", correlation_id=correlation_id)
        key = f"offer_expiry:{application.id}:{application.offered_at.isoformat()}"
        if not await uow.watcch.fire_once(key, event_id=envelope.id, event_type=envelope.type, now=now):
            return False
        await _save(uow, after, application.state, now)
        await uow.publish(envelope)
        await uow.watcch.release_place(cycle.id)
        await _fill(uow, cycle, now, correlation_id)
        await uow.commit()
    return True


async def get_application(application_id: uuid.UUID, uow: OutreachUnitOfWork) -> ApplicationView:
    now = datetime.now(UTC)
    async with uow:
        application = await uow.watcch.application(application_id)
        if application is None:
            raise WatcchNotFound("no such application")
        details = await uow.watcch.personal_details(application.participant_id)
        link = await uow.watcch.latest_link(application_id)
    referee = None
    if link is not None:
        referee = link.decision.value if link.decision else ("expired" if now >= link.expires_at else "pending")
    return ApplicationView(application, options(application.state, Actor.COORDINATOR), details, referee)


async def list_applications(
    where: ApplicationFilter, uow: OutreachUnitOfWork, *, limit: int, offset: int
) -> list[ApplicationView]:
    async with uow:
        found = await uow.watcch.applications(where, limit=limit, offset=offset)
    return [ApplicationView(a, options(a.state, Actor.COORDINATOR)) for a in found]


async def waitlist(cycle_id: uuid.UUID, uow: OutreachUnitOfWork) -> list[ApplicationView]:
    async with uow:
        if await uow.watcch.cycle(cycle_id) is None:
            raise WatcchNotFound("no such cycle")
        found = await uow.watcch.waitlist(cycle_id)
    return [ApplicationView(a, options(a.state, Actor.COORDINATOR)) for a in found]
