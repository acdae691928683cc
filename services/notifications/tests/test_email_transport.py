"""Transports against a real SMTP server (aiosmtpd on loopback): the MIME message, STARTTLS and implicit TLS
with credentials, and how each kind of refusal is classified. And the `.eml` files of `make run`."""

import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import quote

import pytest

from medic.notifications.adapters.mail_transport import FileTransport, SmtpServer, SmtpTransport, transport_for
from medic.notifications.domain.emails import AttemptOutcome, DeliveryFailed, OutgoingEmail
from services.notifications.tests.email_support import (
    PASSWORD,
    USER,
    Certificate,
    SmtpInbox,
    SmtpTestServer,
    authenticator,
    free_port,
    parts,
    self_signed_certificate,
    start_smtp_server,
)

SENDER = "Social Accountability Team <no-reply@medic.example>"


def outgoing(recipient: str = "sam@student.example", *, unsubscribe_url: str | None = None) -> OutgoingEmail:
    return OutgoingEmail(
        id=uuid.uuid4(),
        recipient=recipient,
        recipient_name="Sam Okafor",
        subject="Your proposal was approved: Lunchboxes, café",
        text="Dear Sam,\n\nApproved. Well done — café.\n",
        html="<p>Dear Sam,</p><p>Approved. Well done &mdash; café.</p>",
        unsubscribe_url=unsubscribe_url,
    )


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    server = start_smtp_server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


def smtp(url: str, **kwargs: object) -> SmtpTransport:
    return SmtpTransport(SmtpServer.parse(url), sender=SENDER, timeout_s=5, **kwargs)  # type: ignore[arg-type]


async def test_the_server_receives_a_text_and_an_html_part_with_the_headers(server: SmtpTestServer) -> None:
    email = outgoing(unsubscribe_url="https://notifications.example/emails/unsubscribe/tok")
    await smtp(server.url).send(email)

    [received] = server.inbox.received
    assert received.rcpt_tos == ["sam@student.example"]
    assert received.mail_from == "no-reply@medic.example"
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert parts(message) == {"text/plain": email.text, "text/html": email.html + "\n"}
    assert str(message["Subject"]) == email.subject
    assert str(message["To"]) == "Sam Okafor <sam@student.example>"
    assert str(message["From"]) == SENDER
    assert str(message["Message-ID"]) == f"<{email.id}@medic.example>"
    assert str(message["Auto-Submitted"]) == "auto-generated"
    assert str(message["List-Unsubscribe"]) == "<https://notifications.example/emails/unsubscribe/tok>"
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert message["Date"] is not None


async def test_a_required_kind_has_no_unsubscribe_headers(server: SmtpTestServer) -> None:
    await smtp(server.url).send(outgoing())
    message = server.inbox.received[0].message
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None


async def test_credentials_go_only_over_starttls(certificate: Certificate) -> None:
    server = start_smtp_server(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    try:
        url = f"smtp://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}"
        await smtp(url, tls_context=certificate.client_context()).send(outgoing())
        [received] = server.inbox.received
        assert received.tls and received.authenticated
    finally:
        server.stop()


async def test_credentials_are_never_sent_to_a_server_without_starttls(server: SmtpTestServer) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await smtp(f"smtp://{USER}:pw@127.0.0.1:{server.port}").send(outgoing())
    assert failed.value.outcome is AttemptOutcome.TRANSIENT  # our configuration: retried once it is fixed
    assert "STARTTLS" in failed.value.detail
    assert server.inbox.received == []


async def test_an_untrusted_certificate_is_refused(certificate: Certificate) -> None:
    server = start_smtp_server(tls_context=certificate.server_context(), require_starttls=True)
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await smtp(f"smtp://{USER}:pw@127.0.0.1:{server.port}").send(outgoing())  # the system's CAs
        assert failed.value.outcome is AttemptOutcome.TRANSIENT
        assert server.inbox.received == []
    finally:
        server.stop()


async def test_implicit_tls(certificate: Certificate) -> None:
    server = start_smtp_server(
        # aiosmtpd counts only STARTTLS as TLS for AUTH; this whole connection is TLS.
        ssl_context=certificate.server_context(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    try:
        url = f"smtps://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{server.port}"
        await smtp(url, tls_context=certificate.client_context()).send(outgoing())
        [received] = server.inbox.received
        assert received.authenticated and received.tls
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("rcpt_reply", "data_reply", "outcome", "code"),
    [
        ("550 5.1.1 <sam@student.example>: Recipient address rejected", None, AttemptOutcome.PERMANENT, 550),
        ("451 4.3.0 Try again later", None, AttemptOutcome.TRANSIENT, 451),
        ("452 4.2.2 Mailbox full", None, AttemptOutcome.TRANSIENT, 452),
        (None, "554 5.7.1 Message rejected as spam", AttemptOutcome.PERMANENT, 554),
        (None, "451 4.7.1 Greylisted, try again", AttemptOutcome.TRANSIENT, 451),
    ],
)
async def test_refusals_are_classified_by_their_code(
    server: SmtpTestServer, rcpt_reply: str | None, data_reply: str | None, outcome: AttemptOutcome, code: int
) -> None:
    inbox: SmtpInbox = server.inbox
    if rcpt_reply:
        inbox.rcpt_replies["sam@student.example"] = [rcpt_reply]
    if data_reply:
        inbox.data_replies.append(data_reply)
    with pytest.raises(DeliveryFailed) as failed:
        await smtp(server.url).send(outgoing())
    assert (failed.value.outcome, failed.value.code) == (outcome, code)
    assert failed.value.detail.startswith(str(code))
    assert inbox.received == []


async def test_no_server_is_a_transient_failure() -> None:
    with pytest.raises(DeliveryFailed) as failed:
        await smtp(f"smtp://127.0.0.1:{free_port()}").send(outgoing())
    assert failed.value.outcome is AttemptOutcome.TRANSIENT and failed.value.code is None


def test_smtp_urls() -> None:
    server = SmtpServer.parse("smtps://me%40corp:p%3Ass@mail.example:2465")
    assert (server.hostname, server.port, server.username, server.password, server.implicit_tls) == (
        "mail.example",
        2465,
        "me@corp",
        "p:ss",
        True,
    )
    assert server.description == "smtps://mail.example:2465"  # no credentials in what is logged
    plain = SmtpServer.parse("smtp://mail.example")
    assert (plain.port, plain.username, plain.implicit_tls) == (None, None, False)
    for bad in ("http://mail.example", "smtp://", "smtp://user:secretpw@mail.example:99999"):
        with pytest.raises(ValueError) as refused:
            SmtpServer.parse(bad)
        assert "secretpw" not in str(refused.value)


async def test_without_smtp_emails_are_eml_files_a_mail_client_opens(tmp_path: Path) -> None:
    transport = transport_for(None, str(tmp_path / "mail"), sender=SENDER)
    assert isinstance(transport, FileTransport)
    email = outgoing(unsubscribe_url="https://notifications.example/emails/unsubscribe/tok")
    await transport.send(email)
    [written] = list((tmp_path / "mail").iterdir())
    assert written.name.endswith(f"-{email.id}.eml")
    message = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert str(message["To"]) == "Sam Okafor <sam@student.example>"
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert parts(message) == {"text/plain": email.text, "text/html": email.html + "\n"}


async def test_a_mail_dir_that_cannot_be_written_is_a_transient_failure(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a directory")
    with pytest.raises(DeliveryFailed) as failed:
        await FileTransport(tmp_path / "taken" / "mail", sender=SENDER).send(outgoing())
    assert failed.value.outcome is AttemptOutcome.TRANSIENT
