"""`make run` stops cleanly however it is told to, with events in flight.

Each scenario starts from a running `make run` (in its own process group, real RabbitMQ), keeps
registering partners on projects, whose events flow on to outreach and notifications, and meanwhile
signals the job the way a terminal, a supervisor or a user would. Then every process of the run must be
gone within the services' graceful stop (no kill), with no error logged, and the ports free. `make run` is
started again on the same databases and must end up with every partner ever registered applied exactly
once by each consumer. The scenarios share one system, so each start both checks the last stop and
prepares the next scenario.
"""

import asyncio
import contextlib
import os
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence

import pytest

from tests.make_run import SERVICES, Run, System, port_free
from tests.support import eventually

pytestmark = pytest.mark.integration

# Well within `medic up`'s own deadline (30 s) for killing a service that does not stop: passing here means
# every service stopped by itself.
STOP_WITHIN_S = 20
IN_FLIGHT = 15  # partners accepted before the first signal; registering goes on while the job stops

Step = tuple[str, signal.Signals]  # (whom to signal: the job's "group", "make" or "medic up", signal)

SCENARIOS: dict[str, Sequence[Step]] = {
    # A supervisor, `timeout`, a CI harness: make dies at once, uv forwards it, medic up gets it twice.
    "SIGTERM to the group": [("group", signal.SIGTERM)],
    # Ctrl-C, Ctrl-C again, the terminal closes, then the supervisor: one graceful stop, not a crash.
    "SIGINT, SIGINT, SIGHUP, SIGTERM to the group": [
        ("group", signal.SIGINT),
        ("group", signal.SIGINT),
        ("group", signal.SIGHUP),
        ("group", signal.SIGTERM),
    ],
    # A supervisor that signals make alone, then kills it: make passes on neither (only a SIGTERM), and
    # medic up sees that the job it belongs to is gone.
    "SIGINT, SIGKILL to make only": [("make", signal.SIGINT), ("make", signal.SIGKILL)],
    # `medic up` killed outright: the services notice on their own.
    "SIGKILL to medic up only": [("medic up", signal.SIGKILL)],
    # Told twice, then killed while its services are stopping.
    "SIGINT, SIGTERM, SIGKILL to medic up only": [
        ("medic up", signal.SIGINT),
        ("medic up", signal.SIGTERM),
        ("medic up", signal.SIGKILL),
    ],
}


@pytest.fixture(scope="module")
async def system(rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    system = System(tmp_path_factory.mktemp("make-run"), rabbitmq_url)
    try:
        yield system
    finally:
        await system.stop_everything()
        await system.delete_namespace()


async def running(system: System) -> Run:
    return system.run or await system.start()


def send(run: Run, step: Step) -> None:
    target, signum = step
    if target == "group":
        os.killpg(run.make.pid, signum)  # make leads its group
    elif target == "make":
        run.make.send_signal(signum)
    else:
        os.kill(run.medic_up.pid, signum)


async def stop_with_events_in_flight(system: System, steps: Sequence[Step]) -> list[uuid.UUID]:
    run = await running(system)
    accepted: list[uuid.UUID] = []
    registering = [asyncio.create_task(system.register_partners_until_stopped(accepted)) for _ in range(4)]
    await eventually(lambda: _at_least(accepted, IN_FLIGHT), timeout_s=30)
    for step in steps:
        send(run, step)
        await asyncio.sleep(0.05)
    left = await system.wait_stopped(timeout_s=STOP_WITHIN_S)
    for task in registering:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert not left, f"still running {STOP_WITHIN_S} s after the signals: {left}\n{run.tail()}"
    assert all(port_free(port) for port in system.ports.values()), system.ports
    _assert_stopped_gracefully(run, medic_up_killed=("medic up", signal.SIGKILL) in steps)
    return accepted


async def _at_least(accepted: list[uuid.UUID], count: int) -> bool:
    return len(accepted) >= count


def _assert_stopped_gracefully(run: Run, *, medic_up_killed: bool) -> None:
    """Each service ran its lifespan shutdown (consumer, relay, database), nothing failed on the way, and
    `medic up`, unless killed, finished its own orderly stop."""
    records = list(run.records())
    problems = [r for r in records if r.get("level") in ("error", "critical") or "exception" in r]
    assert not problems, problems
    output = run.log.read_text(errors="replace")
    assert "Traceback" not in output, run.tail()
    finished = Counter(r.get("service") for r in records if r.get("event") == "Application shutdown complete.")
    assert finished == Counter(SERVICES), f"lifespan shutdown not completed by every service: {finished}"
    if not medic_up_killed:
        assert "\nStopped.\n" in output, run.tail()


async def assert_each_applied_exactly_once(system: System, accepted: Sequence[uuid.UUID]) -> None:
    """Every partner projects has (the accepted ones among them) is in each consumer's data exactly once."""

    async def views_agree() -> bool:
        registered = await system.partners("projects")
        return (
            Counter(registered)
            == Counter(await system.partners("outreach"))
            == Counter(await system.logged_registrations())
        )

    await eventually(views_agree, timeout_s=30, interval_s=0.3)
    registered = await system.partners("projects")
    assert set(accepted) <= set(registered), "an accepted registration was lost"
    assert len(set(registered)) == len(registered)  # so the Counter equality above means once each


@pytest.mark.parametrize("steps", list(SCENARIOS.values()), ids=list(SCENARIOS))
async def test_every_process_stops_and_every_event_is_applied_once(system: System, steps: Sequence[Step]) -> None:
    accepted = await stop_with_events_in_flight(system, steps)
    await system.start()  # drains what the stop left in the outbox and the queues
    await assert_each_applied_exactly_once(system, accepted)


async def test_a_graceful_stop_leaves_no_message_in_any_queue(system: System) -> None:
    """After the scenarios above (or on a fresh system), once everything is applied: nothing unacked is
    returned to the queues by the stop, nothing waits for a retry, nothing was dead-lettered."""
    run = await running(system)
    await assert_each_applied_exactly_once(system, accepted=[])
    os.killpg(run.make.pid, signal.SIGTERM)
    assert not await system.wait_stopped(timeout_s=STOP_WITHIN_S), run.tail()
    _assert_stopped_gracefully(run, medic_up_killed=False)
    queued = await system.queued_messages()
    assert not +queued, f"messages left in the queues: {queued}"
