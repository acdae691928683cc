"""The consent expiry timer: every `interval_s`, reminders before a consent's last day (the policy's days before)
and an expiry the day after it, each once per consent given.

Like the offer-expiry timer (watcch_timers.py): each firing runs in its own transaction with the participant's
consent stream locked, records its key (`consent_expiry:<reminder|expired>:<the consent given>`) in
`watcch_fired_timers` and stages `outreach.consent.expiring.v1` or `outreach.consent.expired.v1` in the outbox; a key
that is there fires nothing, so a restarted service or a second replica never sends one twice. A consent withdrawn
or given again before its day has no reminder or expiry of its own.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.consent import ConsentPolicy
from medic.outreach.service_layer.consent import expiry_timers
from medic.shared.logging import get_logger
from medic.shared.periodic import Periodic

log = get_logger(__name__)


class ConsentExpiryScheduler(Periodic):
    """Sends the consent reminders and expiries due, every `interval_s` until stopped; the first tick at once."""

    failure_event = "consent.expiry_timer_failed"

    def __init__(
        self,
        unit_of_work: Callable[[], OutreachUnitOfWork],
        *,
        interval_s: float,
        zone: ZoneInfo,
        policy: ConsentPolicy,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval_s=interval_s)
        self._unit_of_work = unit_of_work
        self._zone = zone
        self._policy = policy
        self.now = now  # tests move the clock

    async def tick(self) -> list[str]:
        fired = await expiry_timers(self._unit_of_work(), now=self.now(), zone=self._zone, policy=self._policy)
        if fired:
            log.info("consent.expiry_timers_fired", count=len(fired))
        return fired
