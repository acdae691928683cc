"""Use cases about WATCCH progression outcomes: record one (publishing an event), list a participant's."""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.outcomes import (
    ALREADY_RECORDED,
    Outcome,
    OutcomeConflict,
    OutcomeNotFound,
    RecordOutcome,
)
from medic.shared.contracts.outreach.outcomes import OutcomeRecordedV1
from medic.shared.events import Envelope


async def record_outcome(command: RecordOutcome, uow: OutreachUnitOfWork, *, today: date) -> Outcome:
    """Any participant known to WATCCH (an applicant who was not offered a place too: outcomes of applicants who did
    not take part are a comparison). The same fact from the same source twice is a 409."""
    outcome = Outcome.record(
        participant_id=command.participant_id,
        stage=command.stage,
        course_type=command.course_type,
        entry_year=command.entry_year,
        source=command.source,
        occurred_on=command.occurred_on,
        today=today,
    )
    async with uow:
        if not await uow.watcch.participant_exists(command.participant_id):
            raise OutcomeNotFound(f"no participant {command.participant_id}")
        if await uow.outcomes.find(outcome) is not None:
            raise OutcomeConflict(ALREADY_RECORDED)
        await uow.outcomes.add(outcome, now=datetime.now(UTC))
        event = OutcomeRecordedV1(
            outcome_id=outcome.id,
            participant_id=outcome.participant_id,
            stage=outcome.stage,
            course_type=outcome.course_type,
            entry_year=outcome.entry_year,
            outcome_source=outcome.source,
        )
        subject = f"participants/{outcome.participant_id}/outcomes/{outcome.id}"
        await uow.publish(Envelope.wrap(event, subject=subject, correlation_id=command.correlation_id))
        await uow.commit()
    return outcome


async def outcomes_of(participant_id: uuid.UUID, uow: OutreachUnitOfWork) -> Sequence[Outcome]:
    async with uow:
        if not await uow.watcch.participant_exists(participant_id):
            raise OutcomeNotFound(f"no participant {participant_id}")
        return await uow.outcomes.of_participant(participant_id)
