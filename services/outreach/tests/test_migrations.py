"""The migrations build exactly the schema the adapters' tables describe, on both backends, and go back down."""

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from medic.outreach.adapters import orm
from medic.outreach.bootstrap import MIGRATIONS
from medic.shared.db import alembic_config, create_engine
from services.outreach.tests.school_support import BACKENDS, database_url


async def alembic(url: str, verb: str, revision: str) -> None:
    await asyncio.to_thread(getattr(command, verb), alembic_config(MIGRATIONS, url), revision)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_migrated_schema_is_the_one_the_tables_describe(backend: str, tmp_path: Path) -> None:
    async with database_url(backend, tmp_path) as url:
        await alembic(url, "upgrade", "head")
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                differences = await connection.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), orm.metadata)
                )
            assert differences == []
            await alembic(url, "downgrade", "base")
            await alembic(url, "upgrade", "head")  # and up again: every downgrade undoes its upgrade
        finally:
            await engine.dispose()
