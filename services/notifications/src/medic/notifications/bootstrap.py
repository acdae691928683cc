"""Composition root of the notifications service."""

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.notifications.adapters import orm
from medic.notifications.adapters.broadcaster import EventBroadcaster
from medic.notifications.adapters.mail_renderer import MailRenderer
from medic.notifications.adapters.mail_transport import transport_for
from medic.notifications.adapters.secret_box import SecretBox
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.adapters.webhook_sender import WebhookSender
from medic.notifications.domain.directory import coordinators_from
from medic.notifications.domain.email_catalogue import KINDS
from medic.notifications.domain.emails import unsubscribe_keys
from medic.notifications.entrypoints.consumers import Reaction, notifications_consumer
from medic.notifications.entrypoints.http import directory as directory_routes
from medic.notifications.entrypoints.http import (
    emails,
    events,
    school_links,
    webhook_catalogue,
    webhook_endpoints,
    webhook_operations,
)
from medic.notifications.service_layer import directory, email_rules, partner_events
from medic.notifications.service_layer.email_timers import WatcchOfferReminders
from medic.notifications.service_layer.emails import EmailLinks
from medic.notifications.service_layer.log_follower import BATCH_SIZE, LogFollower, UnitOfWorkLogReader
from medic.notifications.service_layer.mail_sender import MailSender
from medic.notifications.service_layer.webhook_dispatcher import WebhookDispatcher
from medic.notifications.service_layer.webhook_endpoints import EndpointPolicy, SecretsResealer
from medic.notifications.settings import NotificationsSettings
from medic.shared.asyncapi import asyncapi_document
from medic.shared.consumer_broker import ConsumerBroker
from medic.shared.db import service_engine
from medic.shared.http import create_app
from medic.shared.runtime import BackgroundTask, readiness_checks, service_running

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = "The ops event log of every domain event, and a live tail of it."

EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
OFFER_REMINDERS_INTERVAL_S = 60.0  # reminders go hours before an offer lapses: a minute late is on time


@dataclass
class NotificationsService:
    settings: NotificationsSettings
    engine: AsyncEngine
    consumer: ConsumerBroker
    broadcaster: EventBroadcaster
    app: FastAPI


