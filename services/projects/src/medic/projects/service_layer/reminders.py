"""Reminders as timers: a scheduler inside the service fires what is due, through the outbox, once each.

Every `interval_s` the scheduler asks each timer what is due today and, in one transaction, records a row per
due timer key in `fired_timers` and stages its event in the outbox. The key is the table's primary key, so a
timer fires once: a later tick, a restarted service or a second replica inserts nothing for a key that is there,
and stages nothing. Where two replicas tick at once, PostgreSQL makes the second insert wait for the first
transaction and then insert nothing (see `TimerRepository.record`); on SQLite writers take turns.

Adding a kind of timer: write an async function `(uow, today) -> Sequence[DueTimer]` that reads through the unit
of work what is due on `today` (a Europe/London date) and returns a `DueTimer` per firing, its `key` unique to
that firing (prefix it with the timer's name, e.g. `verification:<project>:<link>:pending_7_days`), and add the
function to `TIMERS`. It must only read: the scheduler records the keys and publishes the events.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from medic.projects.adapters.milestones_repository import MilestoneRepository
from medic.projects.adapters.timers_repository import Firing, TimerRepository
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.domain.milestones import APPROACHING_DAYS, Milestone, ProjectProgress, Threshold, reminder_due
from medic.projects.domain.verification import VerificationStatus
from medic.projects.service_layer.project_handlers import project_facts
from medic.shared.contracts.projects.milestones import (
    MilestoneApproachingV1,
    MilestoneDueV1,
    MilestoneOverdueV1,
    MilestoneReminderV1,
)
from medic.shared.contracts.projects.projects import ProjectVerificationPendingV1
from medic.shared.events import Envelope, EventPayload
from medic.shared.logging import get_logger
from medic.shared.periodic import Periodic

log = get_logger(__name__)

LONDON = ZoneInfo("Europe/London")
# A partner verification link unanswered this long is a reminder.
VERIFICATION_REMINDER_DAYS = 7


def london_today() -> date:
    """The calendar day at the medical school: reminders turn over at midnight in London, not UTC."""
    return datetime.now(LONDON).date()


@dataclass(frozen=True)
class DueTimer:
    key: str  # unique to this firing: once recorded, it never fires again
    event: EventPayload
    subject: str  # the envelope's subject, e.g. projects/<id>


Timer = Callable[[ProjectsUnitOfWork, date], Awaitable[Sequence[DueTimer]]]

_REMINDERS: dict[Threshold, type[MilestoneReminderV1]] = {
    Threshold.APPROACHING: MilestoneApproachingV1,
    Threshold.DUE: MilestoneDueV1,
    Threshold.OVERDUE: MilestoneOverdueV1,
}


async def milestone_reminders(uow: ProjectsUnitOfWork, today: date) -> Sequence[DueTimer]:
    """A reminder for each project not meeting a milestone that is 7 days away, due today, or overdue.

    The key names the due date too: a milestone moved to another day is a new one, and reminds again.
    """
    milestones = MilestoneRepository(uow.connection)
    by_cohort: dict[uuid.UUID, list[Milestone]] = {}
    for milestone in await milestones.due_by(today + timedelta(days=APPROACHING_DAYS)):
        by_cohort.setdefault(milestone.cohort_id, []).append(milestone)
    due = []
    for project in await milestones.progress_in(by_cohort.keys()):
        for milestone in by_cohort[project.cohort_id]:
            threshold = reminder_due(project, milestone, today)
            if threshold is not None:
                due.append(_reminder(project, milestone, threshold))
    return due


def _reminder(project: ProjectProgress, milestone: Milestone, threshold: Threshold) -> DueTimer:
    event = _REMINDERS[threshold](
        project_id=project.project_id,
        cohort_id=project.cohort_id,
        group_id=project.group_id,
        milestone=milestone.kind,
        due_on=milestone.due_on,
    )
    key = f"milestone:{project.project_id}:{milestone.kind.value}:{milestone.due_on.isoformat()}:{threshold.value}"
    return DueTimer(key=key, event=event, subject=f"projects/{project.project_id}")


async def verification_reminders(uow: ProjectsUnitOfWork, today: date) -> Sequence[DueTimer]:
    """A reminder for each verification link unanswered for VERIFICATION_REMINDER_DAYS (once per link)."""
    start_of_today = datetime.combine(today, time(), tzinfo=LONDON)
    due = []
    for link in await uow.verifications.unanswered_since(start_of_today - timedelta(days=VERIFICATION_REMINDER_DAYS)):
        project = await uow.projects.get(link.project_id)
        if project is None or project.verification is not VerificationStatus.PENDING:
            continue
        event = ProjectVerificationPendingV1(
            **project_facts(project),
            verification_id=link.id,
            partner_id=link.partner_id,
            contact_id=link.contact_id,
            issued_at=link.issued_at,
        )
        key = f"verification:{project.id}:{link.id}:pending_{VERIFICATION_REMINDER_DAYS}_days"
        due.append(DueTimer(key=key, event=event, subject=f"projects/{project.id}"))
    return due


TIMERS: tuple[Timer, ...] = (milestone_reminders, verification_reminders)


async def fire_due_timers(
    uow: ProjectsUnitOfWork, timers: Sequence[Timer], *, today: date, now: datetime
) -> list[Envelope[EventPayload]]:
    """Record and publish, in one transaction, every due timer that has not fired; returns what was published."""
    correlation_id = uuid.uuid4()  # one per tick: the reminders of a tick belong together
    async with uow:
        due: dict[str, DueTimer] = {}
        for timer in timers:
            due.update((d.key, d) for d in await timer(uow, today))
        fired = TimerRepository(uow.connection)
        for key in await fired.fired_already(due.keys()):
            del due[key]
        envelopes = {
            key: Envelope.wrap(d.event, subject=d.subject, correlation_id=correlation_id) for key, d in due.items()
        }
        firings = [Firing(key, envelope.id, envelope.type) for key, envelope in envelopes.items()]
        recorded = await fired.record(firings, now=now)
        published = [envelopes[key] for key in sorted(recorded)]  # the rest: another replica fired them meanwhile
        for envelope in published:
            await uow.publish(envelope)
        await uow.commit()
    return published


class ReminderScheduler(Periodic):
    """Fires due timers every `interval_s` until stopped; the first tick runs at once."""

    failure_event = "reminders.tick_failed"

    def __init__(
        self,
        unit_of_work: Callable[[], ProjectsUnitOfWork],
        *,
        interval_s: float,
        timers: Sequence[Timer] = TIMERS,
        today: Callable[[], date] = london_today,
    ) -> None:
        super().__init__(interval_s=interval_s)
        self._unit_of_work = unit_of_work
        self._timers = tuple(timers)
        self.today = today  # tests set the day

    async def tick(self) -> list[Envelope[EventPayload]]:
        published = await fire_due_timers(self._unit_of_work(), self._timers, today=self.today(), now=datetime.now(UTC))
        if published:
            log.info("reminders.fired", count=len(published))
        return published
