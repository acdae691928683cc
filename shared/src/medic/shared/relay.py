"""The outbox relay: publishes outbox rows in order with confirms, and marks them published.

Two ways a row reaches it:
- Handed over (`dispatch`): a unit of work writes its rows leased to this process's relay (see
  `outbox.Dispatcher`) and hands them over right after its commit, so they are published without being
  read back from the table.
- Swept: every `sweep_interval_s`, and whenever a batch was full, the relay claims due rows (left by a
  crash, another process, or a failed publish) with one statement that leases them, so no other relay
  claims them meanwhile; on PostgreSQL `FOR UPDATE SKIP LOCKED` keeps two relays' claims apart.

No transaction is held while the broker confirms, so `run` sends the next batch while earlier ones are still
waiting for their confirms (up to `max_batches_in_flight`): a commit never waits behind a confirm. Under load
(commits closer together than `batch_wait_s`) it waits that long after the first, so they share a publish.
A row whose batch was confirmed is marked published; one the broker did not confirm waits out its own
backoff. A crash between the broker's confirm and the mark publishes the row again once its lease runs out:
consumers' inboxes absorb that duplicate.
"""

import asyncio
import contextlib
import random
import time
import uuid
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import Update

from medic.shared.logging import get_logger
from medic.shared.outbox import OutboxState
from medic.shared.pace import ArrivalPace
from medic.shared.publisher import EventPublisher, OutgoingEvent

log = get_logger(__name__)

PURGE_EVERY_S = 3600.0
# Rows of events that carry personal data (`EventPayload.personal_data`) go this soon after they are published.
PURGE_PERSONAL_EVERY_S = 60.0
# Marks are not urgent (a row whose mark is lost is only published again): `run` gathers them into one
# statement at most this long after a confirm, or sooner when a batch's worth has gathered.
MARK_EVERY_S = 0.1


