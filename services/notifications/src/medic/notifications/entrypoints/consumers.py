"""The events notifications consumes (all of them), and what it does with each."""

from collections.abc import Callable

from medic.notifications.service_layer import handlers
from medic.shared.consumer import EventConsumer, Subscription
from medic.shared.topology import ALL_EVENTS
from medic.shared.uow import UnitOfWork

CONSUMER_NAME = "notifications"


def notifications_consumer(uow_factory: Callable[[], UnitOfWork]) -> EventConsumer:
    # payload_type=None: the log keeps every event's `data` as received (redacted), whatever its type. The erasure
    # events are logged too, and then forget every other entry about the erased id.
    forgetting = {event_type: Subscription(None, handlers.forget_subject) for event_type in handlers.ERASURE_SUBJECTS}
    return EventConsumer(
        CONSUMER_NAME, uow_factory, {ALL_EVENTS: Subscription(None, handlers.record_event), **forgetting}
    )
