"""Reminders as timers: 7 days before, on the day and after, once each, through restarts and two replicas."""

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from medic.projects.adapters import orm
from medic.projects.adapters.timers_repository import Firing, TimerRepository
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.bootstrap import ProjectsService
from medic.projects.service_layer.reminders import DueTimer, ReminderScheduler, milestone_reminders
from medic.shared.contracts.projects.milestones import MilestoneDueV1
from services.projects.tests.test_milestones_support import (
    Clock,
    projects_on,
    reminder_events,
    seed_cohort,
)
from services.projects.tests.test_partner_support import BACKENDS, database_url

DUE = date(2027, 1, 22)
DAY = timedelta(days=1)


@pytest.fixture(params=BACKENDS)
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_url(request.param, tmp_path) as found:
        yield found


async def ticks(service: ProjectsService, times: int = 3) -> None:
    for _ in range(times):
        await service.reminders.tick()


async def test_a_project_is_reminded_7_days_before_on_the_day_and_the_day_after_once_each(url: str) -> None:
    clock = Clock(DUE - 30 * DAY)
    async with projects_on(url, clock) as app:
        cohort = await seed_cohort(app)
        group = next(iter(cohort.groups))
        project = await cohort.start_project(group)
        await cohort.set_milestone("proposal_due", DUE)
        expected: list[tuple[str, str, str]] = []
        for day, sent in [
            (DUE - 8 * DAY, None),
            (DUE - 7 * DAY, "approaching"),
            (DUE - 6 * DAY, None),
            (DUE - DAY, None),
            (DUE, "due"),
            (DUE + DAY, "overdue"),
            (DUE + 2 * DAY, None),
            (DUE + 40 * DAY, None),
        ]:
            clock.day = day
            await ticks(app.service)
            if sent is not None:
                expected.append((project, "proposal_due", sent))
            assert await cohort.reminders() == expected, day

        (_, data), *_ = await reminder_events(app)
        assert data == {
            "project_id": project,
            "cohort_id": str(cohort.id),
            "group_id": str(group),
            "milestone": "proposal_due",
            "due_on": DUE.isoformat(),
        }
        assert await app.count(orm.fired_timers) == 3


async def test_a_milestone_set_late_or_moved_reminds_for_its_new_day(url: str) -> None:
    clock = Clock(DUE - 3 * DAY)
    async with projects_on(url, clock) as app:
        cohort = await seed_cohort(app)
        project = await cohort.start_project(next(iter(cohort.groups)))
        await cohort.set_milestone("showcase", DUE)  # 3 days away already: approaching, once
        await ticks(app.service)
        await cohort.set_milestone("showcase", DUE + 14 * DAY)  # moved: armed again
        clock.day = DUE + 7 * DAY
        await ticks(app.service)
        assert await cohort.reminders() == [(project, "showcase", "approaching")] * 2
        events = await reminder_events(app)
        assert [data["due_on"] for _, data in events] == [DUE.isoformat(), (DUE + 14 * DAY).isoformat()]


async def test_projects_that_met_the_milestone_or_were_withdrawn_or_paused_get_none(url: str) -> None:
    clock = Clock(DUE - 30 * DAY)
    async with projects_on(url, clock) as app:
        cohort = await seed_cohort(app, groups=3)
        (proposing, proposing_group), (withdrawn, _), (paused, _) = [
            (await cohort.start_project(group), group) for group in cohort.groups
        ]
        await cohort.propose(proposing, proposing_group)
        await cohort.act(withdrawn, "withdraw", cohort.coordinator, "the group split")
        await cohort.act(paused, "pause", cohort.coordinator, "illness")
        await cohort.set_milestone("proposal_due", DUE)
        await cohort.set_milestone("governance_due", DUE)
        clock.day = DUE
        await ticks(app.service)
        assert await cohort.reminders() == [(proposing, "governance_due", "due")]

        await cohort.act(paused, "reopen", cohort.coordinator)  # back in draft: owed both, and now overdue
        clock.day = DUE + DAY
        await ticks(app.service)
        assert Counter(await cohort.reminders()) == Counter(
            [
                (proposing, "governance_due", "due"),
                (proposing, "governance_due", "overdue"),
                (paused, "proposal_due", "overdue"),
                (paused, "governance_due", "overdue"),
            ]
        )


