"""The timers the scheduler has fired: a key each, so a timer fires once across restarts and replicas."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from medic.projects.adapters.orm_milestones import fired_timers

_ROWS_PER_STATEMENT = 500  # well inside SQLite's limit on bound parameters


@dataclass(frozen=True)
class Firing:
    key: str
    event_id: uuid.UUID
    event_type: str


class TimerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def fired_already(self, keys: Collection[str]) -> set[str]:
        """Which of these keys have fired (and committed) before."""
        if not keys:
            return set()
        query = select(fired_timers.c.key).where(fired_timers.c.key.in_(keys))
        return set((await self._connection.execute(query)).scalars())

    async def record(self, firings: Sequence[Firing], *, now: datetime) -> set[str]:
        """Record firings; returns the keys this transaction recorded first, the only ones whose events may go.

        `INSERT ... ON CONFLICT DO NOTHING`: where another transaction (another replica) has inserted a key and not
        yet committed, PostgreSQL waits for it, then inserts nothing if it committed. Keys go in sorted order, so two
        replicas inserting overlapping sets wait on each other in one direction only (no deadlock).
        """
        rows = [
            {"key": f.key, "event_id": f.event_id, "event_type": f.event_type, "fired_at": now}
            for f in sorted(firings, key=lambda f: f.key)
        ]
        insert = pg_insert if self._connection.dialect.name == "postgresql" else sqlite_insert
        recorded: set[str] = set()
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            statement = insert(fired_timers).values(chunk).on_conflict_do_nothing(index_elements=["key"])
            recorded.update((await self._connection.execute(statement.returning(fired_timers.c.key))).scalars())
        return recorded
