"""The outbox relay: claims pending rows, publishes them in order with confirms, marks them published.

It wakes as soon as a unit of work commits an event (`wake()`), and also sweeps every
`sweep_interval_s` for rows left by other processes or by a crash. On PostgreSQL rows are claimed with
`FOR UPDATE SKIP LOCKED`, so several relays can share one outbox without publishing a row twice. A crash
between the broker's confirm and the commit that marks the row publishes it again: consumers' inboxes
absorb that duplicate.
"""

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Row, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from medic.shared.logging import get_logger
from medic.shared.outbox import OutboxState
from medic.shared.publisher import EventPublisher, OutgoingEvent

log = get_logger(__name__)

PURGE_EVERY_S = 3600.0


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        publisher: EventPublisher,
        *,
        batch_size: int = 200,
        sweep_interval_s: float = 1.0,
        max_backoff_s: float = 30.0,
        retry_base_s: float = 0.5,
        retention: timedelta | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._publisher = publisher
        self._batch_size = batch_size
        self._sweep_interval_s = sweep_interval_s
        self._max_backoff_s = max_backoff_s
        self._retry_base_s = retry_base_s
        self._next_retry_s: float | None = None
        self._retention = retention
        self._next_purge = time.monotonic()
        self._wake = asyncio.Event()
        self.healthy = True

    async def close(self) -> None:
        await self._publisher.close()

    def wake(self) -> None:
        """Called after a commit that wrote events: publish now rather than at the next sweep."""
        self._wake.set()

    async def run(self) -> None:
        backoff_s = 0.1
        while True:
            self._wake.clear()
            try:
                published = await self.publish_pending()
            except Exception as error:
                self.healthy = False
                log.warning("outbox.publish_failed", error=repr(error), retry_in_s=round(backoff_s, 2))
                await self._publisher.reset()
                await asyncio.sleep(backoff_s * random.uniform(0.8, 1.2))
                backoff_s = min(backoff_s * 2, self._max_backoff_s)
                continue
            if not self.healthy:
                log.info("outbox.publishing_resumed")
            self.healthy, backoff_s = True, 0.1
            await self._purge_when_due()
            if published < self._batch_size:
                # Until a commit wakes it, the next sweep, or the first unconfirmed row is due again.
                wait_s = min(self._sweep_interval_s, self._next_retry_s or self._sweep_interval_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait_s)

    async def _purge_when_due(self) -> None:
        if self._retention is None or time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_EVERY_S
        try:
            purged = await self.purge_published(older_than=self._retention)
        except Exception as error:  # housekeeping must never stop publishing
            log.warning("outbox.purge_failed", error=repr(error))
            return
        if purged:
            log.info("outbox.purged", rows=purged)

    async def purge_published(self, *, older_than: timedelta) -> int:
        """Delete rows published longer ago than `older_than`: the outbox is a queue, not an archive."""
        outbox = self._outbox
        cutoff = datetime.now(UTC) - older_than
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(outbox).where(outbox.c.state == OutboxState.PUBLISHED.value, outbox.c.published_at < cutoff)
            )
        return int(result.rowcount)

    async def publish_pending(self) -> int:
        """Publish one batch of due pending rows; returns how many the broker confirmed.

        A row the broker did not confirm (returned as unroutable, nacked, timed out) is retried on its own
        schedule (`available_at`), so it neither holds back the rows behind it nor slows the relay down.
        A failure of the whole publish (no connection) raises, and `run` backs off.
        """
        self._next_retry_s = None
        async with self._engine.connect() as connection, connection.begin():
            rows = await self._claim(connection)
            if not rows:
                return 0
            events = [OutgoingEvent(row.event_id, row.event_type, row.body) for row in rows]
            results = await self._publisher.publish(events)
            await self._mark(connection, rows, results)
        failures = [error for error in results if error is not None]
        if failures:
            log.warning(
                "outbox.events_not_confirmed",
                failed=len(failures),
                first_error=repr(failures[0])[:300],
                retry_in_s=self._next_retry_s,
            )
        return len(rows) - len(failures)

    async def _claim(self, connection: AsyncConnection) -> Sequence[Row[int, uuid.UUID, str, bytes, int]]:
        outbox = self._outbox
        query = (
            select(outbox.c.id, outbox.c.event_id, outbox.c.event_type, outbox.c.body, outbox.c.attempts)
            .where(outbox.c.state == OutboxState.PENDING.value, outbox.c.available_at <= datetime.now(UTC))
            .order_by(outbox.c.id)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)  # ignored by SQLite, where there is one writer anyway
        )
        return (await connection.execute(query)).all()

    async def _mark(
        self,
        connection: AsyncConnection,
        rows: Sequence[Row[int, uuid.UUID, str, bytes, int]],
        results: Sequence[BaseException | None],
    ) -> None:
        outbox = self._outbox
        confirmed = [row.id for row, error in zip(rows, results, strict=True) if error is None]
        if confirmed:
            await connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(confirmed))
                .values(state=OutboxState.PUBLISHED.value, published_at=datetime.now(UTC))
            )
        for row, error in zip(rows, results, strict=True):
            if error is not None:
                delay_s = min(self._max_backoff_s, self._retry_base_s * 2**row.attempts)
                self._next_retry_s = min(self._next_retry_s or delay_s, delay_s)
                await connection.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(
                        attempts=row.attempts + 1,
                        last_error=repr(error)[:500],
                        available_at=datetime.now(UTC) + timedelta(seconds=delay_s),
                    )
                )
