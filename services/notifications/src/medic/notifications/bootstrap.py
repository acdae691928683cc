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
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.entrypoints.consumers import Reaction, notifications_consumer
from medic.notifications.entrypoints.http import events
from medic.notifications.settings import NotificationsSettings
from medic.shared.asyncapi import asyncapi_document
from medic.shared.consumer_broker import ConsumerBroker
from medic.shared.db import create_engine
from medic.shared.http import create_app
from medic.shared.runtime import BackgroundTask, readiness_checks, service_running

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = "The ops event log of every domain event, and a live tail of it."

EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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
    engine = create_engine(settings.database_url)
    broadcaster = EventBroadcaster(queue_size=settings.stream_queue_size)

    def unit_of_work() -> NotificationsUnitOfWork:
        return NotificationsUnitOfWork(engine, outbox=orm.outbox, inbox=orm.inbox, broadcaster=broadcaster)

    # What an event sets off besides its log entry, in the consumer's transaction (see consumers.Reaction).
    reactions: list[Reaction] = []
    # The jobs that run beside the consumer: the webhook dispatcher, the mail sender, timers.
    background: list[BackgroundTask] = []

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
    return NotificationsService(settings=settings, engine=engine, consumer=consumer, broadcaster=broadcaster, app=app)
