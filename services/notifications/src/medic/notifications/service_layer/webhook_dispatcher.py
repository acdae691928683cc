"""The webhook dispatcher: a background job that claims due deliveries, sends them, and records what came of it.

Each endpoint is a lane of its own: at most `max_in_flight` requests to it at once from this replica, and at most
its `rate_limit_per_s` (a token bucket, per replica). Sends never block the loop that claims: a slow or failing
endpoint fills its own lane and nothing else, and the claim query skips endpoints whose lane is full.

Claims lease the rows (see the repository), so two replicas on one PostgreSQL database never send a delivery
twice while its lease runs; a replica that dies mid-send leaves its deliveries to be claimed again once the lease
runs out (at least once: receivers dedupe by `webhook-id`). Results are gathered and written in batches, each only
while its claim still holds; the endpoint's health is folded in in the same transaction, and an endpoint that
answers 410, or has had no success for `disable_after_s`, is disabled there too, and its partner's contact and the
coordinators are emailed (`email_rules.notify_endpoint_disabled`) in that same transaction.

Endpoint settings and signing secrets are read at most once a second per endpoint: a pause, a rotation, a
disabling elsewhere takes effect within a second.
"""

import asyncio
import contextlib
import random as random_module
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from medic.notifications.adapters.secret_box import SecretUnreadable
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.adapters.webhook_deliveries_repository import AttemptRecord, Claimed, DeliveryUpdate
from medic.notifications.adapters.webhook_sender import SendResult, WebhookSender
from medic.notifications.domain import webhook_signing
from medic.notifications.domain.webhook_delivery import (
    DISABLED_REASON_GONE,
    Outcome,
    TokenBucket,
    after_attempt,
    disabled_reason_failing,
    failing_too_long,
    message_id_text,
    parse_retry_after,
)
from medic.notifications.domain.webhook_endpoints import WebhookEndpoint
from medic.notifications.service_layer import email_rules
from medic.shared.logging import get_logger

log = get_logger(__name__)

ENDPOINT_CACHE_S = 1.0
DUE_ENDPOINTS_PER_ROUND = 500
HEALTHY_REWRITE_S = 10.0  # a healthy endpoint's last success is written at most this often
# Messages, deliveries and attempts are kept this long (replay and recover reach back 14 days), swept hourly.
RETENTION = timedelta(days=30)
SWEEP_INTERVAL_S = 3600.0
SWEEP_BATCH = 5000
STOP_GRACE_S = 5.0  # on stop, how long sends in flight may finish before they are cancelled (their leases expire)


class NotifyDisabled(Protocol):
    def __call__(
        self,
        uow: NotificationsUnitOfWork,
        *,
        endpoint_id: uuid.UUID,
        partner_id: uuid.UUID,
        url: str,
        reason: str,
        at: datetime,
    ) -> Awaitable[None]: ...


@dataclass
class _Known:
    """An endpoint as last read: None when it no longer exists."""

    endpoint: WebhookEndpoint | None
    secrets: list[str]
    read_at: float


@dataclass
class _Lane:
    in_flight: int = 0
    bucket: TokenBucket | None = None
    gone: bool = False  # it answered 410: nothing more is claimed for it until the result is written (disabling it)


@dataclass(frozen=True)
class _Sent:
    claimed: Claimed
    claim: uuid.UUID
    endpoint: WebhookEndpoint
    attempted_at: datetime
    result: SendResult


@dataclass
class _Health:
    last_success: datetime | None = None
    first_failure_after: datetime | None = None
    gone: bool = False


