"""The events notifications consumes (all of them), and what it does with each."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.service_layer import handlers
from medic.shared.consumer import EventConsumer, EventHandler, Subscription
from medic.shared.events import RawEnvelope
from medic.shared.topology import ALL_EVENTS
from medic.shared.uow import UnitOfWork

CONSUMER_NAME = "notifications"

# What else an event sets off once it is in the ops log (partner webhooks, emails), in the same transaction as the
# log entry and the inbox row: a redelivered event is skipped whole, so nothing is queued twice. `data` is the event
# as published (not redacted): each reaction takes only what it may.
Reaction = Callable[[dict[str, Any], RawEnvelope, NotificationsUnitOfWork], Awaitable[None]]
# Logs the event; False when it is about someone erased already: then no reaction runs either.
LogEntry = Callable[[Any, RawEnvelope, UnitOfWork], Awaitable[bool]]


def notifications_consumer(uow_factory: Callable[[], UnitOfWork], reactions: Sequence[Reaction] = ()) -> EventConsumer:
    def then_react(log_it: LogEntry) -> EventHandler:
        async def handle(data: Any, envelope: RawEnvelope, uow: UnitOfWork) -> None:
            if not await log_it(data, envelope, uow):
                return
            for react in reactions:
                await react(data, envelope, cast(NotificationsUnitOfWork, uow))

        return handle

    # payload_type=None: every event's `data` as received, whatever its type. The erasure events are logged too,
    # and then forget every other entry about the erased id.
    forgetting = {
        event_type: Subscription(None, then_react(handlers.forget_subject)) for event_type in handlers.ERASURE_SUBJECTS
    }
    return EventConsumer(
        CONSUMER_NAME, uow_factory, {ALL_EVENTS: Subscription(None, then_react(handlers.record_event)), **forgetting}
    )
