from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.notifications.adapters.orm import event_log
from medic.notifications.domain.model import EventLogQuery, LoggedEvent, as_utc

EVENT_LOG_APPEND_LOCK = 0x6D656469636C6F67  # any fixed 64-bit key, the same in every process


class EventLogRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, event: LoggedEvent) -> bool:
        """Append an event; False if its id is already in the log (nothing is written then)."""
        postgresql = self._connection.dialect.name == "postgresql"
        if postgresql:
            # Concurrent consumers would otherwise commit `seq` values out of order, and a reader paging by
            # `seq` could pass one that commits a moment later. Held to commit, this lock makes commit
            # order `seq` order. (SQLite has a single writer already.)
            await self._connection.execute(select(func.pg_advisory_xact_lock(EVENT_LOG_APPEND_LOCK)))
        insert = pg_insert if postgresql else sqlite_insert
        statement = (
            insert(event_log)
            .values(
                event_id=event.id,
                type=event.type,
                source=event.source,
                subject=event.subject,
                # UTC everywhere: SQLite keeps the wall-clock text only, and compares `since`/`until` with it.
                time=as_utc(event.time),
                correlation_id=event.correlation_id,
                causation_id=event.causation_id,
                data=event.data,
                received_at=as_utc(event.received_at),
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        result = await self._connection.execute(statement)
        return result.rowcount == 1

    async def find(self, query: EventLogQuery, *, limit: int) -> Sequence[LoggedEvent]:
        """Up to `limit` events matching `query`, in the order received, after `query.after` if set."""
        c = event_log.c
        statement = select(event_log).order_by(c.seq).limit(limit)
        if query.filter.type is not None:
            statement = statement.where(c.type == query.filter.type)
        if query.filter.source is not None:
            statement = statement.where(c.source == query.filter.source)
        if query.filter.subject is not None:
            statement = statement.where(c.subject == query.filter.subject)
        if query.correlation_id is not None:
            statement = statement.where(c.correlation_id == query.correlation_id)
        if query.since is not None:
            statement = statement.where(c.time >= as_utc(query.since))
        if query.until is not None:
            statement = statement.where(c.time < as_utc(query.until))
        if query.after is not None:
            statement = statement.where(c.seq > query.after.seq)
        return [_to_event(row._mapping) for row in await self._connection.execute(statement)]


def _to_event(row: Any) -> LoggedEvent:
    return LoggedEvent(
        id=row["event_id"],
        type=row["type"],
        source=row["source"],
        subject=row["subject"],
        time=as_utc(row["time"]),
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        received_at=as_utc(row["received_at"]),
        data=row["data"],
        seq=row["seq"],
    )
