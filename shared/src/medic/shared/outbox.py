"""The transactional outbox: events are rows written in the same transaction as the state change.

A row is `pending` until the relay has the broker's confirm for it, then `published`. The relay
(`relay.py`) is the only reader.
"""

import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from medic.shared.db import UtcDateTime
from medic.shared.events import Envelope, EventPayload
from medic.shared.publisher import OutgoingEvent


class OutboxState(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"


class Dispatcher(Protocol):
    """The process's relay, as a unit of work sees it.

    Rows a unit of work writes are left to this process's relay for `lease` (no other relay's sweep claims
    them meanwhile), and handed to it right after the commit: it publishes them without claiming them from
    the table. If the process dies first, the lease runs out and any relay's sweep publishes them.
    """

    @property
    def lease(self) -> timedelta: ...

    def dispatch(self, events: Sequence[OutgoingEvent]) -> None: ...


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        # BIGINT on PostgreSQL; SQLite only autoincrements an INTEGER PRIMARY KEY.
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("state", String(16), nullable=False, default=OutboxState.PENDING.value),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime),
        Column("attempts", Integer, nullable=False, default=0),
        # Not before this time: a row the broker did not confirm waits out its own backoff.
        Column("available_at", UtcDateTime, nullable=False),
        Column("last_error", Text),
        Column("correlation_id", Uuid),  # also sent as the AMQP `correlation_id` property
        Index("ix_outbox_pending", "state", "id"),
    )


@functools.cache
def _insert_into(outbox: Table) -> Insert:
    """Built once per table: the statement is the same for every event, only its parameters change."""
    return insert(outbox)


async def add_to_outbox(
    connection: AsyncConnection, outbox: Table, envelope: Envelope[EventPayload], *, lease: timedelta | None = None
) -> OutgoingEvent:
    """Stage an event in the caller's open transaction; it is published only if that transaction commits.

    With a `lease`, the row is not due to any relay's sweep before it runs out (see `Dispatcher`).
    """
    now = datetime.now(UTC)
    event = OutgoingEvent(
        envelope.id,
        envelope.type,
        envelope.model_dump_json(serialize_as_any=True).encode(),  # the payload subclass, not the base
        envelope.correlationid,
    )
    await connection.execute(
        _insert_into(outbox),
        {
            "event_id": event.event_id,
            "event_type": event.event_type,
            "body": event.body,
            "state": OutboxState.PENDING.value,
            "created_at": now,
            "available_at": now + lease if lease else now,
            "attempts": 0,
            "correlation_id": event.correlation_id,
        },
    )
    return event
