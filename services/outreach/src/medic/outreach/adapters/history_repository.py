"""Reading and appending the append-only history (domain/history.py); deleting or stripping it is for erasure only."""

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.outreach.adapters.orm_history import record_history, record_streams
from medic.outreach.domain.history import HistoryEvent, Stream


def _event(row: Row[Any]) -> HistoryEvent:
    return HistoryEvent(
        seq=row.seq,
        event_id=row.event_id,
        stream=Stream(row.stream),
        subject_id=row.subject_id,
        type=row.type,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        data=row.data,
    )


class HistoryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def lock(self, stream: Stream, subject_id: str, *, now: datetime) -> int:
        """Hold the subject's stream until the transaction ends (PostgreSQL row lock; SQLite's write lock), so a
        guard reading the history and a change appending to it cannot interleave. Returns the stream's version."""
        insert_ = pg_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert_(record_streams)
            .values(stream=stream.value, subject_id=subject_id, version=0, updated_at=now)
            .on_conflict_do_update(index_elements=["stream", "subject_id"], set_={"version": record_streams.c.version})
            .returning(record_streams.c.version)
        )
        version: int = (await self._connection.execute(statement)).scalar_one()
        return version

    async def append(
        self,
        stream: Stream,
        subject_id: str,
        type_: str,
        data: Mapping[str, Any],
        *,
        recorded_at: datetime,
        recorded_by: str,
    ) -> HistoryEvent:
        """Add one event to the subject's stream (locking it first)."""
        await self.lock(stream, subject_id, now=recorded_at)
        event_id = uuid.uuid4()
        seq = (
            await self._connection.execute(
                insert(record_history)
                .values(
                    event_id=event_id,
                    stream=stream.value,
                    subject_id=subject_id,
                    type=type_,
                    data=dict(data),
                    recorded_at=recorded_at,
                    recorded_by=recorded_by,
                )
                .returning(record_history.c.seq)
            )
        ).scalar_one()
        c = record_streams.c
        await self._connection.execute(
            update(record_streams)
            .where((c.stream == stream.value) & (c.subject_id == subject_id))
            .values(version=c.version + 1, updated_at=recorded_at)
        )
        return HistoryEvent(
            seq=seq,
            event_id=event_id,
            stream=stream,
            subject_id=subject_id,
            type=type_,
            recorded_at=recorded_at,
            recorded_by=recorded_by,
            data=dict(data),
        )

    async def events(self, stream: Stream, subject_id: str, *, known_at: datetime | None = None) -> list[HistoryEvent]:
        """The subject's events in the order recorded; with `known_at`, only those recorded by then."""
        c = record_history.c
        query = select(record_history).where((c.stream == stream.value) & (c.subject_id == subject_id))
        if known_at is not None:
            query = query.where(c.recorded_at <= known_at)
        return [_event(row) for row in await self._connection.execute(query.order_by(c.seq))]

    async def all_events(self, stream: Stream, *, known_at: datetime | None = None) -> dict[str, list[HistoryEvent]]:
        """Every subject's events in the stream, by subject, each in the order recorded (reports and timers)."""
        c = record_history.c
        query = select(record_history).where(c.stream == stream.value)
        if known_at is not None:
            query = query.where(c.recorded_at <= known_at)
        by_subject: dict[str, list[HistoryEvent]] = {}
        for row in await self._connection.execute(query.order_by(c.subject_id, c.seq)):
            by_subject.setdefault(row.subject_id, []).append(_event(row))
        return by_subject

    async def subjects(self, stream: Stream) -> list[str]:
        """Every subject with a history in the stream."""
        c = record_streams.c
        query = select(c.subject_id).where(c.stream == stream.value).order_by(c.subject_id)
        return list((await self._connection.execute(query)).scalars())

    async def count(self, stream: Stream, subject_id: str) -> int:
        c = record_history.c
        query = select(func.count()).where((c.stream == stream.value) & (c.subject_id == subject_id))
        return int((await self._connection.execute(query)).scalar_one())

    # Erasure only: the one way events leave the history, or change.

    async def erase(self, stream: Stream, subject_id: str) -> int:
        """Delete the subject's whole history and its stream row; returns how many events went."""
        c = record_history.c
        deleted = await self._connection.execute(
            delete(record_history).where((c.stream == stream.value) & (c.subject_id == subject_id))
        )
        s = record_streams.c
        await self._connection.execute(
            delete(record_streams).where((s.stream == stream.value) & (s.subject_id == subject_id))
        )
        return deleted.rowcount

    async def strip(
        self, stream: Stream, subject_id: str, keep: Callable[[HistoryEvent], Mapping[str, Any] | None]
    ) -> Sequence[HistoryEvent]:
        """Replace each of the subject's events' data by `keep(event)`, or delete the event where that is None.
        Returns the events as kept."""
        kept = []
        for event in await self.events(stream, subject_id):
            data = keep(event)
            c = record_history.c
            if data is None:
                await self._connection.execute(delete(record_history).where(c.seq == event.seq))
                continue
            await self._connection.execute(update(record_history).where(c.seq == event.seq).values(data=dict(data)))
            kept.append(
                HistoryEvent(
                    seq=event.seq,
                    event_id=event.event_id,
                    stream=event.stream,
                    subject_id=event.subject_id,
                    type=event.type,
                    recorded_at=event.recorded_at,
                    recorded_by=event.recorded_by,
                    data=dict(data),
                )
            )
        return kept
