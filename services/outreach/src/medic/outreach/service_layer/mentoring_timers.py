"""The mentoring recheck: every `interval_s` (a day by default), each active match is checked against the guard
today, so a lapse by time (a DBS recheck overdue, training or a consent expired) pauses it without anyone acting.

Each pause runs in its own transaction with both people's history streams locked, records its key
(`mentoring_auto_pause:<match>:<active since>`) in `watcch_fired_timers` and stages
`outreach.mentoring_match.paused.v1` in the outbox; the state change is conditional on the match still being active,
so a restarted service or a second replica never pauses (or publishes) twice.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.service_layer.mentoring_guard import recheck_all_active
from medic.shared.logging import get_logger
from medic.shared.periodic import Periodic

log = get_logger(__name__)


class MentoringRecheckScheduler(Periodic):
    """Pauses the active matches failing the guard today, every `interval_s` until stopped; the first tick at once."""

    failure_event = "mentoring.recheck_failed"

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
        paused = await recheck_all_active(self._unit_of_work, now=self.now())
        if paused:
            log.info("mentoring.matches_paused", count=len(paused))
        return paused
