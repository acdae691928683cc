"""A job inside a service that runs every `interval_s` until stopped (a `BackgroundTask` for `service_running`).

Subclasses say what one tick does; a tick that fails (a database away, a lost race on SQLite) is logged and the
next one tries again, so a timer's own exactly-once bookkeeping, not this loop, keeps it from firing twice.
"""

import asyncio
import contextlib
from abc import ABC, abstractmethod
from typing import Any

from medic.shared.logging import get_logger

log = get_logger(__name__)


class Periodic(ABC):
    """Runs `tick` at once, then every `interval_s`, until `stop`."""

    # The log event for a failed tick, e.g. "reminders.tick_failed".
    failure_event: str = "periodic.tick_failed"

    def __init__(self, *, interval_s: float) -> None:
        self._interval_s = interval_s
        self._stopping = asyncio.Event()

    @abstractmethod
    async def tick(self) -> Any: ...

    async def run(self) -> None:
        # Ops (and the replica tests) can tell that every replica's timers run: each fires only what is due and not
        # fired yet, so a replica whose timers never started would go unnoticed otherwise.
        log.info("periodic.started", job=type(self).__name__, interval_s=self._interval_s)
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception as error:
                log.warning(self.failure_event, error=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval_s)

    def stop(self) -> None:
        self._stopping.set()
