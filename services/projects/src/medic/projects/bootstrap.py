"""Composition root of the projects service: the one place that wires database, relay, broker and HTTP."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.projects.adapters import orm
from medic.projects.adapters.uow import ProjectsUnitOfWork
from medic.projects.entrypoints import http
from medic.projects.service_layer.reminders import ReminderScheduler
from medic.projects.settings import ProjectsSettings
from medic.shared.asyncapi import asyncapi_document
from medic.shared.contracts import projects as contracts
from medic.shared.db import service_engine
from medic.shared.http import create_app
from medic.shared.publisher import RabbitEventPublisher
from medic.shared.relay import OutboxRelay
from medic.shared.runtime import readiness_checks, service_running
from medic.shared.topology import Topology

MIGRATIONS = Path(__file__).parent / "migrations"
# What the handlers publish (through the outbox relay), for the AsyncAPI document.
PUBLISHES = contracts.PUBLISHED
DESCRIPTION = "Community Action Projects and their community partners."


@dataclass
class ProjectsService:
    settings: ProjectsSettings
    engine: AsyncEngine
    relay: OutboxRelay
    app: FastAPI
    reminders: ReminderScheduler

    def unit_of_work(self) -> ProjectsUnitOfWork:
        return ProjectsUnitOfWork(self.engine, outbox=orm.outbox, inbox=orm.inbox, relay=self.relay)


def build(settings: ProjectsSettings | None = None) -> ProjectsService:
    settings = settings or ProjectsSettings()
    topology = Topology(settings.broker_namespace)
    engine = service_engine(settings)
    relay = OutboxRelay(
        engine,
        orm.outbox,
        RabbitEventPublisher(settings.rabbitmq_urls, topology, timeout_s=settings.publish_timeout_s),
        batch_size=settings.outbox_batch_size,
        sweep_interval_s=settings.outbox_sweep_interval_s,
        max_backoff_s=settings.outbox_max_backoff_s,
        batch_wait_s=settings.outbox_batch_wait_ms / 1000,
        lease_s=2 * settings.publish_timeout_s,  # a claimed row is not claimed again before its confirm is due
        retention=timedelta(hours=settings.outbox_retention_hours),
        personal_types={payload.event_type for payload in PUBLISHES if payload.personal_data},
    )
    # Started with the app: reads the unit of work through `service`, which exists by then.
    reminders = ReminderScheduler(lambda: service.unit_of_work(), interval_s=settings.reminder_interval_s)
    app = create_app(
        title="Projects service",
        description=DESCRIPTION,
        settings=settings,
        lifespan=lambda _: service_running(
            settings=settings, engine=engine, migrations=MIGRATIONS, relay=relay, background=[reminders]
        ),
        asyncapi=asyncapi_document(settings, description=DESCRIPTION, publishes=PUBLISHES),
        readiness=readiness_checks(settings, engine),
    )
    service = ProjectsService(settings=settings, engine=engine, relay=relay, app=app, reminders=reminders)
    app.state.uow_factory = service.unit_of_work
    app.state.settings = settings  # routes read defaults from it (e.g. a cohort's group sizes)
    http.install(app)
    return service