@contextmanager
def streams_end_on_exit_signal(broadcaster: EventBroadcaster) -> Iterator[None]:
    """End the live streams as soon as the server is told to stop.

    uvicorn waits for open responses (up to its graceful timeout) before running the lifespan shutdown, so
    closing the broadcaster there alone would hold every stream open until then. This chains onto the
    server's own SIGINT/SIGTERM handlers for the life of the app, and restores them after.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous: dict[int, Callable[[int, FrameType | None], Any]] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(broadcaster.close)
        previous[signum](signum, frame)

    for exit_signal in EXIT_SIGNALS:
        current = signal.getsignal(exit_signal)
        if callable(current):  # somebody (the server) handles it: chain on; never replace a default action
            previous[exit_signal] = current
            signal.signal(exit_signal, handler)
    try:
        yield
    finally:
        for signum, original in previous.items():
            if signal.getsignal(signum) is handler:
                signal.signal(signum, original)


@asynccontextmanager
async def notifications_running(
    settings: NotificationsSettings,
    engine: AsyncEngine,
    broadcaster: EventBroadcaster,
    consumer: ConsumerBroker | None,
    background: Sequence[BackgroundTask] = (),
) -> AsyncIterator[None]:
    async with service_running(
        settings=settings, engine=engine, migrations=MIGRATIONS, consumer=consumer, background=background
    ):
        try:
            with streams_end_on_exit_signal(broadcaster):
                yield
        finally:
            broadcaster.close()  # streams end before the consumer stops and the database goes


def build(settings: NotificationsSettings | None = None, *, start_consumer: bool = True) -> NotificationsService:
    """`start_consumer=False` runs the HTTP app without the broker (tests drive `consumer.consumer.handle`)."""
    settings = settings or NotificationsSettings()
    engine = service_engine(settings)
    broadcaster = EventBroadcaster(queue_size=settings.stream_queue_size)

    coordinators = coordinators_from(settings.coordinator_emails)
    secret_box = SecretBox(settings.webhook_secrets_key.get_secret_value())

    def unit_of_work() -> NotificationsUnitOfWork:
        uow = NotificationsUnitOfWork(engine, outbox=orm.outbox, inbox=orm.inbox)
        uow.coordinators = coordinators
        uow.secret_box = secret_box
        uow.wake_log_follower = log_follower.wake
        uow.wake_webhook_dispatcher = webhook_dispatcher.wake
        uow.wake_mail_sender = mail_sender.wake
        return uow

    # What an event sets off besides its log entry, in the consumer's transaction (see consumers.Reaction).
    reactions: list[Reaction] = []
    # The jobs that run beside the consumer: the log follower, the webhook dispatcher, the mail sender, timers.
    background: list[BackgroundTask] = []
    # The live tail reads the log, so each replica's streams see what every replica logged. A batch never holds
    # more than a subscriber's queue: one keeping up is not dropped for a burst.
    log_follower = LogFollower(
        UnitOfWorkLogReader(unit_of_work),
        broadcaster,
        poll_interval_s=settings.stream_poll_interval_s,
        batch_size=min(BATCH_SIZE, settings.stream_queue_size),
    )
    background.append(log_follower)
    # The directory first: an event's own facts (a title, a group's members) are filed before its emails go.
    reactions.append(directory.record)
    reactions.append(email_rules.react)
    reactions.append(partner_events.react)  # what each partner may see, to its webhooks
    webhook_dispatcher = WebhookDispatcher(
        unit_of_work,
        WebhookSender(timeout_s=settings.webhook_timeout_s, allow_loopback=settings.webhook_allow_loopback),
        max_in_flight=settings.webhook_max_in_flight,
        timeout_s=settings.webhook_timeout_s,
        disable_after_s=settings.webhook_disable_after_s,
        poll_interval_s=settings.webhook_poll_interval_s,
    )
    background.append(webhook_dispatcher)
    background.append(WatcchOfferReminders(unit_of_work, interval_s=OFFER_REMINDERS_INTERVAL_S))
    mail_renderer = MailRenderer(KINDS)
    mail_renderer.check()  # a template that cannot render its sample stops the service here, not at 3 a.m.
    # Unsubscribe links are HMACs under keys of their own, derived from this service's own secret, one per listed
    # key: a new key put first still reads the links emailed before.
    newest_key, *older_keys = unsubscribe_keys(settings.webhook_secrets_key.get_secret_value())
    email_links = EmailLinks(settings.public_base_url, newest_key, tuple(older_keys))
    mail_sender = MailSender(
        unit_of_work,
        transport_for(settings.smtp_url, settings.mail_dir, sender=settings.mail_from),
        mail_renderer,
        email_links,
        poll_interval_s=settings.mail_poll_interval_s,
    )
    background.append(mail_sender)
    background.append(SecretsResealer(unit_of_work))  # after a WEBHOOK_SECRETS_KEY change: once, then it ends

    consumer = ConsumerBroker(notifications_consumer(unit_of_work, reactions), settings)
    app = create_app(
        title="Notifications service",
        description=DESCRIPTION,
        settings=settings,
        lifespan=lambda _: notifications_running(
            settings, engine, broadcaster, consumer if start_consumer else None, background
        ),
        asyncapi=asyncapi_document(settings, description=DESCRIPTION, consumer=consumer.consumer),
        readiness=readiness_checks(settings, engine),
    )
    app.state.uow_factory = unit_of_work
    app.state.broadcaster = broadcaster
    app.state.stream_keepalive_s = settings.stream_keepalive_s
    app.include_router(events.router)
    app.state.mail_renderer = mail_renderer
    app.state.email_links = email_links
    app.state.wake_mail_sender = mail_sender.wake
    app.include_router(emails.router)
    app.include_router(directory_routes.router)
    app.include_router(webhook_catalogue.router)
    app.include_router(school_links.router)
    app.state.webhook_endpoint_policy = EndpointPolicy(
        allow_http=settings.webhook_allow_http,
        allow_loopback=settings.webhook_allow_loopback,
        secret_overlap_s=settings.webhook_secret_overlap_s,
    )
    app.include_router(webhook_endpoints.router)
    app.include_router(webhook_operations.router)
    return NotificationsService(settings=settings, engine=engine, consumer=consumer, broadcaster=broadcaster, app=app)
