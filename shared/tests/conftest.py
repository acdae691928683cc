"""Fixtures for the shared library's unit tests: a SQLite file per test, no broker, no PostgreSQL."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.shared.db import create_engine
from medic.shared.inbox import inbox_table
from medic.shared.outbox import outbox_table


@dataclass(frozen=True)
class Tables:
    outbox: Table
    inbox: Table


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shared-test.db'}")
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def tables(engine: AsyncEngine) -> Tables:
    metadata = MetaData()
    outbox, inbox = outbox_table(metadata), inbox_table(metadata)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return Tables(outbox=outbox, inbox=inbox)
