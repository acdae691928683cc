"""WATCCH storage: cycles and their rule versions, participants, personal details (their one table),
individual indicators, applications, referee links and timer firings."""

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_watcch import (
    individual_indicators,
    participants,
    personal_details,
    watcch_applications,
    watcch_cycles,
    watcch_fired_timers,
    watcch_referee_links,
    watcch_rule_versions,
)
from medic.outreach.domain.indicators import IndicatorSource, IndividualMeasure
from medic.outreach.domain.watcch import (
    Application,
    Cycle,
    CycleStatus,
    QueueKey,
    State,
    WatcchConflict,
    YearGroup,
    cycle_exists,
)
from medic.outreach.domain.watcch_eligibility import (
    Decision,
    IndividualFact,
    RuleSet,
    finding_from_data,
    finding_to_data,
    rule_from_data,
    rule_to_data,
)
from medic.outreach.domain.watcch_people import PersonalDetails, RefereeAnswer, RefereeLink

# When two sources gave a value at the same moment, the more trustworthy one counts.
SOURCE_RANK = {IndicatorSource.VERIFIED: 3, IndicatorSource.SCHOOL: 2, IndicatorSource.SELF_DECLARED: 1}


@dataclass(frozen=True)
class ApplicationFilter:
    cycle_id: uuid.UUID | None = None
    state: State | None = None
    school_urn: str | None = None
    year_group: YearGroup | None = None


def _cycle_values(cycle: Cycle) -> dict[str, Any]:
    return {
        "name": cycle.name,
        "academic_year": cycle.academic_year,
        "capacity": cycle.capacity,
        "applications_open_on": cycle.applications_open_on,
        "applications_close_on": cycle.applications_close_on,
        "programme_starts_on": cycle.programme_starts_on,
        "programme_ends_on": cycle.programme_ends_on,
        "offer_lifetime_days": cycle.offer_lifetime_days,
        "year_groups": sorted(y.value for y in cycle.year_groups),
        "questions": list(cycle.questions),
        "status": cycle.status.value,
        "rules_version": cycle.rules.version,
    }


def _decision(row: Row[Any]) -> Decision | None:
    if row.decision is None:
        return None
    findings = tuple(finding_from_data(f) for f in row.decision["findings"])
    return Decision(bool(row.decision["eligible"]), int(row.rules_version), findings)


def _application(row: Row[Any]) -> Application:
    queue = None if row.eligible_at is None else QueueKey(row.eligible_at, int(row.queue_draw))
    return Application(
        id=row.id,
        reference=row.reference,
        cycle_id=row.cycle_id,
        participant_id=row.participant_id,
        school_urn=row.school_urn,
        year_group=YearGroup(row.year_group),
        state=State(row.state),
        submitted_at=row.submitted_at,
        entered_by_coordinator=row.entered_by_coordinator,
        rules_version=row.rules_version,
        decision=_decision(row),
        queue=queue,
        offered_at=row.offered_at,
        offer_expires_at=row.offer_expires_at,
    )


def _application_values(application: Application) -> dict[str, Any]:
    decision = application.decision
    return {
        "state": application.state.value,
        "rules_version": application.rules_version,
        "decision": None
        if decision is None
        else {"eligible": decision.eligible, "findings": [finding_to_data(f) for f in decision.findings]},
        "eligible_at": None if application.queue is None else application.queue.eligible_at,
        "queue_draw": None if application.queue is None else application.queue.draw,
        "offered_at": application.offered_at,
        "offer_expires_at": application.offer_expires_at,
    }


class WatcchRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # --- cycles ---------------------------------------------------------------------------------------------

    async def add_cycle(self, cycle: Cycle, *, now: datetime) -> None:
        try:
            await self._connection.execute(
                insert(watcch_cycles).values(id=cycle.id, places_taken=0, created_at=now, **_cycle_values(cycle))
            )
        except IntegrityError as error:  # a concurrent request made the year's cycle first (the unit of work
            # rolls back): the same 409 as when it was seen before
            raise WatcchConflict(cycle_exists(cycle.academic_year), "academic_year") from error
        await self.save_rules(cycle.id, cycle.rules, now=now)

    async def save_rules(self, cycle_id: uuid.UUID, rules: RuleSet, *, now: datetime) -> None:
        """Stores `rules` as their version (replacing that version if no application was judged by it yet)."""
        data = [rule_to_data(r) for r in rules.rules]
        key = (watcch_rule_versions.c.cycle_id == cycle_id) & (watcch_rule_versions.c.version == rules.version)
        await self._connection.execute(delete(watcch_rule_versions).where(key))
        await self._connection.execute(
            insert(watcch_rule_versions).values(cycle_id=cycle_id, version=rules.version, rules=data, created_at=now)
        )

    async def update_cycle(self, cycle: Cycle) -> None:
        await self._connection.execute(
            update(watcch_cycles).where(watcch_cycles.c.id == cycle.id).values(**_cycle_values(cycle))
        )

    async def rules(self, cycle_id: uuid.UUID, version: int) -> RuleSet:
        query = select(watcch_rule_versions.c.rules).where(
            (watcch_rule_versions.c.cycle_id == cycle_id) & (watcch_rule_versions.c.version == version)
        )
        data = (await self._connection.execute(query)).scalar_one()
        return RuleSet(version, tuple(rule_from_data(r) for r in data))

    async def _cycle(self, row: Row[Any]) -> Cycle:
        return Cycle(
            id=row.id,
            name=row.name,
            academic_year=row.academic_year,
            capacity=row.capacity,
            applications_open_on=row.applications_open_on,
            applications_close_on=row.applications_close_on,
            programme_starts_on=row.programme_starts_on,
            programme_ends_on=row.programme_ends_on,
            offer_lifetime_days=row.offer_lifetime_days,
            year_groups=frozenset(YearGroup(y) for y in row.year_groups),
            questions=tuple(row.questions),
            status=CycleStatus(row.status),
            rules=await self.rules(row.id, row.rules_version),
            places_taken=row.places_taken,
        )

    async def cycle(self, cycle_id: uuid.UUID, *, lock: bool = False) -> Cycle | None:
        """The cycle; `lock`: its row stays locked to this transaction (PostgreSQL), so every change to its
        places and waitlist happens one transaction at a time."""
        query = select(watcch_cycles).where(watcch_cycles.c.id == cycle_id)
        if lock:
            query = query.with_for_update()
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else await self._cycle(row)

    async def cycle_by_year(self, academic_year: str) -> uuid.UUID | None:
        query = select(watcch_cycles.c.id).where(watcch_cycles.c.academic_year == academic_year)
        return (await self._connection.execute(query)).scalar_one_or_none()

    async def cycles(self) -> list[Cycle]:
        rows = await self._connection.execute(select(watcch_cycles).order_by(watcch_cycles.c.academic_year.desc()))
        return [await self._cycle(row) for row in rows.all()]

    async def take_place(self, cycle_id: uuid.UUID) -> bool:
        """One more place taken, only while one is free (a conditional update: never over capacity)."""
        result = await self._connection.execute(
            update(watcch_cycles)
            .where((watcch_cycles.c.id == cycle_id) & (watcch_cycles.c.places_taken < watcch_cycles.c.capacity))
            .values(places_taken=watcch_cycles.c.places_taken + 1)
        )
        return result.rowcount == 1

    async def release_place(self, cycle_id: uuid.UUID) -> None:
        await self._connection.execute(
            update(watcch_cycles)
            .where((watcch_cycles.c.id == cycle_id) & (watcch_cycles.c.places_taken > 0))
            .values(places_taken=watcch_cycles.c.places_taken - 1)
        )

    async def has_applications(self, cycle_id: uuid.UUID) -> bool:
        query = select(func.count()).select_from(watcch_applications).where(watcch_applications.c.cycle_id == cycle_id)
        return bool((await self._connection.execute(query)).scalar_one())

    # --- participants and their personal details --------------------------------------------------------------

    async def add_participant(self, participant_id: uuid.UUID, details: PersonalDetails, *, now: datetime) -> None:
        await self._connection.execute(insert(participants).values(participant_id=participant_id, created_at=now))
        await self._connection.execute(
            insert(personal_details).values(participant_id=participant_id, updated_at=now, **details.values())
        )

    async def personal_details(self, participant_id: uuid.UUID) -> PersonalDetails | None:
        query = select(personal_details).where(personal_details.c.participant_id == participant_id)
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else PersonalDetails.of_row(dict(row._mapping))

    async def add_note(self, participant_id: uuid.UUID, note: Mapping[str, str], *, now: datetime) -> None:
        details = await self.personal_details(participant_id)
        if details is None:
            return
        await self._connection.execute(
            update(personal_details)
            .where(personal_details.c.participant_id == participant_id)
            .values(notes=[*details.notes, dict(note)], updated_at=now)
        )

    async def record_indicators(
        self,
        participant_id: uuid.UUID,
        values: Mapping[IndividualMeasure, str],
        source: IndicatorSource,
        *,
        now: datetime,
    ) -> None:
        if values:
            await self._connection.execute(
                insert(individual_indicators),
                [
                    {
                        "participant_id": participant_id,
                        "measure": m.value,
                        "value": v,
                        "source": source.value,
                        "recorded_at": now,
                    }
                    for m, v in values.items()
                ],
            )

    async def indicators(self, participant_id: uuid.UUID) -> dict[IndividualMeasure, IndividualFact]:
        """The current value of each measure: the latest recorded, the more trustworthy source on a tie."""
        query = select(individual_indicators).where(individual_indicators.c.participant_id == participant_id)
        current: dict[IndividualMeasure, tuple[tuple[datetime, int], IndividualFact]] = {}
        for row in await self._connection.execute(query):
            measure, source = IndividualMeasure(row.measure), IndicatorSource(row.source)
            rank = (row.recorded_at, SOURCE_RANK[source])
            if measure not in current or rank > current[measure][0]:
                current[measure] = (rank, IndividualFact(measure, row.value, source))
        return {m: fact for m, (_, fact) in current.items()}

    # --- applications -------------------------------------------------------------------------------------------

    async def add_application(self, application: Application, *, now: datetime) -> None:
        await self._connection.execute(
            insert(watcch_applications).values(
                id=application.id,
                reference=application.reference,
                cycle_id=application.cycle_id,
                participant_id=application.participant_id,
                school_urn=application.school_urn,
                year_group=application.year_group.value,
                submitted_at=application.submitted_at,
                entered_by_coordinator=application.entered_by_coordinator,
                decided_at=None,
                updated_at=now,
                **_application_values(application),
            )
        )

    async def reference_taken(self, reference: str) -> bool:
        query = select(watcch_applications.c.id).where(watcch_applications.c.reference == reference)
        return (await self._connection.execute(query)).first() is not None

    async def save(self, application: Application, *, was: State, now: datetime, decided: bool = False) -> bool:
        """Stores the application's new state only if it is still `was` (False: it changed meanwhile)."""
        values = _application_values(application)
        if decided:
            values["decided_at"] = now
        result = await self._connection.execute(
            update(watcch_applications)
            .where((watcch_applications.c.id == application.id) & (watcch_applications.c.state == was.value))
            .values(updated_at=now, **values)
        )
        return result.rowcount == 1

    async def application(self, application_id: uuid.UUID) -> Application | None:
        query = select(watcch_applications).where(watcch_applications.c.id == application_id)
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _application(row)

    async def applications(self, where: ApplicationFilter, *, limit: int, offset: int) -> list[Application]:
        query = select(watcch_applications).order_by(watcch_applications.c.submitted_at, watcch_applications.c.id)
        if where.cycle_id is not None:
            query = query.where(watcch_applications.c.cycle_id == where.cycle_id)
        if where.state is not None:
            query = query.where(watcch_applications.c.state == where.state.value)
        if where.school_urn is not None:
            query = query.where(watcch_applications.c.school_urn == where.school_urn)
        if where.year_group is not None:
            query = query.where(watcch_applications.c.year_group == where.year_group.value)
        return [_application(row) for row in await self._connection.execute(query.limit(limit).offset(offset))]

    async def waitlist(self, cycle_id: uuid.UUID, *, limit: int | None = None) -> list[Application]:
        """The cycle's waitlist in the order places are offered: eligible since, then the draw."""
        query = (
            select(watcch_applications)
            .where((watcch_applications.c.cycle_id == cycle_id) & (watcch_applications.c.state == State.WAITLISTED))
            .order_by(watcch_applications.c.eligible_at, watcch_applications.c.queue_draw, watcch_applications.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return [_application(row) for row in await self._connection.execute(query)]

    async def offers_expired_by(self, now: datetime) -> list[Application]:
        query = select(watcch_applications).where(
            (watcch_applications.c.state == State.OFFERED) & (watcch_applications.c.offer_expires_at <= now)
        )
        return [_application(row) for row in await self._connection.execute(query)]

    async def counts(self, cycle_id: uuid.UUID) -> dict[State, int]:
        query = (
            select(watcch_applications.c.state, func.count())
            .where(watcch_applications.c.cycle_id == cycle_id)
            .group_by(watcch_applications.c.state)
        )
        return {State(state): int(n) for state, n in await self._connection.execute(query)}

    # --- referee links ------------------------------------------------------------------------------------------

    async def last_open_link_issued_at(self, application_id: uuid.UUID) -> datetime | None:
        query = select(func.max(watcch_referee_links.c.issued_at)).where(
            (watcch_referee_links.c.application_id == application_id)
            & watcch_referee_links.c.decision.is_(None)
            & ~watcch_referee_links.c.superseded
        )
        value: datetime | None = (await self._connection.execute(query)).scalar_one_or_none()
        return value

    async def add_link(self, link: RefereeLink) -> None:
        await self._connection.execute(
            update(watcch_referee_links)
            .where(watcch_referee_links.c.application_id == link.application_id)
            .values(superseded=True)
        )
        await self._connection.execute(
            insert(watcch_referee_links).values(
                id=link.id,
                application_id=link.application_id,
                token_hash=link.token_hash,
                issued_at=link.issued_at,
                expires_at=link.expires_at,
                superseded=False,
                decision=None,
                decided_at=None,
            )
        )

    async def link_by_token_hash(self, token_hash: str) -> RefereeLink | None:
        query = select(watcch_referee_links).where(watcch_referee_links.c.token_hash == token_hash)
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _link(row)

    async def latest_link(self, application_id: uuid.UUID) -> RefereeLink | None:
        query = (
            select(watcch_referee_links)
            .where(watcch_referee_links.c.application_id == application_id)
            .order_by(watcch_referee_links.c.issued_at.desc())
            .limit(1)
        )
        row = (await self._connection.execute(query)).one_or_none()
        return None if row is None else _link(row)

    async def record_answer(self, link: RefereeLink) -> bool:
        """Stores the link's decision only where none is stored yet (False: another answer came first)."""
        assert link.decision is not None
        result = await self._connection.execute(
            update(watcch_referee_links)
            .where((watcch_referee_links.c.id == link.id) & watcch_referee_links.c.decision.is_(None))
            .values(decision=link.decision.value, decided_at=link.decided_at)
        )
        return result.rowcount == 1

    # --- timers ---------------------------------------------------------------------------------------------------

    async def fire_once(self, key: str, *, event_id: uuid.UUID, event_type: str, now: datetime) -> bool:
        """Records the timer firing `key` (every outreach timer's, in `watcch_fired_timers`); False if it fired
        already, then nothing is recorded. `INSERT ... ON CONFLICT DO NOTHING`: a second replica inserting a key
        another has inserted and not committed waits for it, then inserts nothing."""
        insert_ = pg_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert_(watcch_fired_timers)
            .values(key=key, event_id=event_id, event_type=event_type, fired_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(watcch_fired_timers.c.key)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def fired(self, keys: Collection[str]) -> set[str]:
        """Which of the timers' `keys` have fired already."""
        if not keys:
            return set()
        query = select(watcch_fired_timers.c.key).where(watcch_fired_timers.c.key.in_(list(keys)))
        return set((await self._connection.execute(query)).scalars())

    async def applications_of(self, ids: Collection[uuid.UUID]) -> Sequence[Application]:
        query = select(watcch_applications).where(watcch_applications.c.id.in_(list(ids)))
        return [_application(row) for row in await self._connection.execute(query)]

    # --- read by other areas (activities, surveys) ---------------------------------------------------------------

    async def participant_exists(self, participant_id: uuid.UUID) -> bool:
        query = select(participants.c.participant_id).where(participants.c.participant_id == participant_id)
        return (await self._connection.execute(query)).first() is not None

    async def is_enrolled(self, participant_id: uuid.UUID, cycle_id: uuid.UUID) -> bool:
        """The participant's application to the cycle is enrolled (not completed, withdrawn or any other state)."""
        query = select(watcch_applications.c.id).where(
            (watcch_applications.c.participant_id == participant_id)
            & (watcch_applications.c.cycle_id == cycle_id)
            & (watcch_applications.c.state == State.ENROLLED.value)
        )
        return (await self._connection.execute(query)).first() is not None

    async def application_state(self, participant_id: uuid.UUID, cycle_id: uuid.UUID) -> State | None:
        """The state of the participant's application to the cycle, if they applied to it."""
        query = select(watcch_applications.c.state).where(
            (watcch_applications.c.participant_id == participant_id) & (watcch_applications.c.cycle_id == cycle_id)
        )
        found = (await self._connection.execute(query)).scalar_one_or_none()
        return None if found is None else State(found)


def _link(row: Row[Any]) -> RefereeLink:
    return RefereeLink(
        id=row.id,
        application_id=row.application_id,
        token_hash=row.token_hash,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        superseded=row.superseded,
        decision=None if row.decision is None else RefereeAnswer(row.decision),
        decided_at=row.decided_at,
    )
