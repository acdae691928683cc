"""What every service does at start and stop, whatever it publishes or consumes."""

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from medic.shared.broker_connection import reachable
from medic.shared.consumer_broker import ConsumerBroker
from medic.shared.db import migrate, ping
from medic.shared.http import ReadinessCheck
from medic.shared.logging import get_logger
from medic.shared.relay import OutboxRelay
from medic.shared.settings import ServiceSettings

log = get_logger(__name__)

STOP_TIMEOUT_S = 10.0


class BackgroundTask(Protocol):
    """A loop a service runs beside its requests (e.g. a scheduler): `run` returns soon after `stop`."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@asynccontextmanager
async def service_running(
    *,
    settings: ServiceSettings,
    engine: AsyncEngine,
    migrations: Path,
    relay: OutboxRelay | None = None,
    consumer: ConsumerBroker | None = None,
    background: Sequence[BackgroundTask] = (),
) -> AsyncIterator[None]:
    """Migrate, start the relay, the consumer and the background tasks; on exit stop them in reverse and release
    the database."""
    await migrate(migrations, settings.database_url)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        if relay is not None:
            relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
            stack.push_async_callback(_stop_relay, relay, relay_task)
        if consumer is not None:
            await consumer.start()
            stack.push_async_callback(_logged, "consumer.stop_failed", consumer.stop)
        for task in background:
            running = asyncio.create_task(task.run(), name=type(task).__name__)
            stack.push_async_callback(_stop_background, task, running)
        freeze_startup_objects()
        yield


def freeze_startup_objects() -> None:
    """Move everything alive after start-up (modules, compiled SQL, schemas, pools) out of the collector's view.

    Otherwise each full collection walks all of it while the event loop waits: pauses of 20-40 ms every few
    seconds under load, which set the p99 of event delivery (measured by bench/pipeline.py).
    """
    gc.collect()
    gc.freeze()


async def _stop_relay(relay: OutboxRelay, task: "asyncio.Task[None]") -> None:
    relay.stop()  # returns between statements; cancelled only if it does not within the timeout
    try:
        await asyncio.wait_for(task, timeout=STOP_TIMEOUT_S)
    except TimeoutError:
        log.warning("relay.stop_timed_out")
    except Exception as error:
        log.warning("relay.failed", error=repr(error))
    await _logged("relay.close_failed", relay.close)


async def _stop_background(task: BackgroundTask, running: "asyncio.Task[None]") -> None:
    task.stop()
    try:
        await asyncio.wait_for(running, timeout=STOP_TIMEOUT_S)  # cancelled if it does not return in time
    except TimeoutError:
        log.warning("background.stop_timed_out", task=running.get_name())
    except Exception as error:
        log.warning("background.failed", task=running.get_name(), error=repr(error))


async def _logged(event: str, stop: Callable[[], Awaitable[None]]) -> None:
    """Stopping one part must not keep the others (and the database) from being released."""
    try:
        await stop()
    except Exception as error:
        log.warning(event, error=repr(error))


def readiness_checks(settings: ServiceSettings, engine: AsyncEngine) -> Mapping[str, ReadinessCheck]:
    # The broker is reachable while any of its nodes is: the connections fail over to it.
    return {"database": lambda: ping(engine), "broker": lambda: reachable(settings.rabbitmq_urls)}
