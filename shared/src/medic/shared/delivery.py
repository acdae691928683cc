"""What happens to a message whose handling failed: retry through the delay queue, or dead-letter it.

- A message that can never succeed (too large, not JSON, not an envelope, a payload that fails validation,
  a type nobody handles) is rejected at once into the dead-letter queue.
- Any other failure is re-published to the service's delay queue with an attempt count; after
  `max_attempts` it is rejected into the dead-letter queue.

Each outcome is logged with the event id and type, never the body (it may hold personal data). The policy
knows nothing of the consumer loop: it is given the message and a way to publish the retry.
"""

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from medic.shared.logging import get_logger

log = get_logger(__name__)

ATTEMPTS_HEADER = "x-medic-attempts"


class PoisonMessage(Exception):
    """A message that no retry can fix: dead-letter it now."""


POISON = (PoisonMessage, ValidationError, json.JSONDecodeError, UnicodeDecodeError)


class Delivery(Protocol):
    """The parts of a delivered AMQP message the policy needs (aio-pika's `IncomingMessage` has them)."""

    @property
    def body(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, Any]: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def type(self) -> str | None: ...

    async def ack(self, multiple: bool = False) -> None: ...
    async def reject(self, requeue: bool = False) -> None: ...


# Publishes the message again, persistent and confirmed, to the named queue with these headers; raises if
# the broker did not take it.
RetryPublisher = Callable[[Delivery, str, dict[str, Any]], Awaitable[None]]


class DeliveryPolicy:
    def __init__(self, retry_queue: str, *, max_attempts: int, publish_retry: RetryPublisher) -> None:
        self.retry_queue = retry_queue
        self.max_attempts = max_attempts
        self._publish_retry = publish_retry

    async def dead_letter(self, message: Delivery, error: Exception) -> None:
        """A message no retry can fix (malformed, too large, of a type nobody handles)."""
        log.error("event.dead_lettered", reason="malformed", error=describe(error))
        await message.reject(requeue=False)

    async def failed(self, message: Delivery, error: Exception) -> None:
        """Settle a message whose handling raised `error`: dead-letter, or park it for another try."""
        if isinstance(error, POISON):
            await self.dead_letter(message, error)
            return
        attempts = attempts_of(message) + 1
        if attempts >= self.max_attempts:
            log.error("event.dead_lettered", reason="handler kept failing", attempts=attempts, error=describe(error))
            await message.reject(requeue=False)
            return
        try:
            await self._publish_retry(message, self.retry_queue, {**message.headers, ATTEMPTS_HEADER: attempts})
        except Exception as publish_error:
            # Could not park it (no retry queue, broker refusing): dead-letter it where ops can replay it.
            # Requeueing would spin on it, for ever on RabbitMQ 4.3, which no longer counts nacks. If the
            # connection is gone, the reject fails too and the broker redelivers the message instead.
            log.error(
                "event.dead_lettered",
                reason="retry could not be scheduled",
                attempts=attempts,
                error=describe(error),
                retry_error=type(publish_error).__name__,
            )
            await message.reject(requeue=False)
            return
        log.warning("event.retry_scheduled", attempts=attempts, error=describe(error))
        await message.ack()


def attempts_of(message: Delivery) -> int:
    """How many times handling this message has failed before (0 for a first delivery)."""
    value = (message.headers or {}).get(ATTEMPTS_HEADER, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def describe(error: BaseException) -> str:
    """Name the problem without echoing the message body, which may hold personal data."""
    if isinstance(error, ValidationError):
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        return f"ValidationError on {', '.join(fields) or 'body'}"
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON at position {error.pos}"
    return type(error).__name__ if not isinstance(error, PoisonMessage) else str(error)
