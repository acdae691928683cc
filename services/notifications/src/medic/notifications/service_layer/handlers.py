"""Use cases of the notifications service."""

from datetime import UTC, datetime
from typing import Any, cast

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.model import EventLogQuery, EventPage, LoggedEvent
from medic.shared.events import RawEnvelope
from medic.shared.logging import redact
from medic.shared.uow import UnitOfWork


async def record_event(data: dict[str, Any], envelope: RawEnvelope, uow: UnitOfWork) -> None:
    """Runs inside the consumer's unit of work for every event; the consumer commits it with the inbox row.

    Personal fields are redacted before the event is stored: they never reach the ops log.
    """
    notifications = cast(NotificationsUnitOfWork, uow)
    event = LoggedEvent(
        id=envelope.id,
        type=envelope.type,
        source=envelope.source,
        subject=envelope.subject,
        time=envelope.time,
        correlation_id=envelope.correlationid,
        causation_id=envelope.causationid,
        received_at=datetime.now(UTC),
        data=redact(data),
    )
    if await notifications.events.add(event):
        notifications.recorded.append(event)


async def find_events(uow: NotificationsUnitOfWork, query: EventLogQuery) -> EventPage:
    async with uow:
        rows = await uow.events.find(query, limit=query.limit + 1)
    return EventPage.of(rows, limit=query.limit)
