"""Migration 0004 on both backends: a partner's `contact_email` becomes its primary contact, and goes back on downgrade;
the migrated schema is the one the tables in `orm_partners` describe."""

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from medic.projects.adapters import orm
from medic.projects.bootstrap import MIGRATIONS
from medic.shared.db import alembic_config, create_engine
from services.projects.tests.test_partner_support import BACKENDS, database_url


async def alembic(url: str, verb: str, revision: str) -> None:
    await asyncio.to_thread(getattr(command, verb), alembic_config(MIGRATIONS, url), revision)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_contact_email_moves_to_a_primary_contact_and_back(backend: str, tmp_path: Path) -> None:
    async with database_url(backend, tmp_path) as url:
        await alembic(url, "upgrade", "0003")
        engine = create_engine(url)
        partner_id = uuid.uuid4()
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    sa.text(
                        "INSERT INTO partners (id, name, name_key, kind, contact_email, areas_of_work, registered_at) "
                        "VALUES (:id, 'Old Trust', 'old trust', 'charity', 'old@trust.example', '[]', :at)"
                    ).bindparams(sa.bindparam("id", type_=sa.Uuid()), sa.bindparam("at", type_=sa.DateTime(True))),
                    {"id": partner_id, "at": datetime(2026, 1, 1, tzinfo=UTC)},
                )
            await alembic(url, "upgrade", "head")

            async with engine.connect() as connection:
                contact = (await connection.execute(sa.select(orm.metadata.tables["partner_contacts"]))).one()
                partner = (await connection.execute(sa.select(orm.partners))).one()
                differences = await connection.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync, opts={"include_object": _partner_tables_only}), orm.metadata
                    )
                )
            assert (contact.partner_id, contact.email, contact.name, contact.is_primary) == (
                partner_id,
                "old@trust.example",
                None,
                True,
            )
            assert (partner.revision, partner.archived_at) == (1, None)
            assert differences == []

            await alembic(url, "downgrade", "0003")
            async with engine.connect() as connection:
                email = (await connection.execute(sa.text("SELECT contact_email FROM partners"))).scalar_one()
            assert email == "old@trust.example"
        finally:
            await engine.dispose()


PARTNER_TABLES = {"partners", "partner_contacts", "partner_agreements"}


def _partner_tables_only(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Compare only the partner tables: other areas keep their own tables in step."""
    table = name if type_ == "table" else getattr(getattr(item, "table", None), "name", None)
    return table in PARTNER_TABLES
