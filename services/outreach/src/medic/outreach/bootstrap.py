"""Composition root of the outreach service: the one place that wires database, relay, broker and HTTP."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.outreach.adapters import orm
from medic.outreach.adapters.uow import OutreachUnitOfWork
from medic.outreach.domain.consent import ConsentPolicy
from medic.outreach.domain.policies import MentoringPolicy, Policies
from medic.outreach.domain.retention import RetentionPolicy
from medic.outreach.entrypoints import http
from medic.outreach.entrypoints.consumers import outreach_consumer
from medic.outreach.service_layer.area_indicators import load_at_startup
from medic.outreach.service_layer.consent_timers import ConsentExpiryScheduler
from medic.outreach.service_layer.mentoring_timers import MentoringRecheckScheduler
from medic.outreach.service_layer.retention_timers import RetentionSweep
from medic.outreach.service_layer.safeguarding_timers import SafeguardingTimers
from medic.outreach.service_layer.watcch_timers import OfferExpiryScheduler
from medic.outreach.settings import OutreachSettings
from medic.shared.asyncapi import asyncapi_document
from medic.shared.consumer_broker import ConsumerBroker
from medic.shared.contracts import outreach as contracts
from medic.shared.db import service_engine
from medic.shared.http import create_app
from medic.shared.publisher import RabbitEventPublisher
from medic.shared.relay import OutboxRelay
from medic.shared.runtime import readiness_checks, service_running
from medic.shared.topology import Topology

MIGRATIONS = Path(__file__).parent / "migrations"
# What the handlers publish (through the outbox relay), for the AsyncAPI document.
PUBLISHES = contracts.PUBLISHED
DESCRIPTION = "Primary-school health education, WATCCH, and outreach's view of community partners."


@dataclass
class OutreachService:
    settings: OutreachSettings
    engine: AsyncEngine
    relay: OutboxRelay
    consumer: ConsumerBroker
    app: FastAPI
    offer_expiry: OfferExpiryScheduler
    consent_expiry: ConsentExpiryScheduler
    retention_sweep: RetentionSweep
    safeguarding_timers: SafeguardingTimers
    mentoring_recheck: MentoringRecheckScheduler


@asynccontextmanager
async def with_startup_lookups(
    running: AbstractAsyncContextManager[None],
    settings: OutreachSettings,
    unit_of_work: Callable[[], OutreachUnitOfWork],
) -> AsyncIterator[None]:
    """The service running, and a fresh database loaded with the lookup editions `settings.lookups_dir` lists."""
    async with running:
        if settings.load_lookups_at_startup:
            await load_at_startup(unit_of_work, settings.lookups_dir)
        yield


def build(settings: OutreachSettings | None = None, *, start_consumer: bool = True) -> OutreachService:
    """`start_consumer=False` runs the app without the broker (tests read the outbox, or hand envelopes to the
    consumer): every app started against the shared broker leaves its namespace's queues behind."""
    settings = settings or OutreachSettings()
    engine = service_engine(settings)
    relay = OutboxRelay(
        engine,
        orm.outbox,
        RabbitEventPublisher(
            settings.rabbitmq_urls, Topology(settings.broker_namespace), timeout_s=settings.publish_timeout_s
        ),
        batch_size=settings.outbox_batch_size,
        sweep_interval_s=settings.outbox_sweep_interval_s,
        max_backoff_s=settings.outbox_max_backoff_s,
        batch_wait_s=settings.outbox_batch_wait_ms / 1000,
        lease_s=2 * settings.publish_timeout_s,  # a claimed row is not claimed again before its confirm is due
        retention=timedelta(hours=settings.outbox_retention_hours),
    )

    policies = Policies(
        consent=ConsentPolicy(settings.consent_guardian_age, settings.consent_expiry_reminder_days),
        mentoring=MentoringPolicy(contact=settings.mentoring_contact_kind.value),
        zone=settings.primary_timezone,
    )

    def unit_of_work() -> OutreachUnitOfWork:
        return OutreachUnitOfWork(engine, outbox=orm.outbox, inbox=orm.inbox, relay=relay, policies=policies)

    consumer = ConsumerBroker(outreach_consumer(unit_of_work), settings)
    offer_expiry = OfferExpiryScheduler(unit_of_work, interval_s=settings.watcch_offer_expiry_interval_s)
    consent_expiry = ConsentExpiryScheduler(
        unit_of_work,
        interval_s=settings.consent_expiry_interval_s,
        zone=ZoneInfo(settings.primary_timezone),
        policy=policies.consent,
    )
    retention_policy = RetentionPolicy(
        participant_years=settings.retention_participant_years,
        safeguarding_months=settings.retention_safeguarding_months,
        min_review_days=settings.retention_min_review_days,
    )
    safeguarding_timers = SafeguardingTimers(
        unit_of_work,
        interval_s=settings.safeguarding_timers_interval_s,
        zone=ZoneInfo(settings.primary_timezone),
    )
    mentoring_recheck = MentoringRecheckScheduler(unit_of_work, interval_s=settings.mentoring_recheck_interval_s)
    retention_sweep = RetentionSweep(
        unit_of_work,
        retention_policy,
        interval_s=settings.retention_sweep_interval_s,
        zone=ZoneInfo(settings.primary_timezone),
    )
    app = create_app(
        title="Outreach service",
        description=DESCRIPTION,
        settings=settings,
        lifespan=lambda _: with_startup_lookups(
            service_running(
                settings=settings,
                engine=engine,
                migrations=MIGRATIONS,
                relay=relay,
                consumer=consumer if start_consumer else None,
                background=[offer_expiry, consent_expiry, retention_sweep, safeguarding_timers, mentoring_recheck],
            ),
            settings,
            unit_of_work,
        ),
        asyncapi=asyncapi_document(settings, description=DESCRIPTION, publishes=PUBLISHES, consumer=consumer.consumer),
        readiness=readiness_checks(settings, engine),
    )
    app.state.uow_factory = unit_of_work
    app.state.watcch_settings = settings
    app.state.lookups_dir = settings.lookups_dir
    app.state.settings = settings
    app.state.retention_policy = retention_policy
    app.state.clock = lambda: datetime.now(UTC)  # tests move it (the as-of history, timers)
    http.install(app)
    return OutreachService(
        settings=settings,
        engine=engine,
        relay=relay,
        consumer=consumer,
        app=app,
        offer_expiry=offer_expiry,
        consent_expiry=consent_expiry,
        retention_sweep=retention_sweep,
        safeguarding_timers=safeguarding_timers,
        mentoring_recheck=mentoring_recheck,
    )
