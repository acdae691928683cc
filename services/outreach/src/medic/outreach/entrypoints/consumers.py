"""The events outreach consumes, and what it does with each."""

from collections.abc import Callable

from medic.outreach.service_layer import handlers
from medic.shared.consumer import EventConsumer, Subscription
from medic.shared.contracts.projects import PartnerRegisteredV1
from medic.shared.uow import UnitOfWork

CONSUMER_NAME = "outreach"


def outreach_consumer(uow_factory: Callable[[], UnitOfWork]) -> EventConsumer:
    return EventConsumer(
        CONSUMER_NAME,
        uow_factory,
        {PartnerRegisteredV1.event_type: Subscription(PartnerRegisteredV1, handlers.record_registered_partner)},
    )
