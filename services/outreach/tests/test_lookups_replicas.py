"""Two replicas starting together on one fresh database load the lookup samples once, neither failing its start."""

import asyncio
from pathlib import Path

from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from medic.outreach.adapters.orm_area_indicators import area_lookup_editions, postcode_areas
from medic.outreach.bootstrap import build
from medic.outreach.service_layer.area_indicators import load_at_startup, read_manifest
from medic.outreach.settings import SAMPLE_LOOKUPS, OutreachSettings
from services.outreach.tests.school_support import database_url


async def test_two_replicas_loading_the_samples_at_once_load_each_edition_once(tmp_path: Path) -> None:
    async with database_url("postgresql", tmp_path) as url:
        settings = OutreachSettings(
            OUTREACH_DATABASE_URL=url,
            OUTREACH_LOAD_LOOKUPS_AT_STARTUP=False,  # the test starts the two loads itself, at the same moment
            RABBITMQ_URL="amqp://guest:guest@127.0.0.1:1/",
        )
        service = build(settings, start_consumer=False)
        async with LifespanManager(service.app):
            uow_factory = service.app.state.uow_factory
            first, second = await asyncio.gather(
                load_at_startup(uow_factory, SAMPLE_LOOKUPS), load_at_startup(uow_factory, SAMPLE_LOOKUPS)
            )
            async with service.engine.connect() as connection:
                editions = (await connection.execute(select(func.count()).select_from(area_lookup_editions))).scalar()
                postcodes = (await connection.execute(select(func.count()).select_from(postcode_areas))).scalar()
    manifest = read_manifest(SAMPLE_LOOKUPS)
    assert editions == len(manifest)
    assert postcodes and postcodes > 0
    assert len(first) + len(second) >= len(manifest)
