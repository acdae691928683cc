"""What a partner (its own endpoints) or a coordinator (any) may do with deliveries: send a test event, resend one
message, recover what failed, replay by type, pause and resume, and read the summary and the attempts.

`only` is the one partner the caller acts for, or None for a coordinator; another partner's endpoint is
EndpointNotFound, the same answer as one that does not exist. What is queued goes out once the transaction commits
(the dispatcher is woken then).
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.adapters.webhook_deliveries_repository import Health, StoredAttempt
from medic.notifications.domain.webhook_delivery import TEST_EVENT_TYPE, percentile
from medic.notifications.domain.webhook_endpoints import (
    EndpointConflict,
    EndpointNotFound,
    InvalidEndpoint,
    WebhookEndpoint,
)
from medic.notifications.service_layer import webhook_messages

SUMMARY_WINDOW = timedelta(hours=24)
LATENCY_SAMPLES = 10_000  # the latest attempts the percentiles are taken over
MAX_ATTEMPTS_PAGE = 100
# How far back recover and replay may reach: what older partners should fetch from the API instead.
MAX_LOOKBACK = timedelta(days=14)


def now() -> datetime:
    return datetime.now(UTC)


async def _endpoint(uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, only: uuid.UUID | None) -> WebhookEndpoint:
    endpoint = await uow.webhook_endpoints.get(endpoint_id)
    if endpoint is None or (only is not None and endpoint.partner_id != only):
        raise EndpointNotFound("no such endpoint")
    return endpoint


def _enabled(endpoint: WebhookEndpoint, doing: str) -> None:
    if not endpoint.enabled:
        raise EndpointConflict(f"the endpoint is disabled ({endpoint.disabled_reason}): enable it before {doing}")


def _since(since: datetime, at: datetime) -> None:
    if since > at:
        raise InvalidEndpoint("since", "`since` is in the future")
    if at - since > MAX_LOOKBACK:
        raise InvalidEndpoint("since", f"`since` reaches back at most {MAX_LOOKBACK.days} days")


async def send_test(uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, *, only: uuid.UUID | None) -> str:
    """Queue a `webhook.test.v1` message to the endpoint (whatever it subscribes to); returns its `webhook-id`."""
    async with uow:
        endpoint = await _endpoint(uow, endpoint_id, only)
        _enabled(endpoint, "sending to it")
        payload = {"partner_id": str(endpoint.partner_id), "endpoint_id": str(endpoint.id), "test": True}
        message_id = await webhook_messages.send_to_endpoint(
            uow, endpoint.id, endpoint.partner_id, TEST_EVENT_TYPE, payload
        )
        await uow.commit()
    return message_id


async def resend(
    uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, message_id: uuid.UUID, *, only: uuid.UUID | None
) -> None:
    """Send one message to the endpoint again, from the first attempt (its partner's message, sent before or not)."""
    async with uow:
        endpoint = await _endpoint(uow, endpoint_id, only)
        _enabled(endpoint, "resending")
        message = await uow.webhook_deliveries.message(message_id)
        if message is None or message.partner_id != endpoint.partner_id:
            raise EndpointNotFound("no such message")
        at = now()
        if await uow.webhook_deliveries.in_flight(message_id, endpoint_id, at):
            raise EndpointConflict("this message is being sent to the endpoint right now")
        await uow.webhook_deliveries.requeue([message_id], endpoint_id, at)
        uow.after_commit(uow.wake_webhook_dispatcher)
        await uow.commit()


async def recover(
    uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, since: datetime, *, only: uuid.UUID | None
) -> int:
    """Send again every delivery to the endpoint that failed at or after `since`; returns how many."""
    at = now()
    async with uow:
        endpoint = await _endpoint(uow, endpoint_id, only)  # an endpoint that is not theirs is 404, whatever else
        _since(since, at)
        _enabled(endpoint, "recovering")
        queued = await uow.webhook_deliveries.recover(endpoint_id, since, at)
        uow.after_commit(uow.wake_webhook_dispatcher)
        await uow.commit()
    return queued


async def replay(
    uow: NotificationsUnitOfWork,
    endpoint_id: uuid.UUID,
    event_types: Collection[str],
    since: datetime,
    *,
    only: uuid.UUID | None,
) -> int:
    """Send the endpoint every message of `event_types` (all of them among its subscriptions) stored at or after
    `since`, whether it had them before or not, from the first attempt; returns how many were queued."""
    at = now()
    async with uow:
        endpoint = await _endpoint(uow, endpoint_id, only)
        _since(since, at)
        unsubscribed = sorted(set(event_types) - set(endpoint.event_types))
        if not event_types or unsubscribed:
            raise InvalidEndpoint(
                "event_types", f"not among the endpoint's event types: {', '.join(unsubscribed) or '(none given)'}"
            )
        _enabled(endpoint, "replaying")
        queued, after = 0, None
        while ids := await uow.webhook_deliveries.message_ids_since(
            endpoint.partner_id, event_types, since, after=after
        ):
            queued += await uow.webhook_deliveries.requeue(ids, endpoint_id, at)
            after = ids[-1]
        uow.after_commit(uow.wake_webhook_dispatcher)
        await uow.commit()
    return queued


async def set_paused(
    uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, paused: bool, *, only: uuid.UUID | None
) -> WebhookEndpoint:
    """Pause (deliveries wait, and keep being queued) or resume (they go out again)."""
    async with uow:
        endpoint = await _endpoint(uow, endpoint_id, only)
        if not await uow.webhook_endpoints.set_paused(endpoint_id, paused):
            raise EndpointConflict("the endpoint is paused already" if paused else "the endpoint is not paused")
        if not paused:
            uow.after_commit(uow.wake_webhook_dispatcher)
        changed = await uow.webhook_endpoints.get(endpoint_id)
        await uow.commit()
    return changed or endpoint


@dataclass(frozen=True)
class Summary:
    endpoint: WebhookEndpoint
    window_hours: float
    attempts: int
    succeeded: int
    success_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    backlog: int
    health: Health
    last_error: StoredAttempt | None


async def summary(uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, *, only: uuid.UUID | None) -> Summary:
    async with uow:
        endpoint = await _endpoint(uow, endpoint_id, only)
        stats = await uow.webhook_deliveries.attempt_stats(
            endpoint_id, now() - SUMMARY_WINDOW, max_samples=LATENCY_SAMPLES
        )
        backlog = await uow.webhook_deliveries.backlog(endpoint_id)
        health = await uow.webhook_deliveries.health(endpoint_id)
    return Summary(
        endpoint=endpoint,
        window_hours=SUMMARY_WINDOW.total_seconds() / 3600,
        attempts=stats.attempts,
        succeeded=stats.succeeded,
        success_rate=stats.succeeded / stats.attempts if stats.attempts else None,
        latency_p50_ms=percentile(stats.durations_ms, 50),
        latency_p95_ms=percentile(stats.durations_ms, 95),
        backlog=backlog,
        health=health,
        last_error=stats.last_failure,
    )


@dataclass(frozen=True)
class AttemptPage:
    items: Sequence[StoredAttempt]
    next_before: int | None  # pass back as `before` for older attempts; None when there are none


async def attempts(
    uow: NotificationsUnitOfWork,
    endpoint_id: uuid.UUID,
    *,
    only: uuid.UUID | None,
    message_id: uuid.UUID | None = None,
    before: int | None = None,
    limit: int,
) -> AttemptPage:
    async with uow:
        endpoint = await _endpoint(uow, endpoint_id, only)
        if message_id is not None:
            message = await uow.webhook_deliveries.message(message_id)
            if message is None or message.partner_id != endpoint.partner_id:
                raise EndpointNotFound("no such message")
        found = await uow.webhook_deliveries.attempts(
            endpoint_id, message_id=message_id, before=before, limit=limit + 1
        )
    return AttemptPage(found[:limit], found[limit - 1].id if len(found) > limit else None)
