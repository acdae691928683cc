"""The transactional outbox: events are rows written in the same transaction as the state change.

A row is `pending` until the relay has the broker's confirm for it, then `published`. The relay
(`relay.py`) is the only reader.
"""

import functools
from datetime import UTC, datetime
from enum import StrEnum

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


class OutboxState(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"


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
        Index("ix_outbox_pending", "state", "id"),
    )


@functools.cache
def _insert_into(outbox: Table) -> Insert:
    """Built once per table: the statement is the same for every event, only its parameters change."""
    return insert(outbox)


async def add_to_outbox(connection: AsyncConnection, outbox: Table, envelope: Envelope[EventPayload]) -> None:
    """Stage an event in the caller's open transaction; it is published only if that transaction commits."""
    now = datetime.now(UTC)
    await connection.execute(
        _insert_into(outbox),
        {
            "event_id": envelope.id,
            "event_type": envelope.type,
            "body": envelope.model_dump_json(serialize_as_any=True).encode(),  # the payload subclass, not the base
            "state": OutboxState.PENDING.value,
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        },
    )
