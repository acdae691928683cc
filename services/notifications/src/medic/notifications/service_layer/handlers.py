"""Use cases of the notifications service."""

from datetime import UTC, datetime
from typing import Any, cast

from medic.notifications.adapters.repository import strings
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.event_log_fields import loggable
from medic.notifications.domain.model import EventLogQuery, EventPage, LoggedEvent
from medic.shared.contracts.outreach.erasure import (
    ParticipantErasedV1,
    PartnerErasureNoticeRequestedV1,
    SafeguardingPersonErasedV1,
)
from medic.shared.events import RawEnvelope
from medic.shared.logging import get_logger, redact
from medic.shared.uow import UnitOfWork

log = get_logger(__name__)

# The erasure events: each names whom to forget by its subject (`participants/<id>`, `safeguarding/people/<id>`).
# They stay in the log, as the proof the erasure reached it; so do the partner notices (the webhook work's input).
ERASURE_SUBJECTS = {
    ParticipantErasedV1.event_type: ("participants/", "participant_id"),
    SafeguardingPersonErasedV1.event_type: ("safeguarding/people/", "person_id"),
}
KEPT_ON_ERASURE = frozenset({*ERASURE_SUBJECTS, PartnerErasureNoticeRequestedV1.event_type})


async def record_event(data: dict[str, Any], envelope: RawEnvelope, uow: UnitOfWork) -> bool:
    """Runs inside the consumer's unit of work for every event; the consumer commits it with the inbox row.

    Only the fields its type's allow-list names are stored (`domain/event_log_fields.py`; an unknown type keeps its
    ids), and personal keys nested inside them are still redacted: personal data never reaches the ops log. An event
    about someone erased already (it arrived late, or was sent after the erasure) is not logged, and False says so:
    nothing else may act on it either (no email, directory row or partner message would bring the id back).
    """
    notifications = cast(NotificationsUnitOfWork, uow)
    if envelope.type not in KEPT_ON_ERASURE and await _about_someone_erased(notifications, envelope, data):
        log.info("event_log.skipped_erased", event_id=str(envelope.id), event_type=envelope.type)
        return False
    event = LoggedEvent(
        id=envelope.id,
        type=envelope.type,
        source=envelope.source,
        subject=envelope.subject,
        time=envelope.time,
        correlation_id=envelope.correlationid,
        causation_id=envelope.causationid,
        received_at=datetime.now(UTC),
        data={key: redact(value) for key, value in loggable(envelope.type, data).items()},
    )
    await notifications.events.add(event)  # a redelivery adds nothing
    return True


async def forget_subject(data: dict[str, Any], envelope: RawEnvelope, uow: UnitOfWork) -> bool:
    """An erasure event: logged like any event, then every other entry naming the erased id is deleted, in the
    same transaction (the consumer's unit of work). A redelivery deletes nothing more and logs nothing twice."""
    await record_event(data, envelope, uow)
    _, field = ERASURE_SUBJECTS[envelope.type]
    subject_id = str(data.get(field, ""))
    if not subject_id:
        return True
    notifications = cast(NotificationsUnitOfWork, uow)
    deleted = await notifications.events.forget(subject_id, keep_types=KEPT_ON_ERASURE)
    log.info("event_log.forgotten", event_id=str(envelope.id), event_type=envelope.type, deleted=deleted)
    return True


async def _about_someone_erased(uow: NotificationsUnitOfWork, envelope: RawEnvelope, data: dict[str, Any]) -> bool:
    ids = strings(data) | set((envelope.subject or "").split("/"))
    subjects = {prefix + i for prefix, _ in ERASURE_SUBJECTS.values() for i in ids if i}
    return bool(await uow.events.erased_among(ERASURE_SUBJECTS, subjects))


async def find_events(uow: NotificationsUnitOfWork, query: EventLogQuery) -> EventPage:
    async with uow:
        rows = await uow.events.find(query, limit=query.limit + 1)
    return EventPage.of(rows, limit=query.limit, after=query.after)


async def newest_position(uow: NotificationsUnitOfWork) -> int:
    """Where a live tail starting now begins: after the newest entry logged (0 for an empty log)."""
    async with uow:
        return await uow.events.newest_seq()