@dataclass(frozen=True)
class Leased:
    """An outbox row this relay holds the lease of: handed over, or claimed by a sweep."""

    event: OutgoingEvent
    attempts: int = 0


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
        lease_s: float = 30.0,
        max_batches_in_flight: int = 8,
        batch_wait_s: float = 0.0,
        retention: timedelta | None = None,
        personal_types: Collection[str] = (),
    ) -> None:
        """`personal_types`: the event types whose published rows are deleted within about a minute, not kept for
        `retention`: their bodies carry personal data (adults' addresses, a link that is a credential), and the
        outbox must not become a second copy that erasure and removals do not reach."""
        self._engine = engine
        self._relay_engine = _relay_engine(engine)
        # Each claim and mark is one statement: no BEGIN and COMMIT round trips around it.
        self._autocommit = self._relay_engine.execution_options(isolation_level="AUTOCOMMIT")
        self._outbox = outbox
        self._publisher = publisher
        self._batch_size = batch_size
        self._sweep_interval_s = sweep_interval_s
        self._max_backoff_s = max_backoff_s
        self._retry_base_s = retry_base_s
        self.lease = timedelta(seconds=lease_s)
        self._max_batches_in_flight = max_batches_in_flight
        self._pace = ArrivalPace(batch_wait_s)
        self._retention = retention
        self._personal_types = sorted(personal_types)
        self._next_personal_purge = time.monotonic()
        self._claim_statement = _claim_statement(outbox, batch_size)
        self._mark_published = (
            update(outbox)
            .where(outbox.c.event_id.in_(bindparam("ids", expanding=True)))
            .values(state=OutboxState.PUBLISHED.value, published_at=bindparam("now"))
        )
        self._handed: deque[tuple[float, OutgoingEvent]] = deque()  # (monotonic time handed over, event)
        # Handed over or claimed, and not settled yet: a sweep that meets one of these again (its lease ran
        # out meanwhile) leaves it alone, so no event is ever in flight twice.
        self._in_hand: set[uuid.UUID] = set()
        self._marking: set[asyncio.Task[None]] = set()
        self._sweep_due = True
        self._next_sweep_at = 0.0  # monotonic
        self._retry_at: float | None = None  # monotonic time that backoff runs out
        self._confirmed: list[uuid.UUID] = []  # by background batches, not marked yet
        self._mark_at: float | None = None
        self._next_purge = time.monotonic()
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[int]] = set()
        self._publish_error: BaseException | None = None
        self._stopping = False
        self.healthy = True
        self._confirmed_since_failure = False  # the broker confirmed a publish since the last failure

    def dispatch(self, events: Sequence[OutgoingEvent]) -> None:
        """Called after a commit with the events it wrote (leased to this relay): publish them now."""
        now = time.monotonic()
        self._pace.arrived(now)
        self._handed.extend((now, event) for event in events)
        self._in_hand.update(event.event_id for event in events)
        self._wake.set()

    def stop(self) -> None:
        """Ask `run` to return at its next safe point: cancelling it mid-statement can strand a connection."""
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        """Sweep now rather than at the next interval (for rows written without a hand-over)."""
        self._sweep_due = True
        self._wake.set()

    async def close(self) -> None:
        """After `run` has returned: let the batches in flight get their confirms and be marked."""
        if self._in_flight:
            _, unfinished = await asyncio.wait(self._in_flight, timeout=self.lease.total_seconds())
            for task in unfinished:  # their rows are published again when the lease runs out
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._mark_confirmed()
        await asyncio.gather(*self._marking, return_exceptions=True)
        await self._publisher.close()
        if self._relay_engine is not self._engine:
            await self._relay_engine.dispose()

    async def run(self) -> None:
        try:
            await self._run()
        finally:  # what was confirmed is marked; what was handed over and not sent goes back to the table
            await self._mark_confirmed()
            await self._give_back_handed()

    async def _run(self) -> None:
        backoff_s = 0.1
        while not self._stopping:
            await self._wait_for_a_fuller_batch()
            self._wake.clear()
            now = time.monotonic()  # sweeps and retries stay due under sustained hand-overs too
            if now >= self._next_sweep_at or (self._retry_at is not None and now >= self._retry_at):
                self._sweep_due, self._retry_at = True, None
            try:
                self._raise_publish_error()
                sent = await self._send_handed_over()
                if self._sweep_due or sent == 0:
                    self._sweep_due = False
                    self._next_sweep_at = time.monotonic() + self._sweep_interval_s
                    sent = await self._claim_and_send()
                    self._sweep_due = sent == self._batch_size  # a full batch: more may be due
            except Exception as error:
                self.healthy, self._confirmed_since_failure = False, False
                log.warning("outbox.publish_failed", error=repr(error)[:300], retry_in_s=round(backoff_s, 2))
                if self._in_flight:  # `wait`, not `gather`: cancelling `run` must not cancel them
                    await asyncio.wait(self._in_flight)  # let them settle: resetting would fail them all
                self._publish_error = None
                await self._give_back_handed()  # a sweep takes them
                await self._publisher.reset()
                with contextlib.suppress(TimeoutError):  # a stop ends the wait
                    await asyncio.wait_for(self._stopped(), backoff_s * random.uniform(0.8, 1.2))
                backoff_s = min(backoff_s * 2, self._max_backoff_s)
                self._sweep_due = True  # what failed was given back to the table
                continue
            # Only a confirm shows the broker is back: a batch sent in the background may still fail.
            if self._confirmed_since_failure and not self.healthy:
                log.info("outbox.publishing_resumed")
                self.healthy = True
            if self.healthy:
                backoff_s = 0.1
            await self._housekeeping()
            if not self._handed and not self._sweep_due:
                # Until a commit hands over events, or the next sweep, retry or mark is due.
                due = [t for t in (self._next_sweep_at, self._retry_at, self._mark_at) if t is not None]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), max(0.0, min(due) - time.monotonic()))

    async def _stopped(self) -> None:
        while not self._stopping:
            self._wake.clear()
            await self._wake.wait()

    async def _housekeeping(self) -> None:
        if self._mark_at is not None and (
            time.monotonic() >= self._mark_at or len(self._confirmed) >= self._batch_size
        ):
            # In the background, like the publishes: a hand-over arriving meanwhile must not wait for it.
            confirmed, self._confirmed, self._mark_at = self._confirmed, [], None
            task = asyncio.create_task(self._mark_confirmed(confirmed))
            self._marking.add(task)
            task.add_done_callback(self._marking.discard)
        await self._purge_when_due()

    async def _wait_for_a_fuller_batch(self) -> None:
        """Under load (commits closer together than `batch_wait_s`), publish `batch_wait_s` after the first."""
        if self._handed and len(self._handed) < self._batch_size:
            delay_s = self._pace.wait_until(self._handed[0][0]) - time.monotonic()
            if delay_s > 0:
                await asyncio.sleep(delay_s)

    def _raise_publish_error(self) -> None:
        error, self._publish_error = self._publish_error, None
        if error is not None:
            raise error

    async def _send_handed_over(self) -> int:
        sent = 0
        while self._handed:
            batch = [Leased(self._handed.popleft()[1]) for _ in range(min(self._batch_size, len(self._handed)))]
            await self._send(batch)
            sent += len(batch)
        return sent

    async def _claim_and_send(self) -> int:
        """Claim a batch of due rows and send it; returns how many rows were claimed."""
        rows = await self._claim()
        if rows:
            await self._send(rows)
        elif self._publish_error is None and not self._in_flight and not self.healthy:
            self.healthy = True  # nothing due, nothing failing: the broker is not known to be away
        return len(rows)

    async def _send(self, rows: Sequence[Leased]) -> None:
        """Publish in the background, once fewer than `max_batches_in_flight` batches await their confirms."""
        while len(self._in_flight) >= self._max_batches_in_flight:
            await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            if self._publish_error is not None:
                await self._give_back(rows)  # not sent: to the table, for a sweep after the backoff
                self._raise_publish_error()
        task = asyncio.create_task(self._publish_and_mark(rows, background=True))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        await asyncio.sleep(0)  # let it write its frames before the next batch's are queued

    async def _purge_when_due(self) -> None:
        now = time.monotonic()
        if self._personal_types and now >= self._next_personal_purge:
            self._next_personal_purge = now + PURGE_PERSONAL_EVERY_S
            await self._purge(older_than=timedelta(0), types=self._personal_types)
        if self._retention is not None and now >= self._next_purge:
            self._next_purge = now + PURGE_EVERY_S
            await self._purge(older_than=self._retention)

    async def _purge(self, *, older_than: timedelta, types: Collection[str] | None = None) -> None:
        try:
            purged = await self.purge_published(older_than=older_than, types=types)
        except Exception as error:  # housekeeping must never stop publishing
            log.warning("outbox.purge_failed", error=repr(error))
            return
        if purged:
            log.info("outbox.purged", rows=purged)

    async def purge_published(self, *, older_than: timedelta, types: Collection[str] | None = None) -> int:
        """Delete rows published longer ago than `older_than` (of `types` only, if given): the outbox is a queue, not
        an archive."""
        outbox = self._outbox
        cutoff = datetime.now(UTC) - older_than
        condition = (outbox.c.state == OutboxState.PUBLISHED.value) & (outbox.c.published_at <= cutoff)
        if types is not None:
            condition &= outbox.c.event_type.in_(list(types))
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(outbox).where(condition))
        return int(result.rowcount)

    async def publish_pending(self) -> int:
        """Claim, publish and mark one batch of due rows, waiting for the broker; returns how many it confirmed.

        A failure of the whole publish (no connection) releases the claimed rows and raises.
        """
        rows = await self._claim()
        if not rows:
            return 0
        return await self._publish_and_mark(rows, background=False)

    async def _claim(self) -> list[Leased]:
        now = datetime.now(UTC)
        async with self._autocommit.connect() as connection:
            rows = (await connection.execute(self._claim_statement, {"now": now, "until": now + self.lease})).all()
        claimed = [
            Leased(OutgoingEvent(row.event_id, row.event_type, row.body, row.correlation_id), row.attempts)
            for row in sorted(rows, key=lambda row: row.id)
            if row.event_id not in self._in_hand
        ]
        self._in_hand.update(row.event.event_id for row in claimed)
        return claimed

    async def _publish_and_mark(self, rows: Sequence[Leased], *, background: bool) -> int:
        try:
            return await self._publish_then_mark(rows, background=background)
        finally:  # what waits for its mark stays in hand until then
            waiting = set(self._confirmed)
            self._in_hand.difference_update(row.event.event_id for row in rows if row.event.event_id not in waiting)

    async def _publish_then_mark(self, rows: Sequence[Leased], *, background: bool) -> int:
        try:
            results = await self._publisher.publish([row.event for row in rows])
        except Exception as error:
            await self._release(rows)
            if not background:
                raise
            self._publish_error = error  # `run` backs off and resets the publisher
            self._wake.set()
            return 0
        if any(result is None for result in results):
            self._confirmed_since_failure = True
        try:
            await self._mark(rows, results, now=not background)
        except Exception as error:
            # The rows stay leased and are published again when the lease runs out: inboxes absorb that.
            log.warning("outbox.mark_failed", error=repr(error)[:300], rows=len(rows))
            if not background:
                raise
        failures = [error for error in results if error is not None]
        if failures:
            log.warning(
                "outbox.events_not_confirmed",
                failed=len(failures),
                first_error=repr(failures[0])[:300],
                retry_in_s=round(self._retry_at - time.monotonic(), 2) if self._retry_at else None,
            )
            if background:
                self._wake.set()  # so `run` waits no longer than the first retry
        return len(rows) - len(failures)

    async def _give_back_handed(self) -> None:
        # Taken off the queue before the first await: a commit handing events over meanwhile must find them
        # still queued, not cleared with these unreleased (they would stay in hand, unsent, until a restart).
        handed = [Leased(event) for _, event in self._handed]
        self._handed.clear()
        await self._give_back(handed)

    async def _give_back(self, rows: Sequence[Leased]) -> None:
        if rows:
            await self._release(rows)
        self._in_hand.difference_update(row.event.event_id for row in rows)

    async def _release(self, rows: Sequence[Leased]) -> None:
        """Give leased rows back at once: nothing was sent, so they count no attempt."""
        with contextlib.suppress(Exception):  # else their lease runs out
            async with self._autocommit.connect() as connection:
                await connection.execute(
                    update(self._outbox)
                    .where(self._outbox.c.event_id.in_([row.event.event_id for row in rows]))
                    .values(available_at=datetime.now(UTC))
                )

    async def _mark(self, rows: Sequence[Leased], results: Sequence[BaseException | None], *, now: bool) -> None:
        """Schedule rows the broker did not confirm for a retry; mark the others published, now or with others."""
        confirmed = [row.event.event_id for row, error in zip(rows, results, strict=True) if error is None]
        failed = [(row, error) for row, error in zip(rows, results, strict=True) if error is not None]
        retry_at: float | None = None
        if failed:
            async with self._autocommit.connect() as connection:
                retry_at = min([await self._retry_later(connection, row, error) for row, error in failed])
        if now:
            await self._mark_published_now(confirmed)
        elif confirmed:
            self._confirmed.extend(confirmed)
            if self._mark_at is None:
                self._mark_at = time.monotonic() + MARK_EVERY_S
            if len(self._confirmed) >= self._batch_size:
                self._wake.set()
        if retry_at is not None:
            # Only after the last await: a sweep woken for the retry while the rows were still in hand, or
            # their new due time not written yet, would claim nothing and leave them to the next interval.
            self._retry_at = min(self._retry_at or retry_at, retry_at)

    async def _mark_confirmed(self, confirmed: list[uuid.UUID] | None = None) -> None:
        """Mark published, in one statement, what was confirmed (by default: all gathered so far)."""
        if confirmed is None:
            confirmed, self._confirmed, self._mark_at = self._confirmed, [], None
        try:
            await self._mark_published_now(confirmed)
        except Exception as error:
            log.warning("outbox.mark_failed", error=repr(error)[:300], rows=len(confirmed))
        finally:
            self._in_hand.difference_update(confirmed)

    async def _mark_published_now(self, event_ids: Sequence[uuid.UUID]) -> None:
        if event_ids:
            async with self._autocommit.connect() as connection:
                await connection.execute(self._mark_published, {"ids": list(event_ids), "now": datetime.now(UTC)})

    async def _retry_later(self, connection: AsyncConnection, row: Leased, error: BaseException) -> float:
        """Make the row due again after its backoff; returns when (monotonic) it is due."""
        delay_s: float = min(self._max_backoff_s, self._retry_base_s * 2.0**row.attempts)
        available_at = datetime.now(UTC) + timedelta(seconds=delay_s)
        retry_at = time.monotonic() + delay_s  # read after the wall clock, so by then the row is due
        await connection.execute(
            update(self._outbox)
            .where(self._outbox.c.event_id == row.event.event_id)
            .values(
                attempts=row.attempts + 1,
                last_error=repr(error)[:500],
                available_at=available_at,
            )
        )
        return retry_at


