"""The inbox: a consumer records each event id in the same transaction as its own writes.

A redelivered event finds its id already there and changes nothing.
"""

import functools
import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, Uuid
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from medic.shared.db import UtcDateTime


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("received_at", UtcDateTime, nullable=False),
        PrimaryKeyConstraint("consumer", "event_id"),
    )


@functools.cache
def _record_once(inbox: Table, dialect: str) -> Insert:
    """Built once per table and dialect: `INSERT ... ON CONFLICT DO NOTHING` on the (consumer, event id) key."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(inbox).on_conflict_do_nothing(index_elements=["consumer", "event_id"])


async def record_in_inbox(
    connection: AsyncConnection, inbox: Table, *, consumer: str, event_id: uuid.UUID, event_type: str
) -> bool:
    """Insert the (consumer, event id) pair; False if it was already there, i.e. a duplicate."""
    result = await connection.execute(
        _record_once(inbox, connection.dialect.name),
        {"consumer": consumer, "event_id": event_id, "event_type": event_type, "received_at": datetime.now(UTC)},
    )
    return result.rowcount == 1
