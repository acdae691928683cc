"""Test helpers for emails: a real SMTP server (aiosmtpd) on loopback that records what it accepts and answers as
told, a self-signed certificate for its TLS, and a test kind with its own templates."""

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from medic.notifications.adapters.mail_renderer import TEMPLATES_DIR, MailRenderer
from medic.notifications.domain.emails import EmailKind

USER, PASSWORD = "mailer", "s3cret:with@odd/chars"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    authenticated: bool


@dataclass
class SmtpInbox:
    """An aiosmtpd handler. `rcpt_replies[address]` / `data_replies`: replies to give, in turn, before accepting."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        with self.lock:
            replies = self.rcpt_replies.get(address.lower())
            reply = replies.pop(0) if replies else "250 OK"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            message = message_from_bytes(envelope.content, policy=policy.default)
            self.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    message=message,
                    # STARTTLS sets session.ssl; an implicit-TLS connection is TLS from its first byte.
                    tls=session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                    authenticated=bool(session.authenticated),
                )
            )
        return "250 Message accepted for delivery"

    def received_messages(self) -> list[EmailMessage]:
        with self.lock:
            return [item.message for item in self.received]

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [item.message for item in self.received if address in item.rcpt_tos]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@dataclass
class SmtpTestServer:
    controller: Controller
    inbox: SmtpInbox
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.controller.stop()


def start_smtp_server(**smtp_parameters: Any) -> SmtpTestServer:
    """aiosmtpd on 127.0.0.1 in its own thread; `smtp_parameters` go to aiosmtpd (tls_context, ssl_context...)."""
    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp_parameters)
    controller.start()
    return SmtpTestServer(controller=controller, inbox=inbox, port=port)


@dataclass(frozen=True)
class Certificate:
    certfile: Path
    keyfile: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certfile))


def self_signed_certificate(directory: Path) -> Certificate:
    """A CA-flagged self-signed certificate for 127.0.0.1 and localhost: the client trusts it and nothing else."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "smtp.crt", directory / "smtp.key"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(certfile=certfile, keyfile=keyfile)


# A test kind of each sort, with templates of their own (the service's real kinds are H5's catalogue).
DIGEST = EmailKind(
    name="test_digest",
    subject="Digest for {{ project_title }}",
    optional=True,
    description="Test digests",
    sample={"project_title": "Sample project", "link": "https://example.org/p/1"},
)
NOTICE = EmailKind(
    name="test_notice",
    subject="Notice:\n{{ project_title }}",  # a line break must not reach the header
    optional=False,
    description="Test notices",
    sample={"project_title": "Sample project", "link": "https://example.org/p/1"},
)
BROKEN = EmailKind(
    name="test_broken", subject="Broken", optional=False, description="Uses a name nobody gives", sample={}
)
RAISING = EmailKind(
    name="test_raising", subject="Raising", optional=False, description="Adds a number to text", sample={}
)
TEST_KINDS = {kind.name: kind for kind in (DIGEST, NOTICE, BROKEN, RAISING)}

_TEMPLATES = {
    "test_digest.txt.j2": (
        '{% extends "_layout.txt.j2" %}{% block body %}News about {{ project_title }}: {{ link }}{% endblock %}'
    ),
    "test_digest.html.j2": (
        '{% extends "_layout.html.j2" %}{% block body %}<p>News about <b>{{ project_title }}</b>: '
        '<a href="{{ link }}">open it</a></p>{% endblock %}'
    ),
    "test_notice.txt.j2": '{% extends "_layout.txt.j2" %}{% block body %}About {{ project_title }}.{% endblock %}',
    "test_notice.html.j2": (
        '{% extends "_layout.html.j2" %}{% block body %}<p>About {{ project_title }}.</p>{% endblock %}'
    ),
    "test_broken.txt.j2": '{% extends "_layout.txt.j2" %}{% block body %}{{ nobody_gives_this }}{% endblock %}',
    "test_broken.html.j2": '{% extends "_layout.html.j2" %}{% block body %}{{ nobody_gives_this }}{% endblock %}',
    "test_raising.txt.j2": '{% extends "_layout.txt.j2" %}{% block body %}{{ project_title + 1 }}{% endblock %}',
    "test_raising.html.j2": '{% extends "_layout.html.j2" %}{% block body %}{{ project_title }}{% endblock %}',
}


def renderer_with_test_kinds(directory: Path) -> MailRenderer:
    """The test kinds, their templates written to `directory`, the layouts the service's own."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in _TEMPLATES.items():
        (directory / name).write_text(text)
    return MailRenderer(TEST_KINDS, search_path=(directory, TEMPLATES_DIR))


def parts(message: EmailMessage) -> dict[str, str]:
    """content type -> decoded text of each leaf part."""
    return {
        part.get_content_type(): str(part.get_content()).replace("\r\n", "\n")
        for part in message.walk()
        if not part.is_multipart()
    }
