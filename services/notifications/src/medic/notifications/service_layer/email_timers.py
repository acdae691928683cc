"""The email rules' one timer: remind the coordinators shortly before a WATCCH offer lapses.

An offer is filed by `directory.record` (from `outreach.watcch_application.offered.v1`, its reminder time from
`expires_at`) and closed by accepted, declined, withdrawn, offer_expired or enrolled, or the participant's erasure.
Each tick claims due reminders with a conditional UPDATE (one claimant however many replicas tick) and queues the
emails in the same transaction; the email's own uniqueness (cause, recipient, kind) makes a repeat harmless too.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.service_layer.email_rules import remind_offer_expiring
from medic.shared.logging import get_logger
from medic.shared.periodic import Periodic

log = get_logger(__name__)

BATCH = 100
# How long an offer's row outlives the offer (a late `accepted` still finds its tombstone meanwhile).
KEEP_LAPSED = timedelta(days=30)


class WatcchOfferReminders(Periodic):
    failure_event = "email_timers.tick_failed"

    def __init__(
        self,
        uow_factory: Callable[[], NotificationsUnitOfWork],
        *,
        interval_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval_s=interval_s)
        self._uow_factory = uow_factory
        self._clock = clock

    async def tick(self) -> int:
        """Send what is due now; returns how many reminders were claimed."""
        claimed = 0
        while True:
            uow = self._uow_factory()
            async with uow:
                due = await uow.directory.due_offers(self._clock(), limit=BATCH)
                for offer in due:
                    if await uow.directory.mark_reminded(offer):
                        claimed += 1
                        await remind_offer_expiring(uow, offer)
                await uow.commit()
            if len(due) < BATCH:
                break
        uow = self._uow_factory()
        async with uow:
            await uow.directory.prune_offers(self._clock() - KEEP_LAPSED)
            await uow.commit()
        if claimed:
            log.info("email_timers.offer_reminders", reminders=claimed)
        return claimed
