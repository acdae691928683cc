"""EventConsumer.handle: exactly-once application through the inbox, on SQLite (no broker)."""

import re
import uuid
from typing import Any

import pytest
import structlog
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.shared.consumer import EventConsumer, Subscription
from medic.shared.contracts import PartnerKind, PartnerRegisteredV1
from medic.shared.delivery import PoisonMessage
from medic.shared.events import Envelope, RawEnvelope
from medic.shared.topology import ALL_EVENTS
from medic.shared.uow import UnitOfWork


def _raw(payload: PartnerRegisteredV1 | None = None, **data_overrides: Any) -> RawEnvelope:
    payload = payload or PartnerRegisteredV1(partner_id=uuid.uuid4(), name="Partner", kind=PartnerKind.CHARITY)
    envelope = Envelope.wrap(payload, subject=None, correlation_id=uuid.uuid4())
    raw = RawEnvelope.model_validate_json(envelope.model_dump_json(serialize_as_any=True))
    if data_overrides:
        raw = raw.model_copy(update={"data": raw.data | data_overrides})
    return raw


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.calls: list[tuple[Any, RawEnvelope]] = []
        self.fail_times = fail_times

    async def __call__(self, payload: Any, envelope: RawEnvelope, uow: UnitOfWork) -> None:
        self.calls.append((payload, envelope))
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("handler failed")


async def _inbox_count(engine: AsyncEngine, tables: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(tables.inbox))).scalar_one())


def _consumer(engine: AsyncEngine, tables: Any, subscriptions: dict[str, Subscription]) -> EventConsumer:
    return EventConsumer("outreach", lambda: UnitOfWork(engine, inbox=tables.inbox), subscriptions)


async def test_handles_once_and_ignores_the_duplicate(engine: AsyncEngine, tables: Any) -> None:
    handler = Recorder()
    consumer = _consumer(engine, tables, {PartnerRegisteredV1.event_type: Subscription(PartnerRegisteredV1, handler)})
    envelope = _raw()

    assert await consumer.handle(envelope) is True
    assert await consumer.handle(envelope) is False

    assert len(handler.calls) == 1
    payload, seen = handler.calls[0]
    assert isinstance(payload, PartnerRegisteredV1)
    assert payload.partner_id == uuid.UUID(envelope.data["partner_id"])
    assert seen is envelope
    assert await _inbox_count(engine, tables) == 1
    assert structlog.contextvars.get_contextvars()["correlation_id"] == str(envelope.correlationid)
    structlog.contextvars.clear_contextvars()


async def test_a_failed_handler_leaves_no_inbox_record(engine: AsyncEngine, tables: Any) -> None:
    handler = Recorder(fail_times=1)
    consumer = _consumer(engine, tables, {PartnerRegisteredV1.event_type: Subscription(PartnerRegisteredV1, handler)})
    envelope = _raw()

    with pytest.raises(RuntimeError):
        await consumer.handle(envelope)
    assert await _inbox_count(engine, tables) == 0

    assert await consumer.handle(envelope) is True  # the redelivery is applied
    assert len(handler.calls) == 2
    assert await _inbox_count(engine, tables) == 1


async def test_unknown_type_is_poison(engine: AsyncEngine, tables: Any) -> None:
    consumer = _consumer(engine, tables, {"projects.project.started.v1": Subscription(None, Recorder())})
    with pytest.raises(PoisonMessage, match=re.escape("projects.partner.registered.v1")):
        await consumer.handle(_raw())
    assert await _inbox_count(engine, tables) == 0


async def test_invalid_payload_fails_validation_before_any_write(engine: AsyncEngine, tables: Any) -> None:
    handler = Recorder()
    consumer = _consumer(engine, tables, {PartnerRegisteredV1.event_type: Subscription(PartnerRegisteredV1, handler)})
    with pytest.raises(ValidationError):
        await consumer.handle(_raw(kind="not-a-kind"))
    assert handler.calls == []
    assert await _inbox_count(engine, tables) == 0


async def test_catch_all_subscription_keeps_the_dict(engine: AsyncEngine, tables: Any) -> None:
    handler = Recorder()
    consumer = _consumer(engine, tables, {ALL_EVENTS: Subscription(None, handler)})
    envelope = _raw()

    assert consumer.event_types == [ALL_EVENTS]
    assert await consumer.handle(envelope) is True
    assert handler.calls[0][0] == envelope.data
