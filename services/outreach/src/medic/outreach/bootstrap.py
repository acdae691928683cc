"""Composition root of the outreach service."""

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from faststream.specification import AsyncAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.outreach.adapters import orm
from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.entrypoints.consumers import outreach_consumer
from medic.outreach.entrypoints.http import router
from medic.outreach.settings import OutreachSettings
from medic.shared.consumer import ConsumerBroker
from medic.shared.db import create_engine
from medic.shared.http import create_app
from medic.shared.runtime import readiness_checks, service_running

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class OutreachService:
    settings: OutreachSettings
    engine: AsyncEngine
    consumer: ConsumerBroker
    app: FastAPI


def build(settings: OutreachSettings | None = None) -> OutreachService:
    settings = settings or OutreachSettings()
    engine = create_engine(settings.database_url)

    def unit_of_work() -> OutreachUnitOfWork:
        return OutreachUnitOfWork(engine, outbox=orm.outbox, inbox=orm.inbox)

    consumer = ConsumerBroker(
        outreach_consumer(unit_of_work), settings, description="Partners registered by the projects service."
    )
    app = create_app(
        title="Outreach service",
        description="Primary-school health education, WATCCH, and outreach's view of community partners.",
        settings=settings,
        lifespan=lambda _: service_running(settings=settings, engine=engine, migrations=MIGRATIONS, consumer=consumer),
        asyncapi=AsyncAPI(consumer.broker, title="outreach service events", version="0.1.0"),
        readiness=readiness_checks(settings, engine),
    )
    app.state.uow_factory = unit_of_work
    app.include_router(router)
    return OutreachService(settings=settings, engine=engine, consumer=consumer, app=app)