def _claim_statement(outbox: Table, batch_size: int) -> Update:
    """Lease the first due pending rows (`until` past the publish timeout) and return them: one statement."""
    due = (
        select(outbox.c.id)
        .where(outbox.c.state == OutboxState.PENDING.value, outbox.c.available_at <= bindparam("now"))
        .order_by(outbox.c.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)  # ignored by SQLite, where there is one writer anyway
    )
    return (
        update(outbox)
        .where(outbox.c.id.in_(due.scalar_subquery()))
        .values(available_at=bindparam("until"))
        .returning(
            outbox.c.id,
            outbox.c.event_id,
            outbox.c.event_type,
            outbox.c.body,
            outbox.c.attempts,
            outbox.c.correlation_id,
        )
    )


def _relay_engine(engine: AsyncEngine) -> AsyncEngine:
    """On PostgreSQL, a few connections of the relay's own whose commits do not wait for the WAL flush.

    A claim or a mark lost in a database crash only means an event is published again, which inboxes
    absorb; so the relay need not wait for the disk. Everything else keeps synchronous commits.
    """
    if engine.dialect.name != "postgresql":
        return engine
    return create_async_engine(
        engine.url,
        pool_size=2,
        max_overflow=8,
        hide_parameters=True,
        connect_args={"server_settings": {"synchronous_commit": "off"}},
    )
