"""Async SQLAlchemy engines and Alembic migrations: SQLite file by default, PostgreSQL when a URL is given."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from medic.shared.settings import ServiceSettings


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware on every backend.

    SQLite keeps only the wall-clock text, so without this an aware time comes back naive, and times
    written with different offsets would sort wrongly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_engine(url: str, *, pool_size: int = 20, max_overflow: int = 10, **kwargs: Any) -> AsyncEngine:
    """An engine with the settings each backend needs for a service's workload (the pool sizes: PostgreSQL only)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a database error's message must not carry the row's (personal) values into logs.
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            # WAL lets readers run beside the one writer; foreign keys are off by default in SQLite.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # No pool_pre_ping: it costs three round trips on every checkout, i.e. on every unit of work. A
    # connection that died anyway fails one operation and SQLAlchemy then discards the whole pool; the
    # relay and the consumers retry such failures by design.
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800, hide_parameters=True, **kwargs
    )


def service_engine(settings: ServiceSettings) -> AsyncEngine:
    """A service's engine, its pool sized by DATABASE_POOL_SIZE and DATABASE_MAX_OVERFLOW."""
    return create_engine(
        settings.database_url, pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow
    )


async def lock_until_commit(connection: AsyncConnection, key: int) -> None:
    """Wait for, then hold until this transaction ends, the PostgreSQL advisory lock `key` (any fixed 64-bit number
    naming one critical section, the same in every process): one replica at a time runs what follows. Nothing on
    SQLite, which has a single writer already."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def alembic_config(script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def migrate(script_location: Path, url: str) -> None:
    """Apply a service's migrations up to head (Alembic is synchronous: run it in a thread)."""
    await asyncio.to_thread(command.upgrade, alembic_config(script_location, url), "head")


def run_migrations_online(url: str, target_metadata: Any) -> None:
    """The body of every service's `migrations/env.py`: run the migrations over an async engine."""
    from alembic import context

    async def run() -> None:
        engine = create_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(_run_with_connection, target_metadata, context)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())


# Any fixed 64-bit key, the same in every process: replicas starting together migrate one at a time.
MIGRATION_LOCK = 0x6D65646963646462


def _run_with_connection(connection: Any, target_metadata: Any, context: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held to commit, before Alembic reads the current revision: the second replica then finds the
            # first one's work done instead of creating the same tables again. (SQLite has one writer.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()
