"""What happens to a message whose handling failed: retry through the delay queue, or dead-letter it.

- A message that can never succeed (not JSON, not an envelope, a payload that fails validation, a type
  nobody handles) is rejected at once into the dead-letter queue.
- Any other failure is re-published to the service's delay queue with an attempt count; after
  `max_attempts` it is rejected into the dead-letter queue.

Each outcome is logged with the event id and type, never the body (it may hold personal data).
"""

import json
from types import TracebackType
from typing import Any, cast

import structlog
from aio_pika import IncomingMessage
from faststream import BaseMiddleware
from faststream.exceptions import AckMessage, HandlerException, RejectMessage
from faststream.rabbit import RabbitBroker
from pydantic import ValidationError

from medic.shared.logging import get_logger
from medic.shared.topology import Topology

log = get_logger(__name__)

ATTEMPTS_HEADER = "x-medic-attempts"


class PoisonMessage(Exception):
    """A message that no retry can fix: dead-letter it now."""


POISON = (PoisonMessage, ValidationError, json.JSONDecodeError, UnicodeDecodeError)


class DeliveryPolicy:
    """Broker middleware factory: one `_Delivery` per message, sharing this configuration."""

    def __init__(self, service: str, topology: Topology, *, max_attempts: int) -> None:
        self.service = service
        self.topology = topology
        self.max_attempts = max_attempts
        self.broker: RabbitBroker | None = None

    def __call__(self, msg: Any, /, **kwargs: Any) -> "_Delivery":
        return _Delivery(msg, policy=self, **kwargs)


class _Delivery(BaseMiddleware):
    def __init__(self, msg: Any, /, *, policy: DeliveryPolicy, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self.policy = policy

    @property
    def raw(self) -> IncomingMessage:
        return cast(IncomingMessage, self.msg)

    async def on_receive(self) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            event_id=self.raw.message_id, event_type=self.raw.type, consumer=self.policy.service
        )

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        try:
            if exc_val is None or not isinstance(exc_val, Exception) or isinstance(exc_val, HandlerException):
                return False
            if isinstance(exc_val, POISON):
                log.error("event.dead_lettered", reason="malformed", error=_describe(exc_val))
                raise RejectMessage() from exc_val
            await self._retry_or_give_up(exc_val)
            return False
        finally:
            structlog.contextvars.clear_contextvars()

    async def _retry_or_give_up(self, error: Exception) -> None:
        attempts = _attempts(self.raw) + 1
        if attempts >= self.policy.max_attempts:
            log.error(
                "event.dead_lettered",
                reason="handler kept failing",
                attempts=attempts,
                error=_describe(error),
            )
            raise RejectMessage() from error
        try:
            await self._publish_retry(attempts)
        except Exception as publish_error:
            # Could not park it (no retry queue, broker refusing): dead-letter it where ops can replay it.
            # Requeueing would spin on it, for ever on RabbitMQ 4.3, which no longer counts nacks. If the
            # connection is gone, the reject fails too and the broker redelivers the message instead.
            log.error(
                "event.dead_lettered",
                reason="retry could not be scheduled",
                attempts=attempts,
                error=_describe(error),
                retry_error=repr(publish_error),
            )
            raise RejectMessage() from error
        log.warning("event.retry_scheduled", attempts=attempts, error=_describe(error))
        raise AckMessage() from error

    async def _publish_retry(self, attempts: int) -> None:
        if self.policy.broker is None:
            raise RuntimeError("DeliveryPolicy.broker is not set")
        raw = self.raw
        await self.policy.broker.publish(
            raw.body,
            exchange="",
            routing_key=self.policy.topology.retry_queue_name(self.policy.service),
            headers={**(raw.headers or {}), ATTEMPTS_HEADER: attempts},
            message_id=raw.message_id,
            message_type=raw.type,
            content_type=raw.content_type,
            persist=True,
            mandatory=True,
            timeout=10,
        )


def _attempts(message: IncomingMessage) -> int:
    value = (message.headers or {}).get(ATTEMPTS_HEADER, 0)
    return value if isinstance(value, int) else 0


def _describe(error: BaseException) -> str:
    """Name the problem without echoing the message body, which may hold personal data."""
    if isinstance(error, ValidationError):
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
        return f"ValidationError on {', '.join(fields) or 'body'}"
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON at position {error.pos}"
    return type(error).__name__ if not isinstance(error, PoisonMessage) else str(error)
