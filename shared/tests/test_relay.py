"""OutboxRelay against a SQLite outbox and a fake EventPublisher (no broker)."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.shared import relay as relay_module
from medic.shared.contracts import PartnerKind, PartnerRegisteredV1
from medic.shared.events import Envelope, EventPayload
from medic.shared.outbox import OutboxState
from medic.shared.publisher import EventPublisher, OutgoingEvent
from medic.shared.relay import OutboxRelay
from medic.shared.uow import UnitOfWork


class FakePublisher:
    """Confirms everything unless told otherwise.

    `script` holds what each next call does ("raise": the connection fails; "nack": every event fails);
    `nack_ids` are events the broker never confirms.
    """

    def __init__(self) -> None:
        self.published: list[OutgoingEvent] = []
        self.calls = 0
        self.resets = 0
        self.closed = False
        self.script: list[str] = []
        self.nack_ids: set[uuid.UUID] = set()

    async def publish(self, events: Sequence[OutgoingEvent]) -> list[BaseException | None]:
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "raise":
            raise ConnectionError("broker unreachable")
        results: list[BaseException | None] = []
        for event in events:
            if step == "nack" or event.event_id in self.nack_ids:
                results.append(TimeoutError(f"no confirm for {event.event_id}"))
            else:
                self.published.append(event)
                results.append(None)
        return results

    async def reset(self) -> None:
        self.resets += 1

    async def close(self) -> None:
        self.closed = True


def _check_protocol(publisher: FakePublisher) -> EventPublisher:
    return publisher  # mypy checks that the fake satisfies the port


def _envelope() -> Envelope[EventPayload]:
    payload = PartnerRegisteredV1(partner_id=uuid.uuid4(), name="Partner", kind=PartnerKind.SCHOOL)
    return Envelope.wrap(payload, subject=None, correlation_id=uuid.uuid4())


async def _stage(engine: AsyncEngine, tables: Any, count: int, relay: OutboxRelay | None = None) -> list[uuid.UUID]:
    envelopes = [_envelope() for _ in range(count)]
    async with UnitOfWork(engine, outbox=tables.outbox, relay=relay) as uow:
        for envelope in envelopes:
            await uow.publish(envelope)
        await uow.commit()
    return [envelope.id for envelope in envelopes]


async def _rows(engine: AsyncEngine, tables: Any) -> dict[uuid.UUID, Any]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(tables.outbox).order_by(tables.outbox.c.id))).all()
    return {row.event_id: row for row in rows}


async def _until(condition: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until `condition` held; fails the test after `timeout_s`."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout_s:
            pytest.fail(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


async def test_publishes_pending_rows_in_id_order_and_marks_them(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    ids = await _stage(engine, tables, 3) + await _stage(engine, tables, 2)
    relay = OutboxRelay(engine, tables.outbox, _check_protocol(publisher))

    assert await relay.publish_pending() == 5

    assert [event.event_id for event in publisher.published] == ids
    assert {event.event_type for event in publisher.published} == {"projects.partner.registered.v1"}
    rows = await _rows(engine, tables)
    assert [event.body for event in publisher.published] == [rows[i].body for i in ids]
    assert all(row.state == OutboxState.PUBLISHED.value for row in rows.values())
    assert all(row.published_at is not None for row in rows.values())
    assert all(row.attempts == 0 and row.last_error is None for row in rows.values())

    assert await relay.publish_pending() == 0  # nothing left: the publisher is not even called
    assert publisher.calls == 1


async def test_batches_respect_the_batch_size(engine: AsyncEngine, tables: Any, publisher: FakePublisher) -> None:
    ids = await _stage(engine, tables, 5)
    relay = OutboxRelay(engine, tables.outbox, publisher, batch_size=2)

    assert [await relay.publish_pending() for _ in range(4)] == [2, 2, 1, 0]
    assert [event.event_id for event in publisher.published] == ids


async def test_already_published_rows_are_not_sent_again(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    first = await _stage(engine, tables, 2)
    relay = OutboxRelay(engine, tables.outbox, publisher)
    await relay.publish_pending()
    second = await _stage(engine, tables, 1)

    assert await relay.publish_pending() == 1
    assert [event.event_id for event in publisher.published] == first + second


async def test_partial_failure_marks_only_confirmed_rows(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    ids = await _stage(engine, tables, 3)
    publisher.nack_ids = {ids[1]}
    relay = OutboxRelay(engine, tables.outbox, publisher, retry_base_s=0.2)

    assert await relay.publish_pending() == 2

    rows = await _rows(engine, tables)
    assert rows[ids[0]].state == rows[ids[2]].state == OutboxState.PUBLISHED.value
    assert rows[ids[0]].attempts == rows[ids[2]].attempts == 0
    failed = rows[ids[1]]
    assert failed.state == OutboxState.PENDING.value
    assert failed.published_at is None
    assert failed.attempts == 1
    assert "TimeoutError" in failed.last_error
    assert str(ids[1]) in failed.last_error
    assert failed.available_at > datetime.now(UTC)  # it waits out its own backoff

    # Not due yet: nothing to publish. Once due, only what is still pending goes, then it is done.
    publisher.nack_ids = set()
    assert await relay.publish_pending() == 0
    await asyncio.sleep(0.25)
    assert await relay.publish_pending() == 1
    assert [event.event_id for event in publisher.published] == [ids[0], ids[2], ids[1]]
    rows = await _rows(engine, tables)
    assert rows[ids[1]].state == OutboxState.PUBLISHED.value
    assert rows[ids[1]].attempts == 1  # the history of the failed attempt is kept


async def test_a_row_that_keeps_failing_does_not_hold_back_the_rows_behind_it(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    (stuck,) = await _stage(engine, tables, 1)
    publisher.nack_ids = {stuck}
    relay = OutboxRelay(engine, tables.outbox, publisher, batch_size=1, retry_base_s=60)
    assert await relay.publish_pending() == 0

    behind = await _stage(engine, tables, 2)
    assert await relay.publish_pending() == 1
    assert await relay.publish_pending() == 1
    assert [event.event_id for event in publisher.published] == behind


async def test_every_event_failing_counts_attempts_on_all(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    ids = await _stage(engine, tables, 3)
    publisher.script = ["nack", "nack"]
    relay = OutboxRelay(engine, tables.outbox, publisher, retry_base_s=0)

    for _ in range(2):
        assert await relay.publish_pending() == 0

    rows = await _rows(engine, tables)
    assert [rows[i].state for i in ids] == [OutboxState.PENDING.value] * 3
    assert [rows[i].attempts for i in ids] == [2, 2, 2]
    assert publisher.published == []


async def test_retry_backoff_doubles_per_attempt_up_to_the_maximum(engine: AsyncEngine, tables: Any) -> None:
    class NeverConfirms(FakePublisher):
        async def publish(self, events: Sequence[OutgoingEvent]) -> list[BaseException | None]:
            return [TimeoutError("no confirm") for _ in events]

    await _stage(engine, tables, 1)
    relay = OutboxRelay(engine, tables.outbox, NeverConfirms(), retry_base_s=10, max_backoff_s=25)
    delays = []
    for _ in range(3):
        async with engine.begin() as connection:  # make the row due now, as if its wait were over
            await connection.execute(tables.outbox.update().values(available_at=datetime.now(UTC)))
        before = datetime.now(UTC)
        await relay.publish_pending()
        (row,) = (await _rows(engine, tables)).values()
        delays.append(round((row.available_at - before).total_seconds()))
    assert delays == [10, 20, 25]


async def test_last_error_is_truncated(engine: AsyncEngine, tables: Any) -> None:
    class LoudPublisher(FakePublisher):
        async def publish(self, events: Sequence[OutgoingEvent]) -> list[BaseException | None]:
            return [RuntimeError("x" * 2000) for _ in events]

    await _stage(engine, tables, 1)
    assert await OutboxRelay(engine, tables.outbox, LoudPublisher()).publish_pending() == 0
    (row,) = (await _rows(engine, tables)).values()
    assert len(row.last_error) == 500


async def test_a_publisher_that_raises_changes_nothing(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    ids = await _stage(engine, tables, 2)
    publisher.script = ["raise"]
    relay = OutboxRelay(engine, tables.outbox, publisher)

    with pytest.raises(ConnectionError):
        await relay.publish_pending()

    rows = await _rows(engine, tables)
    assert [(rows[i].state, rows[i].attempts) for i in ids] == [(OutboxState.PENDING.value, 0)] * 2
    assert await relay.publish_pending() == 2


@contextlib.asynccontextmanager
async def _running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.done()
        await relay.close()  # as at shutdown: marks still gathering in the background are written


async def test_handed_over_events_go_at_once_and_others_wait_for_a_sweep_or_a_wake(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    relay = OutboxRelay(engine, tables.outbox, publisher, sweep_interval_s=30)
    async with _running(relay):
        await asyncio.sleep(0.05)  # the first sweep found nothing; the relay now waits up to 30 s

        # A row written without a hand-over waits for the next sweep...
        (quiet,) = await _stage(engine, tables, 1)
        await asyncio.sleep(0.2)
        assert publisher.published == []

        # ...rows a unit of work hands over after its commit go at once, without being claimed...
        ids = await _stage(engine, tables, 2, relay=relay)
        elapsed = await _until(lambda: len(publisher.published) == 2, timeout_s=1.0)
        assert [event.event_id for event in publisher.published] == ids

        # ...and a wake sweeps now.
        relay.wake()
        await _until(lambda: len(publisher.published) == 3, timeout_s=1.0)

    assert elapsed < 1.0
    assert publisher.published[-1].event_id == quiet
    rows = await _rows(engine, tables)
    assert all(row.state == OutboxState.PUBLISHED.value for row in rows.values())
    assert relay.healthy


async def test_handed_over_rows_are_leased_until_their_relay_would_have_published_them(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    """If the process dies between its commit and the hand-over, another relay's sweep publishes the rows,
    but only once their lease has run out."""
    crashed = OutboxRelay(engine, tables.outbox, FakePublisher(), lease_s=0.3)
    ids = await _stage(engine, tables, 2, relay=crashed)  # handed over to a relay that never runs
    other = OutboxRelay(engine, tables.outbox, publisher)

    assert await other.publish_pending() == 0
    await asyncio.sleep(0.35)
    assert await other.publish_pending() == 2
    assert [event.event_id for event in publisher.published] == ids


async def test_an_event_in_hand_is_never_claimed_again_by_its_own_sweep(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    """A hand-over whose lease ran out before it was sent (a slow broker) is sent once, not twice at once."""
    relay = OutboxRelay(engine, tables.outbox, publisher, lease_s=0.05, sweep_interval_s=30)
    ids = await _stage(engine, tables, 3, relay=relay)  # handed over; the relay is not running yet
    await asyncio.sleep(0.1)

    assert await relay.publish_pending() == 0  # due again by the table, but in this relay's hands
    async with _running(relay):
        await _until(lambda: len(publisher.published) == 3, timeout_s=1.0)
        await asyncio.sleep(0.1)
    assert [event.event_id for event in publisher.published] == ids


async def test_stop_returns_at_once_even_while_backing_off(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    """A stop ends `run` between statements (never mid-statement), also during a long backoff, and gives
    handed-over events it did not send back to the table."""
    publisher.script = ["raise"] * 10
    relay = OutboxRelay(engine, tables.outbox, publisher, max_backoff_s=30, sweep_interval_s=30)
    await _stage(engine, tables, 1)
    task = asyncio.create_task(relay.run())
    await _until(lambda: not relay.healthy, timeout_s=1.0)
    await asyncio.sleep(0.3)  # now in a backoff of up to 30 s
    handed = await _stage(engine, tables, 1, relay=relay)

    relay.stop()
    await asyncio.wait_for(task, timeout=1.0)
    await relay.close()  # as at shutdown: a batch still in flight (when the backoff was short) settles

    rows = await _rows(engine, tables)
    assert rows[handed[0]].available_at <= datetime.now(UTC)  # due for the next sweep, not leased for 30 s


async def test_events_handed_over_during_a_give_back_stay_queued(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    """Giving handed-over events back to the table awaits the database; a commit handing events over during
    that await must find them still queued and in hand, not cleared unreleased (found under load in CI)."""
    relay = OutboxRelay(engine, tables.outbox, publisher, sweep_interval_s=30)
    real_release = relay._release
    late: list[uuid.UUID] = []

    async def a_commit_lands_meanwhile(rows: Sequence[Any]) -> None:
        late.extend(await _stage(engine, tables, 1, relay=relay))
        await real_release(rows)

    relay._release = a_commit_lands_meanwhile  # type: ignore[method-assign]
    given_back = await _stage(engine, tables, 1, relay=relay)

    await relay._give_back_handed()

    assert [event.event_id for _, event in relay._handed] == late
    assert relay._in_hand == set(late)
    rows = await _rows(engine, tables)
    assert rows[given_back[0]].available_at <= datetime.now(UTC)  # due for the next sweep


async def test_events_handed_over_while_a_failure_is_being_cleaned_up_are_all_sent(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    """The same race end to end: whichever order the failed batch, its give-back and the late commits take,
    every event is published and marked."""
    publisher.script = ["raise"]
    relay = OutboxRelay(engine, tables.outbox, publisher, max_backoff_s=0.1, sweep_interval_s=30)
    real_release = relay._release
    late: list[uuid.UUID] = []

    async def a_commit_lands_meanwhile(rows: Sequence[Any]) -> None:
        if len(late) < 2:
            late.extend(await _stage(engine, tables, 1, relay=relay))
        await real_release(rows)

    relay._release = a_commit_lands_meanwhile  # type: ignore[method-assign]
    first = await _stage(engine, tables, 1, relay=relay)
    async with _running(relay):
        await _until(lambda: len(publisher.published) == 1 + len(late), timeout_s=3.0)

    assert late and {event.event_id for event in publisher.published} == {*first, *late}
    rows = await _rows(engine, tables)
    assert all(row.state == OutboxState.PUBLISHED.value for row in rows.values())


async def test_run_backs_off_and_recovers(engine: AsyncEngine, tables: Any, publisher: FakePublisher) -> None:
    ids = await _stage(engine, tables, 2)
    publisher.script = ["raise", "nack", "raise"]
    relay = OutboxRelay(engine, tables.outbox, publisher, sweep_interval_s=30, max_backoff_s=0.15, retry_base_s=0.05)

    async with _running(relay):
        await _until(lambda: publisher.calls >= 1, timeout_s=1.0)
        await _until(lambda: not relay.healthy, timeout_s=1.0)
        started = time.perf_counter()
        await _until(lambda: len(publisher.published) == 2, timeout_s=3.0)
        recovered_after = time.perf_counter() - started
        await _until(lambda: relay.healthy, timeout_s=1.0)

    assert publisher.calls == 4  # three failures, then the success
    assert publisher.resets == 2  # the connection is dropped after each failure of the whole publish
    assert recovered_after > 0.15  # it waited between attempts rather than spinning
    assert [event.event_id for event in publisher.published] == ids
    rows = await _rows(engine, tables)
    assert all(row.state == OutboxState.PUBLISHED.value for row in rows.values())
    assert [rows[i].attempts for i in ids] == [1, 1]  # only the "nack" round recorded an attempt


async def test_run_keeps_going_while_batches_are_full(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    ids = await _stage(engine, tables, 5)
    relay = OutboxRelay(engine, tables.outbox, publisher, batch_size=2, sweep_interval_s=30)
    async with _running(relay):
        await _until(lambda: len(publisher.published) == 5, timeout_s=1.0)
    assert [event.event_id for event in publisher.published] == ids


async def test_close_closes_the_publisher(engine: AsyncEngine, tables: Any, publisher: FakePublisher) -> None:
    await OutboxRelay(engine, tables.outbox, publisher).close()
    assert publisher.closed


async def test_purge_deletes_only_rows_published_long_ago(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher
) -> None:
    old, recent = await _stage(engine, tables, 2)
    relay = OutboxRelay(engine, tables.outbox, publisher)
    assert await relay.publish_pending() == 2
    (pending,) = await _stage(engine, tables, 1)
    async with engine.begin() as connection:
        await connection.execute(
            tables.outbox.update()
            .where(tables.outbox.c.event_id == old)
            .values(published_at=datetime.now(UTC) - timedelta(days=8))
        )

    assert await relay.purge_published(older_than=timedelta(days=7)) == 1
    assert set(await _rows(engine, tables)) == {recent, pending}


async def test_rows_carrying_personal_data_are_purged_as_soon_as_published(
    engine: AsyncEngine, tables: Any, publisher: FakePublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their bodies (adults' addresses, a link that is a credential) must not stay in the outbox for its retention:
    the running relay deletes them once published; other rows stay, and a personal row not yet published stays too."""
    personal, ordinary = await _stage(engine, tables, 2)
    async with engine.begin() as connection:
        await connection.execute(
            tables.outbox.update().where(tables.outbox.c.event_id == personal).values(event_type="test.personal.set.v1")
        )
    monkeypatch.setattr(relay_module, "PURGE_PERSONAL_EVERY_S", 0.05)  # a minute in production
    relay = OutboxRelay(
        engine,
        tables.outbox,
        publisher,
        sweep_interval_s=0.05,
        retention=timedelta(days=7),
        personal_types={"test.personal.set.v1"},
    )
    assert await relay.purge_published(older_than=timedelta(0), types={"test.personal.set.v1"}) == 0  # not yet sent
    async with _running(relay):
        await _until(lambda: len(publisher.published) == 2, timeout_s=2.0)
        for _ in range(200):
            if set(await _rows(engine, tables)) == {ordinary}:
                break
            await asyncio.sleep(0.01)
    assert set(await _rows(engine, tables)) == {ordinary}
