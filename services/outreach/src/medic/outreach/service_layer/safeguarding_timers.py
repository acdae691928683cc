"""Safeguarding timers: DBS recheck reminders and training expiry reminders (30, 14 and 7 days before), and the
lapse of a check or of training on its day; each once per key, through the outbox.

Every `interval_s` the scheduler folds every safeguarding history and asks the domain (`reminders_due`) what is due
today (in OUTREACH_PRIMARY_TIMEZONE). In one transaction it records each due key in `watcch_fired_timers` (`INSERT
... ON CONFLICT DO NOTHING`, the key the primary key) and stages the events of the keys it recorded first. A key
that is there fires nothing: a later tick, a restarted service or a second replica publishes nothing again; on
PostgreSQL a second replica's insert waits for the first's transaction, then inserts nothing.

Keys: `dbs_recheck:<person>:<due date>:<days>`, `dbs_lapsed:<person>:<due date>`,
`training_expiry:<person>:<expires on>:<days>`, `training_lapsed:<person>:<expires on>`. A new due date (a status
check with no change, a new check, new training) is a new key and reminds again. Only the nearest threshold reached
fires: a service that was down past the 30-day reminder and comes back 10 days before sends the 14-day one, never
the 30-day one late. No DBS reminder while a renewal is in progress (the lapse still fires on its day).
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.history import Stream
from medic.outreach.domain.safeguarding import fold
from medic.outreach.domain.safeguarding_reminders import Reminder, ReminderKind, reminders_due
from medic.shared.contracts.outreach import safeguarding as events
from medic.shared.events import Envelope, EventPayload
from medic.shared.logging import get_logger
from medic.shared.periodic import Periodic

log = get_logger(__name__)


def _payload(reminder: Reminder) -> EventPayload:
    person, about, due = reminder.person_id, reminder.about, reminder.due_on
    match reminder.kind:
        case ReminderKind.DBS_RECHECK:
            assert reminder.days_before is not None
            return events.DbsRecheckDueV1(
                person_id=person, check_id=about, due_on=due, days_before=reminder.days_before
            )
        case ReminderKind.DBS_LAPSED:
            return events.DbsCheckLapsedV1(person_id=person, check_id=about, due_on=due)
        case ReminderKind.TRAINING_EXPIRING:
            assert reminder.days_before is not None
            return events.SafeguardingTrainingExpiringV1(
                person_id=person, training_id=about, expires_on=due, days_before=reminder.days_before
            )
    return events.SafeguardingTrainingLapsedV1(person_id=person, training_id=about, expires_on=due)


async def fire_safeguarding_timers(
    uow: OutreachUnitOfWork, *, now: datetime, zone: ZoneInfo
) -> list[Envelope[EventPayload]]:
    """Records and publishes, in one transaction, every due reminder or lapse that has not fired; returns what was
    published."""
    today = now.astimezone(zone).date()
    correlation_id = uuid.uuid4()  # one per tick
    async with uow:
        due: dict[str, Reminder] = {}
        erased = await uow.safeguarding.erased()
        for person_id, history in (await uow.history.all_events(Stream.SAFEGUARDING)).items():
            if person_id in erased:  # an erased record reminds no one, whether or not a leaving day was recorded
                continue
            due.update((r.key, r) for r in reminders_due(fold(person_id, history), today))
        for key in await uow.watcch.fired(due.keys()):
            del due[key]
        published = []
        for key, reminder in sorted(due.items()):  # keys in order: two replicas wait on each other, never deadlock
            subject = f"safeguarding/people/{reminder.person_id}"
            envelope = Envelope.wrap(_payload(reminder), subject=subject, correlation_id=correlation_id)
            if await uow.watcch.fire_once(key, event_id=envelope.id, event_type=envelope.type, now=now):
                await uow.publish(envelope)
                published.append(envelope)
        await uow.commit()
    return published


class SafeguardingTimers(Periodic):
    """Fires due safeguarding reminders every `interval_s` until stopped; the first tick runs at once."""

    failure_event = "safeguarding.timers_failed"

    def __init__(
        self,
        unit_of_work: Callable[[], OutreachUnitOfWork],
        *,
        interval_s: float,
        zone: ZoneInfo,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval_s=interval_s)
        self._unit_of_work = unit_of_work
        self._zone = zone
        self.now = now  # tests move the clock

    async def tick(self) -> list[Envelope[EventPayload]]:
        published = await fire_safeguarding_timers(self._unit_of_work(), now=self.now(), zone=self._zone)
        if published:
            log.info("safeguarding.timers_fired", count=len(published))
        return published
