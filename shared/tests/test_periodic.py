"""Periodic: the first tick at once, a failing tick logged and the next one run, stop ending the loop."""

import asyncio

from structlog.testing import capture_logs

from medic.shared.periodic import Periodic


class Flaky(Periodic):
    failure_event = "flaky.tick_failed"

    def __init__(self) -> None:
        super().__init__(interval_s=0.01)
        self.ticks = 0

    async def tick(self) -> None:
        self.ticks += 1
        if self.ticks == 1:
            raise ConnectionError("database away: secret@example.org")


async def test_a_failing_tick_is_logged_by_type_and_the_next_one_runs_until_stopped() -> None:
    job = Flaky()
    with capture_logs() as logs:
        running = asyncio.create_task(job.run())
        while job.ticks < 3:
            await asyncio.sleep(0.005)
        job.stop()
        await asyncio.wait_for(running, timeout=1)
    failures = [entry for entry in logs if entry["event"] == "flaky.tick_failed"]
    assert [entry["error"] for entry in failures] == ["ConnectionError"]
    assert "secret@example.org" not in repr(logs)
