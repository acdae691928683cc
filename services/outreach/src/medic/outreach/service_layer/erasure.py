"""Erasure use cases: forget a WATCCH participant, or a medical student's safeguarding record when they leave.

A participant's erasure, in one transaction with its events: the erasure record is inserted first (a concurrent
erasure of the same person waits on its unique key, then finds it), then personal details are deleted, the derived
area codes and values and the individual indicators deleted, each decision stripped to its outcome, referee links
deleted, the consent history deleted and the mentoring data forgotten (their areas' functions), and
`outreach.participant.erased.v1` plus one `outreach.partner_erasure_notice.requested.v1` per partner named in a
partner-sharing consent are staged in the outbox. Before that, each application still open is withdrawn (its own
transaction, through the WATCCH use case: the place and the activities' places go to the waitlist), so nobody
holds a place who can no longer be contacted. A second erasure answers the first's record and changes nothing.

Logged with ids and counts only.
"""

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.erasure import (
    Erasure,
    ErasureNotFound,
    ErasureReason,
    ErasureRecord,
    SubjectKind,
)
from medic.outreach.domain.history import Stream
from medic.outreach.domain.watcch import Action, Actor, State, options
from medic.outreach.service_layer import consent, mentoring, safeguarding
from medic.outreach.service_layer import watcch as applications
from medic.shared.contracts.outreach import erasure as events
from medic.shared.events import Envelope, EventPayload
from medic.shared.logging import get_logger

log = get_logger(__name__)

WITHDRAWAL_REASON = "erased"  # stored in the notes the erasure then deletes


async def erase_participant(
    uow: OutreachUnitOfWork,
    participant_id: uuid.UUID,
    *,
    reason: ErasureReason,
    request_reference: str | None,
    by: str,
    now: datetime,
    correlation_id: uuid.UUID,
    retention_review_id: uuid.UUID | None = None,
) -> Erasure:
    """Erase the participant (see the module); raises ErasureNotFound for an id outreach never knew."""
    subject = str(participant_id)
    async with uow:
        if (done := await uow.erasure.record_of(SubjectKind.PARTICIPANT, subject)) is not None:
            return Erasure(done, already_erased=True)
        if not await uow.erasure.participant_exists(participant_id):
            raise ErasureNotFound("no such participant")
        open_applications = [
            application_id
            for application_id, state in await uow.erasure.applications_of(participant_id)
            if Action.WITHDRAW in options(State(state), Actor.COORDINATOR)
        ]
    withdrawn = 0
    for application_id in open_applications:
        try:
            await applications.take_action(application_id, Action.WITHDRAW, WITHDRAWAL_REASON, uow, correlation_id)
            withdrawn += 1
        except Exception as error:  # moved meanwhile (withdrawn, declined): the erasure goes on regardless
            log.warning("erasure.withdrawal_skipped", application_id=str(application_id), error=type(error).__name__)
    record = ErasureRecord(
        id=uuid.uuid4(),
        kind=SubjectKind.PARTICIPANT,
        subject_id=subject,
        erased_at=now,
        erased_by=by,
        reason=reason,
        request_reference=request_reference,
        deleted={},
        retention_review_id=retention_review_id,
    )
    try:
        async with uow:
            # Consents are recorded with the stream held: none can slip in between this erasure's reads and deletes
            # (and one recorded after it finds no participant).
            await uow.history.lock(Stream.CONSENT, subject, now=now)
            await uow.erasure.add_record(record)
            deleted = await uow.erasure.erase_participant_rows(participant_id)
            deleted["applications_withdrawn"] = withdrawn
            deleted["consent_events"] = await uow.history.count(Stream.CONSENT, subject)
            partners = await consent.forget_participant(uow, participant_id)
            await mentoring.forget_participant(uow, participant_id, now=now)
            record = replace(record, deleted=deleted, partners_notified=len(partners))
            await uow.erasure.complete_record(record.id, deleted, len(partners))
            await _publish(
                uow,
                events.ParticipantErasedV1(participant_id=participant_id, erased_at=now, erasure_id=record.id),
                f"participants/{participant_id}",
                correlation_id,
            )
            for partner_id in sorted(partners):
                notice = events.PartnerErasureNoticeRequestedV1(
                    partner_id=partner_id, participant_id=participant_id, erasure_id=record.id
                )
                await _publish(uow, notice, f"participants/{participant_id}", correlation_id)
            await uow.commit()
    except IntegrityError:  # a concurrent erasure of the same participant committed first
        async with uow:
            done = await uow.erasure.record_of(SubjectKind.PARTICIPANT, subject)
        if done is None:
            raise
        return Erasure(done, already_erased=True)
    log.info("erasure.participant_erased", participant_id=subject, erasure_id=str(record.id), **_counts(record))
    return Erasure(record, already_erased=False)


async def erase_safeguarding_person(
    uow: OutreachUnitOfWork,
    person_id: str,
    *,
    reason: ErasureReason,
    request_reference: str | None,
    by: str,
    now: datetime,
    correlation_id: uuid.UUID,
    retention_review_id: uuid.UUID | None = None,
) -> Erasure:
    """Erase a medical student's safeguarding record (stripped to what must be kept, by the safeguarding area) and
    their mentor profile's free text; raises ErasureNotFound for a person with no safeguarding record."""
    record = ErasureRecord(
        id=uuid.uuid4(),
        kind=SubjectKind.SAFEGUARDING_PERSON,
        subject_id=person_id,
        erased_at=now,
        erased_by=by,
        reason=reason,
        request_reference=request_reference,
        deleted={},
        retention_review_id=retention_review_id,
    )
    try:
        async with uow:
            if (done := await uow.erasure.record_of(SubjectKind.SAFEGUARDING_PERSON, person_id)) is not None:
                return Erasure(done, already_erased=True)
            if not await safeguarding.is_known(uow, person_id):
                raise ErasureNotFound("no such person")
            events_before = await uow.history.count(Stream.SAFEGUARDING, person_id)
            await uow.erasure.add_record(record)
            await safeguarding.forget_person(uow, person_id, now=now)
            await mentoring.forget_mentor(uow, person_id, now=now)
            events_after = await uow.history.count(Stream.SAFEGUARDING, person_id)
            deleted = {"safeguarding_events_deleted": events_before - events_after,
                       "safeguarding_events_stripped": events_after}  # fmt: skip
            record = replace(record, deleted=deleted)
            await uow.erasure.complete_record(record.id, deleted, 0)
            event = events.SafeguardingPersonErasedV1(person_id=person_id, erased_at=now, erasure_id=record.id)
            await _publish(uow, event, f"safeguarding/people/{person_id}", correlation_id)
            await uow.commit()
    except IntegrityError:
        async with uow:
            done = await uow.erasure.record_of(SubjectKind.SAFEGUARDING_PERSON, person_id)
        if done is None:
            raise
        return Erasure(done, already_erased=True)
    log.info("erasure.safeguarding_person_erased", erasure_id=str(record.id), **_counts(record))  # not the person
    return Erasure(record, already_erased=False)


async def erasure_records(uow: OutreachUnitOfWork, *, limit: int, offset: int) -> list[ErasureRecord]:
    async with uow:
        return await uow.erasure.records(limit=limit, offset=offset)


async def _publish(uow: OutreachUnitOfWork, payload: EventPayload, subject: str, correlation_id: uuid.UUID) -> None:
    await uow.publish(Envelope.wrap(payload, subject=subject, correlation_id=correlation_id))


def _counts(record: ErasureRecord) -> Mapping[str, int]:
    return {f"deleted_{k}": v for k, v in record.deleted.items()} | {"partners_notified": record.partners_notified}
