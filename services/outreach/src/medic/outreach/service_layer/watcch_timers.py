"""The offer-expiry timer: every `interval_s`, offers past their lifetime expire and their places move on.

Like projects' reminders (service_layer/reminders.py): a loop inside the service, started by the composition root.
Each expiry runs in its own transaction with the cycle locked, records its key (`offer_expiry:<application>:
<offered at>`) in `watcch_fired_timers` and stages `outreach.watcch_application.offer_expired.v1` in the outbox; a
key that is there fires nothing, and the state change is conditional on the application still being offered, so
a restarted service or a second replica never expires (or publishes) an offer twice.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.service_layer.watcch import expire_offers
from medic.shared.logging import get_logger
from medic.shared.periodic import Periodic

log = get_logger(__name__)


class OfferExpiryScheduler(Periodic):
    """Expires due offers every `interval_s` until stopped; the first tick runs at once."""

    failure_event = "watcch.offer_expiry_failed"

    def __init__(
        self,
        unit_of_work: Callable[[], OutreachUnitOfWork],
        *,
        interval_s: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval_s=interval_s)
        self._unit_of_work = unit_of_work
        self.now = now  # tests move the clock

    async def tick(self) -> list[uuid.UUID]:
        expired = await expire_offers(self._unit_of_work(), now=self.now())
        if expired:
            log.info("watcch.offers_expired", count=len(expired))
        return expired
