"""The retention sweep's timer: once a day (by default) it looks at the calendar where the programmes run. On or after
1 September it lists the year's review if nobody has; from the review's erasing day (1 November, or later for a late
listing) it erases what is listed and not kept, until the review is completed. Exactly once per year and stage,
with two replicas and across restarts: see service_layer/retention.py.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.retention import RetentionPolicy
from medic.outreach.service_layer.retention import sweep
from medic.shared.logging import get_logger
from medic.shared.periodic import Periodic

log = get_logger(__name__)


class RetentionSweep(Periodic):
    """Looks every `interval_s` (the first tick at once)."""

    failure_event = "retention.sweep_failed"

    def __init__(
        self,
        unit_of_work: Callable[[], OutreachUnitOfWork],
        policy: RetentionPolicy,
        *,
        interval_s: float,
        zone: ZoneInfo,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval_s=interval_s)
        self._unit_of_work = unit_of_work
        self._policy = policy
        self._zone = zone
        self.now = now  # tests move the clock

    async def tick(self) -> str | None:
        now = self.now()
        done = await sweep(self._unit_of_work, self._policy, today=now.astimezone(self._zone).date(), now=now)
        if done is not None:
            log.info("retention.sweep", done=done)
        return done
