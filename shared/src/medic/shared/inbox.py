"""The inbox: a consumer records each event id in the same transaction as its own writes.

A redelivered event finds its id already there and changes nothing. Rows outlive any redelivery or retry
window by far (`INBOX_RETENTION_DAYS`), then a periodic sweep deletes them.
"""

import functools
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Index, MetaData, PrimaryKeyConstraint, String, Table, Uuid, delete, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.expression import TextualSelect, bindparam

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
        Index("ix_inbox_received_at", "received_at"),  # for the retention sweep
    )


async def record_in_inbox(
    connection: AsyncConnection, inbox: Table, *, consumer: str, events: Sequence[tuple[uuid.UUID, str]]
) -> set[uuid.UUID]:
    """Insert a (consumer, event id) row per event in one statement; returns the ids that were new.

    An id already there (a redelivery) or repeated in `events` is returned at most once, and only if this
    insert was the first: `INSERT ... ON CONFLICT DO NOTHING RETURNING event_id`.
    """
    if not events:
        return set()
    now = datetime.now(UTC)
    unique = dict(events)
    if len(unique) == 1:  # most batches when traffic is light: the plainest statement, prepared once
        ((event_id, event_type),) = unique.items()
        row = {"consumer": consumer, "event_id": event_id, "event_type": event_type, "received_at": now}
        return set((await connection.execute(_record_one(inbox, connection.dialect.name), row)).scalars())
    if connection.dialect.name == "postgresql":
        # One statement whatever the batch size, prepared once: the ids and types travel as two arrays.
        parameters = {"consumer": consumer, "ids": list(unique), "types": list(unique.values()), "now": now}
        return set((await connection.execute(_record_batch_on_postgresql(inbox), parameters)).scalars())
    rows = [
        {"consumer": consumer, "event_id": event_id, "event_type": event_type, "received_at": now}
        for event_id, event_type in unique.items()
    ]
    statement = (
        sqlite_insert(inbox)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(inbox.c.event_id)
    )
    return set((await connection.execute(statement)).scalars())


@functools.cache
def _record_one(inbox: Table, dialect: str) -> ReturningInsert[tuple[Any]]:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(inbox).on_conflict_do_nothing(index_elements=["consumer", "event_id"]).returning(inbox.c.event_id)


@functools.cache
def _record_batch_on_postgresql(inbox: Table) -> TextualSelect:
    return (
        text(
            f"INSERT INTO {inbox.name} (consumer, event_id, event_type, received_at) "  # noqa: S608 - a table name
            "SELECT :consumer, batch.event_id, batch.event_type, :now "
            "FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS varchar[])) AS batch(event_id, event_type) "
            "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
        )
        .bindparams(
            bindparam("ids", type_=ARRAY(Uuid)),
            bindparam("types", type_=ARRAY(String)),
            bindparam("now", type_=UtcDateTime),
        )
        .columns(inbox.c.event_id)
    )


async def purge_inbox(connection: AsyncConnection, inbox: Table, *, consumer: str, before: datetime) -> int:
    """Delete this consumer's rows received before `before`; returns how many."""
    result = await connection.execute(delete(inbox).where(inbox.c.consumer == consumer, inbox.c.received_at < before))
    return int(result.rowcount)
