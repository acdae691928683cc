"""Composition root of the projects service: the one place that wires database, relay, broker and HTTP."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.projects.adapters import orm
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.entrypoints.http import router
from medic.projects.settings import ProjectsSettings
from medic.shared.contracts.projects import PartnerRegisteredV1
from medic.shared.db import create_engine
from medic.shared.events import Envelope
from medic.shared.http import create_app
from medic.shared.publisher import RabbitEventPublisher
from medic.shared.relay import OutboxRelay
from medic.shared.runtime import readiness_checks, service_running
from medic.shared.topology import Topology

MIGRATIONS = Path(__file__).parent / "migrations"


def event_catalogue(settings: ProjectsSettings, topology: Topology) -> AsyncAPI:
    """AsyncAPI of what this service publishes. The outbox relay does the publishing; this describes it."""
    broker = RabbitBroker(settings.rabbitmq_url)
    broker.publisher(
        exchange=topology.events_exchange,
        routing_key=PartnerRegisteredV1.event_type,
        schema=Envelope[PartnerRegisteredV1],
        persist=True,
        title=PartnerRegisteredV1.event_type,
        description=PartnerRegisteredV1.__doc__,
    )
    return AsyncAPI(broker, title="projects service events", version="0.1.0")


@dataclass
class ProjectsService:
    settings: ProjectsSettings
    engine: AsyncEngine
    relay: OutboxRelay
    app: FastAPI

    def unit_of_work(self) -> ProjectsUnitOfWork:
        return ProjectsUnitOfWork(self.engine, outbox=orm.outbox, inbox=orm.inbox, after_commit=self.relay.wake)


def build(settings: ProjectsSettings | None = None) -> ProjectsService:
    settings = settings or ProjectsSettings()
    topology = Topology(settings.broker_namespace)
    engine = create_engine(settings.database_url)
    relay = OutboxRelay(
        engine,
        orm.outbox,
        RabbitEventPublisher(settings.rabbitmq_url, topology, timeout_s=settings.publish_timeout_s),
        batch_size=settings.outbox_batch_size,
        sweep_interval_s=settings.outbox_sweep_interval_s,
        max_backoff_s=settings.outbox_max_backoff_s,
        retention=timedelta(hours=settings.outbox_retention_hours),
    )
    app = create_app(
        title="Projects service",
        description="Community Action Projects and their community partners.",
        settings=settings,
        lifespan=lambda _: service_running(settings=settings, engine=engine, migrations=MIGRATIONS, relay=relay),
        asyncapi=event_catalogue(settings, topology),
        readiness=readiness_checks(settings, engine),
    )
    service = ProjectsService(settings=settings, engine=engine, relay=relay, app=app)
    app.state.uow_factory = service.unit_of_work
    app.include_router(router)
    return service
