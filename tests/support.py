"""Small helpers the tests share: fast failure settings and waiting for something to happen."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Quick retries and reconnects, so failure paths finish within a test's patience.
FAST_FAILURE_HANDLING = {
    "CONSUMER_RETRY_DELAY_MS": "100",
    "CONSUMER_MAX_ATTEMPTS": "3",
    "OUTBOX_MAX_BACKOFF_S": "1",
    "OUTBOX_SWEEP_INTERVAL_S": "0.5",
    "PUBLISH_TIMEOUT_S": "5",
}


async def eventually(check: Callable[[], Awaitable[T]], *, timeout_s: float = 20, interval_s: float = 0.05) -> T:
    """Poll `check` until it returns a truthy value; fail with its last value after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s; last value: {value!r}")
        await asyncio.sleep(interval_s)
