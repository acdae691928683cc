"""Use cases that other areas call inside their own transaction (a guard, an erasure) and routes call alone."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from medic.outreach.adapters.uow import OutreachUnitOfWork


@asynccontextmanager
async def joined(uow: OutreachUnitOfWork) -> AsyncIterator[bool]:
    """The caller's open unit of work (yields False: the caller commits), or one of our own (yields True: commit it
    inside the block to keep a change; otherwise it is rolled back)."""
    try:
        uow.connection  # noqa: B018 - raises when the unit of work is not open
    except RuntimeError:
        async with uow:
            yield True
        return
    yield False
