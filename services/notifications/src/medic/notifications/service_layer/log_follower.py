"""The live tail follows the database: a background job that passes on to this process's streams every event any
replica has logged.

Replicas share one queue, so each one's consumer logs only some of the events. The streams are therefore fed from
the log itself, not from this process's commits: the follower remembers the newest position (`seq`) it has read,
reads what was committed after it (in `seq` order, a bounded batch at a time, until it has caught up) and offers it
to the broadcaster. It looks every NOTIFICATIONS_STREAM_POLL_INTERVAL_S, and at once after a commit here that logged
an event (when somebody is subscribed): an event logged by another replica reaches the streams here within about
one interval.

Paging by `seq` never passes a row that commits late: on PostgreSQL entries are appended under an advisory lock held
to commit (adapters/repository.py), so they commit in `seq` order; SQLite has a single writer. With nobody subscribed
the follower only notes the newest position (one indexed `max`). Each stream starts after the newest entry when it
subscribed (`GET /events/stream`): a tail never replays history. The follower may have read past that position by
the time the stream subscribes (noted it with nobody subscribed, or passed it on to other streams), so each round
reads from the lowest of its own position and the subscribers' marks (adapters/broadcaster.py): it goes back for a
newcomer, and the marks keep anyone from getting an event twice. Erased entries are simply not there to read.
"""

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Protocol

from medic.notifications.adapters.broadcaster import EventBroadcaster
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.model import Cursor, EventLogQuery, LoggedEvent
from medic.shared.logging import get_logger

log = get_logger(__name__)

BATCH_SIZE = 500


class EventLogReader(Protocol):
    """What the follower reads: the committed log."""

    async def newest_seq(self) -> int:
        """The newest entry's position; 0 for an empty log."""
        ...

    async def read_after(self, seq: int, *, limit: int) -> Sequence[LoggedEvent]:
        """Up to `limit` entries after position `seq`, in log order."""
        ...


class UnitOfWorkLogReader:
    """The log read through the service's units of work, one short transaction a read."""

    def __init__(self, uow_factory: Callable[[], NotificationsUnitOfWork]) -> None:
        self._uow_factory = uow_factory

    async def newest_seq(self) -> int:
        async with self._uow_factory() as uow:
            return await uow.events.newest_seq()

    async def read_after(self, seq: int, *, limit: int) -> Sequence[LoggedEvent]:
        async with self._uow_factory() as uow:
            return await uow.events.find(EventLogQuery(after=Cursor(seq=seq)), limit=limit)


class LogFollower:
    """A BackgroundTask: `run` until `stop`; `wake` after logging an event, for a prompt tail (else it polls)."""

    def __init__(
        self,
        log_reader: EventLogReader,
        broadcaster: EventBroadcaster,
        *,
        poll_interval_s: float,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._log = log_reader
        self._broadcaster = broadcaster
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        # The newest position read (or passed over while nobody was subscribed); None until first read.
        self.position: int | None = None

    def wake(self) -> None:
        if self._broadcaster.subscriber_count:  # with nobody listening, the next poll is soon enough
            self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        log.info("log_follower.started", poll_interval_s=self._poll_interval_s)
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self.follow()
            except Exception as error:  # the database away: the next round starts where this one stopped
                log.warning("log_follower.round_failed", error=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval_s)

    async def follow(self) -> int:
        """One round: offer each subscriber everything logged past its mark (or since the last round), in log order,
        each event once, until caught up. Returns how many events were read and offered."""
        offered = 0
        while not self._stopping.is_set():
            if self.position is None or not self._broadcaster.subscriber_count:
                newest = await self._log.newest_seq()
                if not self._broadcaster.subscriber_count:  # asked again after the read: somebody may have come
                    self.position = newest
                    return offered
                if self.position is None:  # the first round, with subscribers already
                    self.position = newest
            # Back to the earliest subscriber's mark, for a newcomer whose start the follower had already read past.
            earliest = self._broadcaster.earliest_mark()
            start = self.position if earliest is None else min(self.position, earliest)
            batch = await self._log.read_after(start, limit=self._batch_size)
            if batch:
                self.position = max(self.position, Cursor.after(batch[-1]).seq)
                self._broadcaster.publish(batch, after=start)
                offered += len(batch)
            if len(batch) < self._batch_size:
                break
        return offered
