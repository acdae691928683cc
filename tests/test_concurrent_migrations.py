"""Replicas of a service start together on one PostgreSQL database: each migrates it, and all must come up."""

import asyncio
import importlib
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from medic.shared.db import create_engine
from tests.infra import fresh_database_url

pytestmark = pytest.mark.integration

REPLICAS = 3
# Processes, as replicas are: Alembic's `context` is one global per process, so threads cannot stand in for them.
MIGRATE = "import asyncio, sys; from medic.shared.db import migrate; asyncio.run(migrate(*sys.argv[1:]))"


@pytest.mark.parametrize("service", ["projects", "outreach", "notifications"])
async def test_replicas_migrating_one_new_database_together_all_succeed(service: str, tmp_path: Path) -> None:
    migrations: Path = importlib.import_module(f"medic.{service}.bootstrap").MIGRATIONS
    async with fresh_database_url("postgresql", tmp_path, service) as url:
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", MIGRATE, str(migrations), url, stderr=asyncio.subprocess.PIPE
            )
            for _ in range(REPLICAS)
        ]
        # Without the migration lock, all but one fail creating tables another has just created.
        outcomes = await asyncio.gather(*(process.communicate() for process in processes))
        failures = [
            stderr.decode()[-2000:]
            for process, (_, stderr) in zip(processes, outcomes, strict=True)
            if process.returncode
        ]
        assert not failures, failures[0]
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        finally:
            await engine.dispose()
    assert len(versions) == 1
