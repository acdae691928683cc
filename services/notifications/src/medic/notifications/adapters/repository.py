from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.notifications.adapters.orm import event_log
from medic.notifications.domain.model import EventLogQuery, LoggedEvent, as_utc
from medic.shared.db import lock_until_commit

EVENT_LOG_APPEND_LOCK = 0x6D656469636C6F67  # any fixed 64-bit key, the same in every process


class EventLogRepository:
    def __init__(self, connection: AsyncConnection, *, on_added: Callable[[], None] = lambda: None) -> None:
        self._connection = connection
        self._on_added = on_added  # e.g. wake the live tail's log follower once this transaction commits

    async def add(self, event: LoggedEvent) -> bool:
        """Append an event; False if its id is already in the log (nothing is written then)."""
        postgresql = self._connection.dialect.name == "postgresql"
        # Concurrent consumers would otherwise commit `seq` values out of order, and a reader paging by `seq` could
        # pass one that commits a moment later. Held to commit, this lock makes commit order `seq` order.
        await lock_until_commit(self._connection, EVENT_LOG_APPEND_LOCK)
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
        added = (await self._connection.execute(statement)).rowcount == 1
        if added:
            self._on_added()
        return added

    async def newest_seq(self) -> int:
        """The position of the newest entry (0 when the log is empty): where a tail starting now begins."""
        newest = (await self._connection.execute(select(func.max(event_log.c.seq)))).scalar()
        return int(newest or 0)

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

    # Erasure: entries about an erased participant or person go; the erasure events themselves stay as the proof.

    async def erased_among(self, erasure_types: Collection[str], subjects: Collection[str]) -> set[str]:
        """Which of `subjects` (e.g. `participants/<id>`) an erasure event in the log names."""
        if not subjects:
            return set()
        c = event_log.c
        query = select(c.subject).where(c.type.in_(list(erasure_types)) & c.subject.in_(list(subjects)))
        return {s for s in (await self._connection.execute(query)).scalars() if s is not None}

    async def forget(self, subject_id: str, *, keep_types: Collection[str]) -> int:
        """Delete every entry naming `subject_id` as a segment of its subject or a value anywhere in its data, except
        those of `keep_types`; returns how many went. Text search finds the candidates, an exact match decides."""
        c = event_log.c
        candidates = select(c.seq, c.subject, c.data).where(
            c.type.not_in(list(keep_types))
            & or_(
                c.subject.contains(subject_id, autoescape=True),
                cast(c.data, Text).contains(subject_id, autoescape=True),
            )
        )
        doomed = [
            row.seq for row in await self._connection.execute(candidates) if names(row.subject, row.data, subject_id)
        ]
        for start in range(0, len(doomed), 500):
            await self._connection.execute(delete(event_log).where(c.seq.in_(doomed[start : start + 500])))
        return len(doomed)


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


def names(subject: str | None, data: Any, subject_id: str) -> bool:
    """Whether an entry names `subject_id`: a segment of its subject, or a value (or key) anywhere in its data."""
    if subject is not None and subject_id in subject.split("/"):
        return True
    return subject_id in strings(data)


def strings(value: Any) -> set[str]:
    """Every string in a JSON value, keys included, at any depth."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {k for k in value if isinstance(k, str)} | {s for v in value.values() for s in strings(v)}
    if isinstance(value, list | tuple):
        return {s for v in value for s in strings(v)}
    return set()
