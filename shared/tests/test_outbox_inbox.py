"""Outbox and inbox inside a UnitOfWork, on a SQLite file."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from medic.shared.contracts import PartnerKind, PartnerRegisteredV1
from medic.shared.events import Envelope, EventPayload, RawEnvelope
from medic.shared.inbox import record_in_inbox
from medic.shared.outbox import OutboxState, add_to_outbox
from medic.shared.publisher import OutgoingEvent
from medic.shared.uow import UnitOfWork


def _envelope(name: str = "Northside Charity") -> Envelope[EventPayload]:
    payload = PartnerRegisteredV1(partner_id=uuid.uuid4(), name=name, kind=PartnerKind.CHARITY)
    return Envelope.wrap(payload, subject=str(payload.partner_id), correlation_id=uuid.uuid4())


class FakeRelay:
    """Records what units of work hand over after their commits."""

    def __init__(self, lease: timedelta = timedelta(seconds=20)) -> None:
        self.lease = lease
        self.handed: list[list[OutgoingEvent]] = []

    @property
    def count(self) -> int:
        return len(self.handed)

    def dispatch(self, events: Sequence[OutgoingEvent]) -> None:
        self.handed.append(list(events))


async def _outbox_rows(engine: AsyncEngine, tables: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(select(tables.outbox).order_by(tables.outbox.c.id))).all())


async def _inbox_count(engine: AsyncEngine, tables: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(tables.inbox))).scalar_one())


async def test_uow_without_commit_rolls_back_the_outbox(engine: AsyncEngine, tables: Any) -> None:
    woken = FakeRelay()
    async with UnitOfWork(engine, outbox=tables.outbox, relay=woken) as uow:
        await uow.publish(_envelope())
        await uow.publish(_envelope())

    assert await _outbox_rows(engine, tables) == []
    assert woken.count == 0


async def test_uow_rolls_back_on_an_exception(engine: AsyncEngine, tables: Any) -> None:
    woken = FakeRelay()
    with pytest.raises(RuntimeError, match="handler failed"):
        async with UnitOfWork(engine, outbox=tables.outbox, relay=woken) as uow:
            await uow.publish(_envelope())
            raise RuntimeError("handler failed")

    assert await _outbox_rows(engine, tables) == []
    assert woken.count == 0


async def test_explicit_rollback_discards_staged_events(engine: AsyncEngine, tables: Any) -> None:
    woken = FakeRelay()
    async with UnitOfWork(engine, outbox=tables.outbox, relay=woken) as uow:
        await uow.publish(_envelope())
        await uow.rollback()

    assert await _outbox_rows(engine, tables) == []
    assert woken.count == 0


async def test_commit_leaves_pending_rows_and_hands_them_over_once(engine: AsyncEngine, tables: Any) -> None:
    woken = FakeRelay()
    first, second = _envelope("First Partner"), _envelope("Second Partner")

    async with UnitOfWork(engine, outbox=tables.outbox, relay=woken) as uow:
        await uow.publish(first)
        await uow.publish(second)
        assert woken.count == 0  # not before the commit
        await uow.commit()

    assert woken.count == 1
    assert [event.event_id for event in woken.handed[0]] == [first.id, second.id]
    rows = await _outbox_rows(engine, tables)
    assert [row.event_id for row in rows] == [first.id, second.id]
    assert [event.body for event in woken.handed[0]] == [row.body for row in rows]
    assert [event.correlation_id for event in woken.handed[0]] == [first.correlationid, second.correlationid]
    assert all(row.available_at >= row.created_at + woken.lease for row in rows)  # left to that relay
    assert rows[0].id < rows[1].id
    for row, envelope in zip(rows, (first, second), strict=True):
        assert row.state == OutboxState.PENDING.value
        assert row.event_type == "projects.partner.registered.v1"
        assert row.attempts == 0
        assert row.published_at is None
        assert row.last_error is None
        assert row.created_at is not None
        raw = RawEnvelope.model_validate_json(row.body)
        assert raw.id == envelope.id
        assert raw.correlationid == envelope.correlationid
        assert PartnerRegisteredV1.model_validate(raw.data) == envelope.data


async def test_commit_without_events_does_not_wake_the_relay(engine: AsyncEngine, tables: Any) -> None:
    woken = FakeRelay()
    async with UnitOfWork(engine, outbox=tables.outbox, inbox=tables.inbox, relay=woken) as uow:
        await uow.first_deliveries(consumer="c", events=[(uuid.uuid4(), "a.b.c.v1")])
        await uow.commit()
    assert woken.count == 0
    assert await _inbox_count(engine, tables) == 1


async def test_add_to_outbox_in_a_rolled_back_transaction_leaves_nothing(engine: AsyncEngine, tables: Any) -> None:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await add_to_outbox(connection, tables.outbox, _envelope())
        await transaction.rollback()
    assert await _outbox_rows(engine, tables) == []


async def test_the_same_event_cannot_be_staged_twice(engine: AsyncEngine, tables: Any) -> None:
    envelope = _envelope()
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await add_to_outbox(connection, tables.outbox, envelope)
            await add_to_outbox(connection, tables.outbox, envelope)
    assert await _outbox_rows(engine, tables) == []


async def _first_delivery(engine: AsyncEngine, tables: Any, consumer: str, event_id: uuid.UUID) -> bool:
    async with UnitOfWork(engine, inbox=tables.inbox) as uow:
        new = await uow.first_deliveries(consumer=consumer, events=[(event_id, "projects.partner.registered.v1")])
        await uow.commit()
    return new == {event_id}


async def test_first_delivery_per_consumer_and_event(engine: AsyncEngine, tables: Any) -> None:
    event_id = uuid.uuid4()

    assert await _first_delivery(engine, tables, "outreach", event_id) is True
    assert await _first_delivery(engine, tables, "outreach", event_id) is False
    assert await _first_delivery(engine, tables, "notifications", event_id) is True
    assert await _first_delivery(engine, tables, "outreach", uuid.uuid4()) is True
    assert await _inbox_count(engine, tables) == 3


async def test_first_delivery_twice_in_one_transaction(engine: AsyncEngine, tables: Any) -> None:
    event_id = uuid.uuid4()
    async with UnitOfWork(engine, inbox=tables.inbox) as uow:
        assert await uow.first_deliveries(consumer="c", events=[(event_id, "a.b.c.v1")]) == {event_id}
        assert await uow.first_deliveries(consumer="c", events=[(event_id, "a.b.c.v1")]) == set()
        await uow.commit()


async def test_a_batch_of_deliveries_returns_only_the_new_ones_once(engine: AsyncEngine, tables: Any) -> None:
    seen, new, repeated = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert await _first_delivery(engine, tables, "c", seen) is True
    async with UnitOfWork(engine, inbox=tables.inbox) as uow:
        batch = [(seen, "a.b.c.v1"), (new, "a.b.c.v1"), (repeated, "a.b.c.v1"), (repeated, "a.b.c.v1")]
        assert await uow.first_deliveries(consumer="c", events=batch) == {new, repeated}
        assert await uow.first_deliveries(consumer="c", events=[]) == set()
        await uow.commit()
    assert await _inbox_count(engine, tables) == 3


async def test_forgetting_deliveries_deletes_only_old_rows_of_that_consumer(engine: AsyncEngine, tables: Any) -> None:
    old, recent, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            insert(tables.inbox),
            [
                {"consumer": "c", "event_id": old, "event_type": "a.b.c.v1", "received_at": now - timedelta(days=15)},
                {"consumer": "c", "event_id": recent, "event_type": "a.b.c.v1", "received_at": now},
                {"consumer": "d", "event_id": other, "event_type": "a.b.c.v1", "received_at": now - timedelta(days=15)},
            ],
        )
    async with UnitOfWork(engine, inbox=tables.inbox) as uow:
        assert await uow.forget_deliveries(consumer="c", before=now - timedelta(days=14)) == 1
        await uow.commit()
    async with engine.connect() as connection:
        left = set((await connection.execute(select(tables.inbox.c.event_id))).scalars())
    assert left == {recent, other}


async def test_an_inbox_record_rolled_back_does_not_count(engine: AsyncEngine, tables: Any) -> None:
    """A handler that failed must see the redelivery as a first delivery."""
    event_id = uuid.uuid4()
    async with UnitOfWork(engine, inbox=tables.inbox) as uow:
        assert await uow.first_deliveries(consumer="c", events=[(event_id, "a.b.c.v1")]) == {event_id}
        # no commit: the handler failed

    assert await _first_delivery(engine, tables, "c", event_id) is True
    assert await _inbox_count(engine, tables) == 1


async def test_record_in_inbox_directly(engine: AsyncEngine, tables: Any) -> None:
    event_id = uuid.uuid4()
    async with engine.begin() as connection:
        assert await record_in_inbox(connection, tables.inbox, consumer="x", events=[(event_id, "a.b.c.v1")])
        assert not await record_in_inbox(connection, tables.inbox, consumer="x", events=[(event_id, "a.b.c.v1")])


async def test_uow_misuse_is_reported(engine: AsyncEngine, tables: Any) -> None:
    uow = UnitOfWork(engine)
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.connection
    with pytest.raises(RuntimeError, match="not open"):
        await uow.commit()
    async with uow:
        with pytest.raises(RuntimeError, match="no outbox"):
            await uow.publish(_envelope())
        with pytest.raises(RuntimeError, match="no inbox"):
            await uow.first_deliveries(consumer="c", events=[(uuid.uuid4(), "a.b.c.v1")])
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.connection  # closed again on exit


async def test_subclass_hook_gets_the_open_connection(engine: AsyncEngine, tables: Any) -> None:
    seen: list[AsyncConnection] = []

    class ServiceUoW(UnitOfWork):
        def _open_repositories(self, connection: AsyncConnection) -> None:
            seen.append(connection)

    async with ServiceUoW(engine, outbox=tables.outbox) as uow:
        assert seen == [uow.connection]
    async with ServiceUoW(engine, outbox=tables.outbox):
        pass
    assert len(seen) == 2
