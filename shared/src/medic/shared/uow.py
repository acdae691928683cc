"""The unit of work: one database transaction around a handler, with the outbox and inbox inside it."""

import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from medic.shared.events import Envelope, EventPayload
from medic.shared.inbox import record_in_inbox
from medic.shared.outbox import add_to_outbox


class UnitOfWork:
    """Subclasses add the service's repositories in `_open_repositories`."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        outbox: Table | None = None,
        inbox: Table | None = None,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._inbox = inbox
        self._after_commit = after_commit
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self._events_staged = 0

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._connection

    def _open_repositories(self, connection: AsyncConnection) -> None:
        """Hook for subclasses."""

    async def __aenter__(self) -> Self:
        self._connection = await self._engine.connect()
        self._transaction = await self._connection.begin()
        self._events_staged = 0
        self._open_repositories(self._connection)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Anything not committed explicitly is rolled back, including on an exception.
        try:
            if self._transaction is not None and self._transaction.is_active:
                await self._transaction.rollback()
        finally:
            if self._connection is not None:
                await self._connection.close()
            self._connection = self._transaction = None

    async def publish(self, envelope: Envelope[EventPayload]) -> None:
        """Stage an event: it reaches the broker only if this unit of work commits."""
        if self._outbox is None:
            raise RuntimeError("this unit of work has no outbox")
        await add_to_outbox(self.connection, self._outbox, envelope)
        self._events_staged += 1

    async def first_delivery(self, *, consumer: str, event_id: uuid.UUID, event_type: str) -> bool:
        """Record the event in the inbox; False when this consumer has already handled it."""
        if self._inbox is None:
            raise RuntimeError("this unit of work has no inbox")
        return await record_in_inbox(
            self.connection, self._inbox, consumer=consumer, event_id=event_id, event_type=event_type
        )

    async def commit(self) -> None:
        if self._transaction is None:
            raise RuntimeError("the unit of work is not open")
        await self._transaction.commit()
        if self._events_staged and self._after_commit is not None:
            self._after_commit()
        self._events_staged = 0

    async def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            await self._transaction.rollback()