async def test_a_restarted_service_does_not_send_again(url: str) -> None:
    clock = Clock(DUE)
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    async with projects_on(url, clock, namespace=namespace) as app:
        cohort = await seed_cohort(app)
        project = await cohort.start_project(next(iter(cohort.groups)))
        await cohort.set_milestone("evaluation_due", DUE)
        await ticks(app.service)
        assert await cohort.reminders() == [(project, "evaluation_due", "due")]
    async with projects_on(url, clock, namespace=namespace) as app:  # its first tick runs as it starts
        cohort.app = app
        await ticks(app.service)
        assert await cohort.reminders() == [(project, "evaluation_due", "due")]
        clock.day = DUE + DAY
        await ticks(app.service)
        assert await cohort.reminders() == [(project, "evaluation_due", "due"), (project, "evaluation_due", "overdue")]


async def test_two_replicas_ticking_at_once_send_each_reminder_once(url: str) -> None:
    clock = Clock(DUE - 30 * DAY)
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    async with projects_on(url, clock, namespace=namespace) as first:
        cohort = await seed_cohort(first, groups=12)
        projects = [await cohort.start_project(group) for group in cohort.groups]
        for kind in ("proposal_due", "governance_due", "evaluation_due", "showcase"):
            await cohort.set_milestone(kind, DUE)
        async with projects_on(url, clock, namespace=namespace) as second:
            clock.day = DUE
            schedulers = [first.service.reminders, second.service.reminders] * 4
            outcomes = await asyncio.gather(*(s.tick() for s in schedulers), return_exceptions=True)
            failures = [o for o in outcomes if isinstance(o, BaseException)]
            if url.startswith("postgresql"):
                assert failures == []
            else:  # SQLite has one writer: a tick that loses the race fails, rolls back, and the next one tries
                assert all(isinstance(f, OperationalError) for f in failures), failures
            await ticks(first.service, 1)
            await ticks(second.service, 1)
            sent = sum((len(o) for o in outcomes if isinstance(o, list)), 0)

    reminders = await cohort.reminders()
    assert len(reminders) == len(projects) * 4 == len(set(reminders))
    assert {project for project, _, _ in reminders} == set(projects)
    assert sent == len(reminders) or not url.startswith("postgresql")


async def test_a_key_another_transaction_holds_is_recorded_once(url: str) -> None:
    async with projects_on(url, Clock(DUE)) as app:
        engine = app.service.engine
        firing = {key: Firing(key, uuid.uuid4(), "projects.milestone.due.v1") for key in "abc"}
        now = datetime.now(UTC)
        async with engine.connect() as first, engine.connect() as second:
            await first.begin()
            assert await TimerRepository(first).record([firing["a"], firing["b"]], now=now) == {"a", "b"}
            await second.begin()
            racing = asyncio.create_task(TimerRepository(second).record([firing["b"], firing["c"]], now=now))
            await asyncio.sleep(0.3)
            assert not racing.done()  # it waits for the first transaction to end
            await first.commit()
            assert await racing == {"c"}
            await second.commit()
        assert await app.count(orm.fired_timers) == 3


async def test_the_scheduler_runs_with_the_service_and_stops_with_it(url: str) -> None:
    clock = Clock(DUE)
    async with projects_on(url, clock, interval_s=0.05) as app:
        cohort = await seed_cohort(app)
        project = await cohort.start_project(next(iter(cohort.groups)))
        await cohort.set_milestone("proposal_due", DUE)
        for _ in range(200):
            if await cohort.reminders():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # more ticks: still one
        assert await cohort.reminders() == [(project, "proposal_due", "due")]
    assert [t for t in asyncio.all_tasks() if t.get_name() == "ReminderScheduler"] == []


async def test_another_kind_of_timer_is_a_function_beside_the_milestones(url: str) -> None:
    """How the partner-verification reminder plugs in: a function listing what is due, each with its own key."""
    async with projects_on(url, Clock(DUE)) as app:
        cohort = await seed_cohort(app)
        project = await cohort.start_project(next(iter(cohort.groups)))
        group = next(iter(cohort.groups))
        seen: list[date] = []

        async def pending_verification(uow: ProjectsUnitOfWork, today: date) -> list[DueTimer]:
            seen.append(today)
            event = MilestoneDueV1(
                project_id=uuid.UUID(project), cohort_id=cohort.id, group_id=group, milestone="showcase", due_on=today
            )
            return [DueTimer(key=f"verification:{project}:pending_7_days", event=event, subject=f"projects/{project}")]

        scheduler = ReminderScheduler(
            app.service.unit_of_work,
            interval_s=60,
            timers=[milestone_reminders, pending_verification],
            today=Clock(DUE),
        )
        await cohort.set_milestone("showcase", DUE)
        assert len(await scheduler.tick()) == 2
        assert await scheduler.tick() == [] and seen == [DUE, DUE]
        assert await cohort.reminders() == [(project, "showcase", "due")] * 2
