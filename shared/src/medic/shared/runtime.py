"""What every service does at start and stop, whatever it publishes or consumes."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from medic.shared.consumer import ConsumerBroker
from medic.shared.db import migrate, ping
from medic.shared.http import ReadinessCheck, broker_reachable
from medic.shared.logging import get_logger
from medic.shared.relay import OutboxRelay
from medic.shared.settings import ServiceSettings

log = get_logger(__name__)


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
    async with AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        if relay is not None:
            relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
            stack.push_async_callback(_stop_relay, relay, relay_task)
        if consumer is not None:
            await consumer.start()
            stack.push_async_callback(_logged, "consumer.stop_failed", consumer.stop)
        yield


async def _stop_relay(relay: OutboxRelay, task: "asyncio.Task[None]") -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    await _logged("relay.close_failed", relay.close)


async def _logged(event: str, stop: Callable[[], Awaitable[None]]) -> None:
    """Stopping one part must not keep the others (and the database) from being released."""
    try:
        await stop()
    except Exception as error:
        log.warning(event, error=repr(error))


def readiness_checks(settings: ServiceSettings, engine: AsyncEngine) -> Mapping[str, ReadinessCheck]:
    return {"database": lambda: ping(engine), "broker": lambda: broker_reachable(settings.rabbitmq_url)}