@dataclass
class DispatcherStats:
    """Counters for the bench and tests."""

    sent: int = 0
    succeeded: int = 0
    claims: int = 0
    flushes: int = 0
    by_endpoint: dict[uuid.UUID, int] = field(default_factory=dict)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WebhookDispatcher:
    def __init__(
        self,
        uow_factory: Callable[[], NotificationsUnitOfWork],
        sender: WebhookSender,
        *,
        max_in_flight: int,
        timeout_s: float,
        disable_after_s: float,
        poll_interval_s: float,
        notify_disabled: NotifyDisabled = email_rules.notify_endpoint_disabled,
        flush_interval_s: float = 0.02,
        claim_wait_s: float = 0.005,
        random: Callable[[], float] = random_module.random,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._sender = sender
        self._max_in_flight = max_in_flight
        self._disable_after_s = disable_after_s
        self._poll_interval_s = poll_interval_s
        # Longer than any send (bounded by the timeout) plus the wait before its result is written.
        self._lease = timedelta(seconds=2 * timeout_s + 30)
        self._notify_disabled = notify_disabled
        self._flush_interval_s = flush_interval_s
        self._claim_wait_s = claim_wait_s
        self._random = random
        self._clock = clock
        self._lanes: dict[uuid.UUID, _Lane] = {}
        self._known: dict[uuid.UUID, _Known] = {}
        self._healthy_written: dict[uuid.UUID, float] = {}
        self._results: list[_Sent] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._wakeup = asyncio.Event()
        self._flush_wanted = asyncio.Event()
        self._stopping = asyncio.Event()
        self._sends_over = asyncio.Event()  # stopping, and no send is left: the last flush ends the flusher
        self._swept_at = -SWEEP_INTERVAL_S
        self.stats = DispatcherStats()

    def wake(self) -> None:
        """Look for due deliveries now (called after a commit that queued some)."""
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()
        self._flush_wanted.set()

    async def run(self) -> None:
        await self._sender.open()
        flusher = asyncio.create_task(self._flush_loop(), name="webhook-results")
        try:
            while not self._stopping.is_set():
                try:
                    wait_s = await self.dispatch_due()
                except Exception as error:  # the database away, a lost race on SQLite: the next round tries again
                    log.warning("webhooks.claim_failed", error=type(error).__name__)
                    wait_s = self._poll_interval_s
                if time.monotonic() - self._swept_at >= SWEEP_INTERVAL_S:
                    self._swept_at = time.monotonic()
                    try:
                        await self.sweep()
                    except Exception as error:  # tried again in an hour
                        log.warning("webhooks.sweep_failed", error=type(error).__name__)
                await self._idle(wait_s)
        finally:
            if self._sending:
                _, late = await asyncio.wait(self._sending, timeout=STOP_GRACE_S)
                for task in late:
                    task.cancel()  # its delivery is claimed again when the lease runs out
                await asyncio.gather(*late, return_exceptions=True)
            self._sends_over.set()
            self._flush_wanted.set()
            await flusher
            await self._sender.close()

    async def _idle(self, wait_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=wait_s)
        if self._wakeup.is_set() and not self._stopping.is_set():
            await asyncio.sleep(self._claim_wait_s)  # let a burst of wake-ups share one claim
        self._wakeup.clear()

    async def sweep(self) -> int:
        """Delete what is past RETENTION, a batch per transaction; returns how many rows went."""
        total = 0
        while True:
            async with self._uow_factory() as uow:
                gone = await uow.webhook_deliveries.purge(self._clock() - RETENTION, limit=SWEEP_BATCH)
                await uow.commit()
            total += gone
            if gone == 0 or self._stopping.is_set():
                break
        if total:
            log.info("webhooks.swept", rows=total)
        return total

    # --- claiming and sending --------------------------------------------------------------------------------------

    async def dispatch_due(self) -> float:
        """Claim what is due for every lane with room, start sending it; returns how long until it is worth looking
        again without a wake-up."""
        now = self._clock()
        monotonic = time.monotonic()
        wait_s = self._poll_interval_s
        skip = {
            endpoint_id
            for endpoint_id, lane in self._lanes.items()
            if lane.in_flight >= self._max_in_flight or lane.gone
        }
        skip |= {
            endpoint_id
            for endpoint_id, known in self._known.items()
            if known.endpoint is not None and known.endpoint.paused and monotonic - known.read_at < ENDPOINT_CACHE_S
        }
        token = uuid.uuid4()
        claimed_rounds: list[tuple[WebhookEndpoint, list[str], list[Claimed]]] = []
        async with self._uow_factory() as uow:
            due = await uow.webhook_deliveries.due_endpoints(now, skip=skip, limit=DUE_ENDPOINTS_PER_ROUND)
            for endpoint_id in due:
                known = await self._endpoint(uow, endpoint_id, now, monotonic)
                endpoint = known.endpoint
                if endpoint is None or not endpoint.enabled:
                    await uow.webhook_deliveries.fail_pending(endpoint_id, now)
                    continue
                if endpoint.paused or not known.secrets:
                    continue  # held until resumed, or until its secret can be read again
                lane = self._lanes.setdefault(endpoint_id, _Lane())
                room = self._max_in_flight - lane.in_flight
                if endpoint.rate_limit_per_s:
                    lane.bucket = _refilled(lane.bucket, endpoint.rate_limit_per_s, monotonic)
                    room = min(room, lane.bucket.available())
                    if room <= 0:
                        wait_s = min(wait_s, lane.bucket.seconds_until_one())
                if room <= 0:
                    continue
                batch = await uow.webhook_deliveries.claim(
                    endpoint_id, now, limit=room, lease_until=now + self._lease, token=token
                )
                if batch:
                    claimed_rounds.append((endpoint, known.secrets, batch))
            bodies = await uow.webhook_deliveries.bodies(
                {c.message_id for _, _, claims in claimed_rounds for c in claims}
            )
            # A delivery whose message is gone (the retention sweep raced a resend) can never be sent: it goes, in
            # this transaction, rather than filling its endpoint's lane for good.
            orphans = [c.delivery_id for _, _, claims in claimed_rounds for c in claims if c.message_id not in bodies]
            if orphans:
                await uow.webhook_deliveries.forget_deliveries(orphans)
                log.warning("webhooks.message_missing", deliveries=len(orphans))
                claimed_rounds = [
                    (endpoint, secrets, kept)
                    for endpoint, secrets, claims in claimed_rounds
                    if (kept := [c for c in claims if c.message_id in bodies])
                ]
            await uow.commit()
        for endpoint, secrets, claims in claimed_rounds:
            lane = self._lanes[endpoint.id]
            lane.in_flight += len(claims)
            if lane.bucket is not None:
                lane.bucket = lane.bucket.take(len(claims))
            self.stats.claims += 1
            for claimed in claims:
                body = bodies[claimed.message_id][1].encode()
                task = asyncio.create_task(self._send(endpoint, secrets, claimed, token, body))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
        return wait_s

    async def _endpoint(
        self, uow: NotificationsUnitOfWork, endpoint_id: uuid.UUID, now: datetime, monotonic: float
    ) -> _Known:
        known = self._known.get(endpoint_id)
        if known is None or monotonic - known.read_at >= ENDPOINT_CACHE_S:
            endpoint: WebhookEndpoint | None = await uow.webhook_endpoints.get(endpoint_id)
            secrets: list[str] = []
            if endpoint is not None:
                try:
                    secrets = await uow.webhook_endpoints.signing_secrets(endpoint_id, now)
                except SecretUnreadable:
                    # No configured key opens its secret (WEBHOOK_SECRETS_KEY changed too soon, or the row was
                    # altered): its deliveries wait for an operator, and every other endpoint's go on.
                    log.error("webhooks.secret_unreadable", endpoint_id=str(endpoint_id))
            known = self._known[endpoint_id] = _Known(endpoint, secrets, monotonic)
        return known

    async def _send(
        self, endpoint: WebhookEndpoint, secrets: Sequence[str], claimed: Claimed, claim: uuid.UUID, body: bytes
    ) -> None:
        lane = self._lanes[endpoint.id]
        try:
            attempted_at = self._clock()
            # The wall clock, whatever `clock` says (a test's may run ahead): receivers check it against theirs.
            headers = webhook_signing.headers(message_id_text(claimed.message_id.hex), int(time.time()), body, secrets)
            result = await self._sender.send(endpoint.url, body, headers)
            self._results.append(_Sent(claimed, claim, endpoint, attempted_at, result))
            self._flush_wanted.set()
            self.stats.sent += 1
            self.stats.by_endpoint[endpoint.id] = self.stats.by_endpoint.get(endpoint.id, 0) + 1
            if result.outcome is Outcome.SUCCEEDED:
                self.stats.succeeded += 1
            else:
                lane.gone |= result.outcome is Outcome.GONE
                log.info(
                    "webhooks.attempt_failed",
                    endpoint_id=str(endpoint.id),
                    webhook_id=message_id_text(claimed.message_id.hex),
                    outcome=result.outcome.value,
                    status_code=result.status_code,
                    error=result.error,
                )
        except Exception as error:  # e.g. no valid secret: logged, and tried again when its lease runs out
            log.warning("webhooks.send_failed", endpoint_id=str(endpoint.id), error=type(error).__name__)
        finally:
            lane.in_flight -= 1
            if lane.in_flight <= self._max_in_flight // 2:
                self._wakeup.set()  # room enough to be worth a claim

    # --- results -----------------------------------------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            await self._flush_wanted.wait()
            stopping = self._stopping.is_set()
            if not stopping:
                await asyncio.sleep(self._flush_interval_s)  # gather a batch
            self._flush_wanted.clear()
            batch, self._results = self._results, []
            if batch:
                try:
                    await self.record(batch)
                except Exception as error:
                    # Kept for the next flush; if that comes after the leases ran out, the deliveries were sent
                    # again by a claim and these results only add their attempts.
                    log.warning("webhooks.record_failed", error=type(error).__name__, results=len(batch))
                    self._results[:0] = batch
                    if not stopping:
                        await asyncio.sleep(self._poll_interval_s)
                        self._flush_wanted.set()
            if self._sends_over.is_set():
                return

    async def record(self, batch: Sequence[_Sent]) -> None:
        now = self._clock()
        attempts: list[AttemptRecord] = []
        updates: list[DeliveryUpdate] = []
        health: dict[uuid.UUID, _Health] = {}
        endpoints: dict[uuid.UUID, WebhookEndpoint] = {}
        for sent in batch:
            claimed, result = sent.claimed, sent.result
            attempts.append(
                AttemptRecord(
                    delivery_id=claimed.delivery_id,
                    message_id=claimed.message_id,
                    endpoint_id=claimed.endpoint_id,
                    attempted_at=sent.attempted_at,
                    outcome=result.outcome,
                    status_code=result.status_code,
                    duration_ms=result.duration_ms,
                    response_excerpt=result.response_excerpt,
                    error=result.error,
                )
            )
            following = after_attempt(
                result.outcome,
                attempts=claimed.attempts,
                free_throttles=claimed.free_throttles,
                now=sent.attempted_at,
                random=self._random(),
                retry_after_s=parse_retry_after(result.retry_after, sent.attempted_at),
            )
            updates.append(
                DeliveryUpdate(
                    delivery_id=claimed.delivery_id,
                    claim=sent.claim,
                    status=following.status,
                    attempts=following.attempts,
                    free_throttles=following.free_throttles,
                    available_at=following.available_at or now,
                    updated_at=now,
                )
            )
            state = health.setdefault(claimed.endpoint_id, _Health())
            endpoints[claimed.endpoint_id] = sent.endpoint
            if result.outcome is Outcome.SUCCEEDED:
                state.last_success, state.first_failure_after = sent.attempted_at, None
            elif state.first_failure_after is None:
                state.first_failure_after = sent.attempted_at
            state.gone |= result.outcome is Outcome.GONE
        monotonic = time.monotonic()
        async with self._uow_factory() as uow:
            await uow.webhook_deliveries.record(attempts, updates)
            for endpoint_id, state in sorted(health.items()):  # one lock order across replicas: no deadlock
                if state.first_failure_after is None and not state.gone:
                    if monotonic - self._healthy_written.get(endpoint_id, -HEALTHY_REWRITE_S) < HEALTHY_REWRITE_S:
                        # Healthy, and said so lately; but another replica may have noted a failure since, which
                        # this success ends (a write only then: else a streak ended here would outlive it).
                        if state.last_success is not None:
                            await uow.webhook_deliveries.end_failing_streak(endpoint_id, state.last_success)
                        continue
                    self._healthy_written[endpoint_id] = monotonic
                else:
                    self._healthy_written.pop(endpoint_id, None)
                noted = await uow.webhook_deliveries.note_health(
                    endpoint_id, last_success=state.last_success, first_failure_after=state.first_failure_after
                )
                reason = None
                if state.gone:
                    reason = DISABLED_REASON_GONE
                elif noted.failing_since is not None:
                    failing_since = max(noted.failing_since, endpoints[endpoint_id].enabled_at)
                    if failing_too_long(failing_since, now, self._disable_after_s):
                        reason = disabled_reason_failing(failing_since)
                if reason is not None:
                    await self._disable(uow, endpoints[endpoint_id], reason, now)
            await uow.commit()
        self.stats.flushes += 1

    async def _disable(
        self, uow: NotificationsUnitOfWork, endpoint: WebhookEndpoint, reason: str, now: datetime
    ) -> None:
        if await uow.webhook_endpoints.disable(endpoint.id, reason, now):
            await self._notify_disabled(
                uow, endpoint_id=endpoint.id, partner_id=endpoint.partner_id, url=endpoint.url, reason=reason, at=now
            )
            log.warning("webhooks.endpoint_disabled", endpoint_id=str(endpoint.id), gone=reason == DISABLED_REASON_GONE)
        await uow.webhook_deliveries.fail_pending(endpoint.id, now)
        self._known.pop(endpoint.id, None)  # read again: disabled, so whatever is still queued for it fails
        if lane := self._lanes.get(endpoint.id):
            lane.gone = False


def _refilled(bucket: TokenBucket | None, rate: float, monotonic: float) -> TokenBucket:
    if bucket is None or bucket.rate != rate:
        return TokenBucket.full(rate, monotonic)
    return bucket.refilled(monotonic)
