"""SQLite engines, and the shared migration matching the outbox and inbox tables the code uses."""

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from medic.shared.db import create_engine, ping, service_engine
from medic.shared.inbox import inbox_table
from medic.shared.migrations import create_messaging_tables_v1, drop_messaging_tables_v1, upgrade_messaging_tables_v2
from medic.shared.outbox import outbox_table
from medic.shared.settings import ServiceSettings


async def test_sqlite_engine_creates_its_directory_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "service.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await ping(engine)
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            foreign_keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
        assert path.parent.is_dir()
        assert journal == "wal"
        assert foreign_keys == 1
        assert engine.dialect.name == "sqlite"
    finally:
        await engine.dispose()


def _schema(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], bool(c.get("primary_key")))
                    for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)),
                "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            }
            for table in sorted(inspector.get_table_names())
        }
    finally:
        engine.dispose()


def test_migrations_v1_then_v2_match_the_table_definitions(tmp_path: Path) -> None:
    from_code, from_migration = f"sqlite:///{tmp_path / 'code.db'}", f"sqlite:///{tmp_path / 'migration.db'}"

    metadata = sa.MetaData()
    outbox_table(metadata)
    inbox_table(metadata)
    engine = sa.create_engine(from_code)
    metadata.create_all(engine)
    engine.dispose()

    engine = sa.create_engine(from_migration)
    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        create_messaging_tables_v1(outbox=True, inbox=True)
        upgrade_messaging_tables_v2(outbox=True, inbox=True)
    engine.dispose()

    expected = _schema(from_code)
    assert set(expected) == {"outbox", "inbox"}
    assert _schema(from_migration) == expected


def test_migration_v1_creates_only_what_is_asked_and_drops_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        create_messaging_tables_v1(outbox=False, inbox=True)
    assert set(_schema(url)) == {"inbox"}
    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        drop_messaging_tables_v1(outbox=False, inbox=True)
    engine.dispose()
    assert _schema(url) == {}


async def test_a_services_pool_is_sized_by_its_settings() -> None:
    settings = ServiceSettings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        DATABASE_POOL_SIZE=3,
        DATABASE_MAX_OVERFLOW=2,
    )
    engine = service_engine(settings)
    try:
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow) == (3, 2)
    finally:
        await engine.dispose()
