"""The unit of work: one database transaction around a handler, with the outbox and inbox inside it."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from medic.shared.events import Envelope, EventPayload
from medic.shared.inbox import purge_inbox, record_in_inbox
from medic.shared.outbox import Dispatcher, add_to_outbox
from medic.shared.publisher import OutgoingEvent


class UnitOfWork:
    """Subclasses add the service's repositories in `_open_repositories`."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        outbox: Table | None = None,
        inbox: Table | None = None,
        relay: Dispatcher | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._inbox = inbox
        self._relay = relay  # handed the events after the commit; without one, the rows wait for a sweep
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self._staged: list[OutgoingEvent] = []

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
        self._staged = []
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
        lease = self._relay.lease if self._relay is not None else None
        self._staged.append(await add_to_outbox(self.connection, self._outbox, envelope, lease=lease))

    async def first_deliveries(self, *, consumer: str, events: Sequence[tuple[uuid.UUID, str]]) -> set[uuid.UUID]:
        """Record (event id, event type) pairs in the inbox; returns the ids this consumer has not handled yet."""
        return await record_in_inbox(self.connection, self._require_inbox(), consumer=consumer, events=events)

    async def forget_deliveries(self, *, consumer: str, before: datetime) -> int:
        """Delete this consumer's inbox rows received before `before` (retention); returns how many."""
        return await purge_inbox(self.connection, self._require_inbox(), consumer=consumer, before=before)

    def _require_inbox(self) -> Table:
        if self._inbox is None:
            raise RuntimeError("this unit of work has no inbox")
        return self._inbox

    async def commit(self) -> None:
        if self._transaction is None:
            raise RuntimeError("the unit of work is not open")
        await self._transaction.commit()
        staged, self._staged = self._staged, []
        if staged and self._relay is not None:
            self._relay.dispatch(staged)

    async def rollback(self) -> None:
        self._staged = []
        if self._transaction is not None and self._transaction.is_active:
            await self._transaction.rollback()
