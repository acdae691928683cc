"""The mail sender: a background job that sends the queued emails that are due, and records each attempt.

Claims are leases (see EmailsRepository.claim_due), so several replicas share the queue on PostgreSQL without
sending an email twice, and an email a crashed sender held is sent when its lease runs out. No transaction is held
while talking to the mail server. A transient failure (4xx, no connection, timeout) is tried again on the
RetryPolicy's schedule; a 5xx refusal bounces it; a template that fails, fails it. All of it is visible in
`GET /emails`. Logs carry ids, kinds, statuses and SMTP codes only: never an address, a name or a body.
"""

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from medic.notifications.adapters.emails_repository import AttemptResult
from medic.notifications.adapters.mail_renderer import MailRenderer, RenderError
from medic.notifications.adapters.mail_transport import MailTransport
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.domain.emails import (
    AttemptOutcome,
    DeliveryFailed,
    Email,
    EmailStatus,
    NextStep,
    OutgoingEmail,
    RetryPolicy,
    after_failure,
    scrub_detail,
)
from medic.notifications.service_layer.emails import EmailLinks
from medic.shared.logging import get_logger

log = get_logger(__name__)

BATCH_SIZE = 20
CONCURRENCY = 4  # connections to the mail server at once, per replica
SEND_TIMEOUT_S = 60.0  # one email, end to end (aiosmtplib's own timeout is per command)
# Longer than a whole batch can take (BATCH_SIZE / CONCURRENCY rounds of SEND_TIMEOUT_S): a lease never runs out
# under a live sender.
LEASE = timedelta(seconds=2 * SEND_TIMEOUT_S * BATCH_SIZE / CONCURRENCY)


class MailSender:
    """A BackgroundTask: `run` until `stop`; `wake` after queueing for a prompt send (else it polls)."""

    def __init__(
        self,
        uow_factory: Callable[[], NotificationsUnitOfWork],
        transport: MailTransport,
        renderer: MailRenderer,
        links: EmailLinks,
        *,
        poll_interval_s: float,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._transport = transport
        self._renderer = renderer
        self._links = links
        self._poll_interval_s = poll_interval_s
        self._policy = policy or RetryPolicy()
        self._rng = rng or random.Random()  # jitter, not a secret
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._slots = asyncio.Semaphore(CONCURRENCY)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        log.info("mail_sender.started", transport=self._transport.description)
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                handled = await self.send_due()
            except Exception as error:  # the database away: the next round tries again
                log.warning("mail_sender.round_failed", error=type(error).__name__)
                handled = 0
            if handled >= BATCH_SIZE:
                continue  # more may be due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval_s)

    async def send_due(self, *, now: datetime | None = None) -> int:
        """One round: claim what is due at `now`, send it, record the outcomes. Returns how many were handled."""
        now = now or datetime.now(UTC)
        async with self._uow_factory() as uow:
            claim, batch = await uow.emails.claim_due(now=now, lease_until=now + LEASE, limit=BATCH_SIZE)
            optional = [(email.recipient, email.kind) for email in batch if self._is_optional(email.kind)]
            unsubscribed = await uow.emails.unsubscribed(optional) if optional else set()
            await uow.commit()
        if not batch:
            return 0
        suppressed = [email for email in batch if (email.recipient, email.kind) in unsubscribed]
        to_send = [email for email in batch if (email.recipient, email.kind) not in unsubscribed]
        results = await asyncio.gather(*(self._attempt(email, claim, now) for email in to_send))
        async with self._uow_factory() as uow:
            for email in suppressed:
                await uow.emails.suppress(email.id, claim)
            written = await uow.emails.record(results)
            await uow.commit()
        for email in suppressed:
            log.info("email.suppressed", email_id=str(email.id), kind=email.kind)
        for email, result in zip(to_send, results, strict=True):
            log.info(
                f"email.{result.next.status.value}",
                email_id=str(email.id),
                kind=email.kind,
                attempt=email.attempts + 1,
                code=result.code,
                outcome=result.outcome.value,
            )
        if written < len(results):
            log.warning("mail_sender.lease_lost", lost=len(results) - written)
        return len(batch)

    def _is_optional(self, kind_name: str) -> bool:
        kind = self._renderer.kinds.get(kind_name)
        return kind is not None and kind.optional

    async def _attempt(self, email: Email, claim: uuid.UUID, now: datetime) -> AttemptResult:
        """`now`: the round's time, which the attempt is recorded at and the next one scheduled from."""
        started = time.monotonic()
        outcome, code, detail = AttemptOutcome.SENT, None, None
        try:
            outgoing = self._render(email)
            async with self._slots, asyncio.timeout(SEND_TIMEOUT_S):
                await self._transport.send(outgoing)
        except RenderError as error:
            outcome, detail = AttemptOutcome.RENDER_ERROR, str(error)
        except DeliveryFailed as error:
            outcome, code, detail = error.outcome, error.code, scrub_detail(error.detail, email.recipient)
        except TimeoutError:
            outcome, detail = AttemptOutcome.TRANSIENT, f"no answer within {SEND_TIMEOUT_S:g} s"
        except Exception as error:  # a transport's own bug must not hold the email until its lease runs out
            outcome, detail = AttemptOutcome.TRANSIENT, f"unexpected {type(error).__name__}"
        if outcome is AttemptOutcome.SENT:
            next_step = NextStep(EmailStatus.SENT, None)
        else:
            next_step = after_failure(outcome, email.attempts + 1, now, self._policy, self._rng)
        return AttemptResult(
            email_id=email.id,
            claim=claim,
            at=now,
            outcome=outcome,
            code=code,
            detail=detail,
            duration_ms=round((time.monotonic() - started) * 1000),
            next=next_step,
        )

    def _render(self, email: Email) -> OutgoingEmail:
        kind = self._renderer.kinds.get(email.kind)
        unsubscribe_url = self._links.unsubscribe_url(email.id) if kind is not None and kind.optional else None
        rendered = self._renderer.render(
            email.kind, email.context or {}, recipient_name=email.recipient_name, unsubscribe_url=unsubscribe_url
        )
        return OutgoingEmail(
            id=email.id,
            recipient=email.recipient,
            recipient_name=email.recipient_name,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            unsubscribe_url=unsubscribe_url,
        )
