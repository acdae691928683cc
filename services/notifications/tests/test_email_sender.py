"""The mail sender against a real SMTP server (aiosmtpd): one email per (cause, recipient, kind), retries with
backoff, bounces, failures, unsubscriptions, leases, and two senders sharing one PostgreSQL queue."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from medic.notifications.adapters import orm
from medic.notifications.adapters.emails_repository import AttemptResult
from medic.notifications.adapters.mail_renderer import MailRenderer
from medic.notifications.adapters.mail_transport import SmtpServer, SmtpTransport
from medic.notifications.adapters.uow import NotificationsUnitOfWork
from medic.notifications.bootstrap import MIGRATIONS
from medic.notifications.domain.emails import (
    AttemptOutcome,
    Email,
    EmailRequest,
    EmailStatus,
    NextStep,
    RetryPolicy,
    unsubscribe_key,
)
from medic.notifications.service_layer.emails import EmailLinks
from medic.notifications.service_layer.mail_sender import LEASE, MailSender
from medic.shared.db import create_engine, migrate
from services.notifications.tests.email_support import (
    SmtpTestServer,
    parts,
    renderer_with_test_kinds,
    start_smtp_server,
)
from tests import infra
from tests.support import eventually

SENDER = "Social Accountability Team <no-reply@medic.example>"
LINKS = EmailLinks("https://notifications.example", unsubscribe_key(b"test key"))
NOW = datetime.now(UTC)

UowFactory = Callable[[], NotificationsUnitOfWork]


@dataclass
class Mail:
    uow: UowFactory
    smtp: SmtpTestServer
    renderer: MailRenderer
    url: str

    def sender(self, uow: UowFactory | None = None, **kwargs: object) -> MailSender:
        transport = SmtpTransport(SmtpServer.parse(self.smtp.url), sender=SENDER, timeout_s=5)
        return MailSender(
            uow or self.uow,
            transport,
            self.renderer,
            LINKS,
            poll_interval_s=kwargs.pop("poll_interval_s", 30.0),  # type: ignore[arg-type]
            rng=random.Random(1),
            **kwargs,  # type: ignore[arg-type]
        )

    async def enqueue(self, *requests: EmailRequest) -> list[bool]:
        async with self.uow() as uow:
            queued = [await uow.emails.enqueue(request, now=NOW) for request in requests]
            await uow.commit()
        return queued

    async def email(self, cause_id: str) -> Email:
        async with self.uow() as uow:
            page = await uow.emails.page(cause_id=cause_id)
        [email] = page.items
        return email


def request(kind: str = "test_notice", recipient: str = "sam@student.example", **overrides: object) -> EmailRequest:
    values: dict[str, object] = {
        "kind": kind,
        "cause_id": str(uuid.uuid4()),
        "recipient": recipient,
        "recipient_name": "Sam Okafor",
        "context": {"project_title": "Lunchboxes", "link": "https://example.org/p/1"},
    }
    values.update(overrides)
    return EmailRequest(**values)  # type: ignore[arg-type]


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    server = start_smtp_server()
    yield server
    server.stop()


async def _mail(backend: str, tmp_path: Path, smtp: SmtpTestServer) -> AsyncIterator[Mail]:
    async with infra.fresh_database_url(backend, tmp_path, "notifications") as url:
        await migrate(MIGRATIONS, url)
        engine = create_engine(url)
        try:
            yield Mail(
                uow=lambda: NotificationsUnitOfWork(engine, outbox=orm.outbox, inbox=orm.inbox),
                smtp=smtp,
                renderer=renderer_with_test_kinds(tmp_path / "templates"),
                url=url,
            )
        finally:
            await engine.dispose()


@pytest.fixture
async def mail(tmp_path: Path, smtp: SmtpTestServer) -> AsyncIterator[Mail]:
    async for value in _mail("sqlite", tmp_path, smtp):
        yield value


@pytest.fixture(params=["sqlite", "postgresql"])
async def mail_on_each_backend(
    request: pytest.FixtureRequest, tmp_path: Path, smtp: SmtpTestServer
) -> AsyncIterator[Mail]:
    async for value in _mail(str(request.param), tmp_path, smtp):
        yield value


async def test_an_email_is_sent_once_however_often_it_is_asked_for(mail_on_each_backend: Mail) -> None:
    mail = mail_on_each_backend
    first = request()
    again = request(cause_id=first.cause_id, recipient="SAM@Student.Example", recipient_name="Someone else")
    assert await mail.enqueue(first, again) == [True, False]  # a redelivered event queues nothing more
    other_kind = request("test_digest", cause_id=first.cause_id)
    assert await mail.enqueue(other_kind) == [True]  # another template for the same cause is another email

    sender = mail.sender()
    assert await sender.send_due(now=NOW) == 2
    assert await sender.send_due(now=NOW + timedelta(days=1)) == 0

    received = mail.smtp.inbox.messages_to("sam@student.example")
    assert sorted(str(message["Subject"]) for message in received) == [
        "Digest for Lunchboxes",
        "Notice: Lunchboxes",
    ]
    notice = next(message for message in received if str(message["Subject"]).startswith("Notice"))
    body = parts(notice)
    assert "Dear Sam Okafor," in body["text/plain"] and "About Lunchboxes." in body["text/plain"]
    assert "<p>About Lunchboxes.</p>" in body["text/html"]

    async with mail.uow() as uow:
        page = await uow.emails.page(cause_id=first.cause_id)
        attempts = {item.kind: await uow.emails.attempts(item.id) for item in page.items}
    for item in page.items:
        assert item.status is EmailStatus.SENT and item.attempts == 1 and item.sent_at == NOW
        assert item.context is None  # nothing of the message is kept once sent
        [attempt] = attempts[item.kind]
        assert attempt.outcome is AttemptOutcome.SENT and attempt.number == 1


async def test_a_transient_refusal_is_retried_after_a_backoff(mail: Mail) -> None:
    mail.smtp.inbox.rcpt_replies["sam@student.example"] = ["451 4.3.0 Try again later"]
    asked = request()
    await mail.enqueue(asked)
    sender = mail.sender()

    await sender.send_due(now=NOW)
    email = await mail.email(asked.cause_id)
    assert (email.status, email.attempts, email.last_code) == (EmailStatus.QUEUED, 1, 451)
    assert email.last_error == "451 4.3.0 Try again later"
    assert email.next_attempt_at is not None
    assert NOW + timedelta(seconds=24) <= email.next_attempt_at <= NOW + timedelta(seconds=36)  # 30 s ±20%
    assert await sender.send_due(now=NOW + timedelta(seconds=10)) == 0  # not yet
    assert mail.smtp.inbox.received == []

    await sender.send_due(now=NOW + timedelta(seconds=40))
    email = await mail.email(asked.cause_id)
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)
    async with mail.uow() as uow:
        attempts = await uow.emails.attempts(email.id)
    assert [(a.number, a.outcome, a.code) for a in attempts] == [
        (1, AttemptOutcome.TRANSIENT, 451),
        (2, AttemptOutcome.SENT, None),
    ]
    assert len(mail.smtp.inbox.received) == 1


async def test_a_permanent_refusal_bounces_and_keeps_no_address(mail: Mail) -> None:
    mail.smtp.inbox.rcpt_replies["gone@student.example"] = [
        "550 5.1.1 <Gone@Student.example>: Recipient address rejected"
    ]
    asked = request(recipient="gone@student.example")
    await mail.enqueue(asked)
    sender = mail.sender()
    await sender.send_due(now=NOW)

    email = await mail.email(asked.cause_id)
    assert (email.status, email.attempts, email.last_code, email.next_attempt_at) == (
        EmailStatus.BOUNCED,
        1,
        550,
        None,
    )
    assert email.last_error == "550 5.1.1 <<recipient>>: Recipient address rejected"
    assert await sender.send_due(now=NOW + timedelta(days=2)) == 0  # never tried again by itself


async def test_an_email_fails_when_its_retries_run_out(mail: Mail) -> None:
    mail.smtp.inbox.rcpt_replies["sam@student.example"] = ["421 4.3.2 Shutting down"] * 3
    asked = request()
    await mail.enqueue(asked)
    sender = mail.sender(policy=RetryPolicy(delays=(timedelta(seconds=1),), jitter=0))
    await sender.send_due(now=NOW)
    await sender.send_due(now=NOW + timedelta(seconds=2))

    email = await mail.email(asked.cause_id)
    assert (email.status, email.attempts, email.next_attempt_at) == (EmailStatus.FAILED, 2, None)
    assert email.context is not None  # kept: a coordinator may retry it
    assert await sender.send_due(now=NOW + timedelta(days=1)) == 0


async def test_a_template_that_cannot_render_fails_the_email_without_sending_it(mail: Mail) -> None:
    asked, raising, unknown = request("test_broken"), request("test_raising"), request("no_such_kind")
    await mail.enqueue(asked, raising, unknown)
    await mail.sender().send_due(now=NOW)

    for cause, why in (
        (asked.cause_id, "nobody_gives_this"),
        (raising.cause_id, "TypeError"),
        (unknown.cause_id, "no email kind"),
    ):
        email = await mail.email(cause)
        assert email.status is EmailStatus.FAILED
        assert email.last_error is not None and why in email.last_error
    assert mail.smtp.inbox.received == []


async def test_an_unsubscribed_optional_kind_is_suppressed_and_a_required_one_still_goes(mail: Mail) -> None:
    async with mail.uow() as uow:
        await uow.emails.unsubscribe("Sam@Student.example", "test_digest", now=NOW)
        await uow.emails.unsubscribe("sam@student.example", "test_notice", now=NOW)  # not optional: no effect
        await uow.commit()
    digest, notice = request("test_digest"), request("test_notice")
    await mail.enqueue(digest, notice)
    await mail.sender().send_due(now=NOW)

    assert (await mail.email(digest.cause_id)).status is EmailStatus.SUPPRESSED
    assert (await mail.email(notice.cause_id)).status is EmailStatus.SENT
    assert [str(m["Subject"]) for m in mail.smtp.inbox.received_messages()] == ["Notice: Lunchboxes"]


async def test_an_optional_email_carries_a_working_unsubscribe_link(mail: Mail) -> None:
    digest = request("test_digest")
    await mail.enqueue(digest)
    await mail.sender().send_due(now=NOW)
    [message] = mail.smtp.inbox.received_messages()
    email = await mail.email(digest.cause_id)
    link = str(message["List-Unsubscribe"]).strip("<>")
    assert link == LINKS.unsubscribe_url(email.id)
    assert LINKS.email_id(link.rsplit("/", 1)[1]) == email.id
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert link in parts(message)["text/plain"]


async def test_an_email_held_by_a_sender_that_died_goes_when_its_lease_runs_out(mail: Mail) -> None:
    asked = request()
    await mail.enqueue(asked)
    async with mail.uow() as uow:  # a sender claims it, then dies before sending
        dead_claim, [held] = await uow.emails.claim_due(now=NOW, lease_until=NOW + LEASE, limit=10)
        await uow.commit()

    sender = mail.sender()
    assert await sender.send_due(now=NOW + LEASE - timedelta(seconds=1)) == 0  # still held
    assert await sender.send_due(now=NOW + LEASE + timedelta(seconds=1)) == 1
    assert (await mail.email(asked.cause_id)).status is EmailStatus.SENT

    # The first sender comes back with a stale result: it is dropped.
    stale = AttemptResult(
        email_id=held.id,
        claim=dead_claim,
        at=NOW,
        outcome=AttemptOutcome.PERMANENT,
        code=550,
        detail="550 late",
        duration_ms=1,
        next=NextStep(EmailStatus.BOUNCED, None),
    )
    async with mail.uow() as uow:
        assert await uow.emails.record([stale]) == 0
        await uow.commit()
    assert (await mail.email(asked.cause_id)).status is EmailStatus.SENT


async def test_erasing_a_recipient_deletes_their_emails_and_preferences(mail: Mail) -> None:
    gone, kept = request(recipient="gone@student.example"), request(recipient="kept@student.example")
    await mail.enqueue(gone, kept)
    await mail.sender().send_due(now=NOW)
    async with mail.uow() as uow:
        await uow.emails.unsubscribe("gone@student.example", "test_digest", now=NOW)
        assert await uow.emails.forget_recipient("Gone@Student.example") == 1
        await uow.commit()
    async with mail.uow() as uow:
        assert (await uow.emails.page(cause_id=gone.cause_id)).items == []
        assert await uow.emails.unsubscribed_kinds("gone@student.example") == set()
        assert len((await uow.emails.page(cause_id=kept.cause_id)).items) == 1


async def test_the_running_sender_is_woken_by_a_commit_and_stops_when_told(mail: Mail) -> None:
    sender = mail.sender(poll_interval_s=60.0)  # only a wake-up can make it send within the test

    def woken_uow() -> NotificationsUnitOfWork:
        uow = mail.uow()
        uow.wake_mail_sender = sender.wake
        return uow

    running = asyncio.create_task(sender.run())
    try:
        await asyncio.sleep(0.2)  # its first round found nothing; it now waits
        async with woken_uow() as uow:
            await uow.emails.enqueue(request())
            await uow.commit()

        async def arrived() -> int:
            return len(mail.smtp.inbox.received)

        await eventually(arrived, timeout_s=5)
    finally:
        sender.stop()
        await asyncio.wait_for(running, 5)


def _uow_on(engine: AsyncEngine) -> UowFactory:
    return lambda: NotificationsUnitOfWork(engine, outbox=orm.outbox, inbox=orm.inbox)


@pytest.fixture
async def mail_on_postgresql(tmp_path: Path, smtp: SmtpTestServer) -> AsyncIterator[Mail]:
    async for value in _mail("postgresql", tmp_path, smtp):
        yield value


async def test_three_senders_on_postgresql_never_send_an_email_twice(mail_on_postgresql: Mail) -> None:
    mail = mail_on_postgresql
    recipients = [f"student{number}@student.example" for number in range(120)]
    await mail.enqueue(*(request(recipient=address) for address in recipients))
    # Each sender on its own engine (its own pool), as replicas would be.
    engines = [create_engine(mail.url) for _ in range(3)]
    senders = [mail.sender(_uow_on(engine)) for engine in engines]

    async def drain(sender: MailSender) -> int:
        total = 0
        while handled := await sender.send_due(now=NOW):
            total += handled
        return total

    try:
        handled = await asyncio.gather(*(drain(sender) for sender in senders))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(handled) == 120
    assert all(handled), "every sender took a share"
    delivered = sorted(address for item in mail.smtp.inbox.received for address in item.rcpt_tos)
    assert delivered == sorted(recipients)  # each once
