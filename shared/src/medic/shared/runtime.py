"""What every service does at start and stop, whatever it publishes or consumes."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from medic.shared.consumer import ConsumerBroker
from medic.shared.db import migrate, ping
from medic.shared.http import ReadinessCheck, broker_reachable
from medic.shared.relay import OutboxRelay
from medic.shared.settings import ServiceSettings


@asynccontextmanager
async def service_running(
    *,
    settings: ServiceSettings,
    engine: AsyncEngine,
    migrations: Path,
    relay: OutboxRelay | None = None,
    consumer: ConsumerBroker | None = None,
) -> AsyncIterator[None]:
    """Migrate, start the relay and the consumer; on exit stop them in reverse and release the database."""
    await migrate(migrations, settings.database_url)
    relay_task = asyncio.create_task(relay.run(), name="outbox-relay") if relay else None
    try:
        if consumer is not None:
            await consumer.start()
        yield
    finally:
        if consumer is not None:
            await consumer.stop()
        if relay is not None and relay_task is not None:
            relay_task.cancel()
            with suppress(asyncio.CancelledError):
                await relay_task
            await relay.close()
        await engine.dispose()


def readiness_checks(settings: ServiceSettings, engine: AsyncEngine) -> Mapping[str, ReadinessCheck]:
    return {"database": lambda: ping(engine), "broker": lambda: broker_reachable(settings.rabbitmq_url)}
