"""How emails leave: SMTP (aiosmtplib) when `SMTP_URL` is set, else `.eml` files under `mail_dir`.

`smtp://[user:password@]host[:port]`: STARTTLS when the server offers it, and required when credentials are given
(a password never crosses in clear). `smtps://...`: implicit TLS (port 465 by default). Certificates are verified.
Each email is one connection: volumes are small (a few hundred a day), and one connection per email keeps a
server's refusal of one from touching the next.
"""

import asyncio
import os
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from medic.notifications.domain.emails import AttemptOutcome, DeliveryFailed, OutgoingEmail

SMTP_TIMEOUT_S = 30.0


class MailTransport(Protocol):
    """Hands one email over; raises DeliveryFailed when it could not."""

    description: str  # for the start-up log: where emails go (no credentials)

    async def send(self, email: OutgoingEmail) -> None: ...


def compose(email: OutgoingEmail, *, sender: str, now: datetime) -> EmailMessage:
    """The MIME message: multipart/alternative, text first then HTML (clients show the last they can)."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = Address(display_name=email.recipient_name or "", addr_spec=email.recipient)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    # Stable across retries: a server that did get an attempt we think failed lets the recipient's client dedupe.
    message["Message-ID"] = f"<{email.id}@{_domain_of(sender)}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a no-reply sender
    if email.unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message.set_content(email.text, subtype="plain", charset="utf-8")
    message.add_alternative(email.html, subtype="html", charset="utf-8")
    return message


def _domain_of(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class SmtpServer:
    hostname: str
    port: int | None
    username: str | None
    password: str | None
    implicit_tls: bool

    @classmethod
    def parse(cls, url: str) -> "SmtpServer":
        """Raises ValueError naming what is wrong (never echoing the URL: it may hold a password)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("SMTP_URL names no host")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("SMTP_URL has an invalid port") from None
        return cls(
            hostname=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=parts.scheme == "smtps",
        )

    @property
    def description(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.hostname}" + (f":{self.port}" if self.port else "")


class SmtpTransport:
    def __init__(
        self,
        server: SmtpServer,
        *,
        sender: str,
        timeout_s: float = SMTP_TIMEOUT_S,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._server = server
        self._sender = sender
        self._timeout_s = timeout_s
        self._tls_context = tls_context  # None: the system's trusted CAs
        self.description = server.description

    async def send(self, email: OutgoingEmail) -> None:
        server = self._server
        message = compose(email, sender=self._sender, now=datetime.now(UTC))
        try:
            await aiosmtplib.send(
                message,
                recipients=[email.recipient],
                hostname=server.hostname,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.implicit_tls,
                # None: upgrade when offered. With credentials, insist.
                start_tls=None if server.implicit_tls or server.username is None else True,
                tls_context=self._tls_context,
                timeout=self._timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            refused = error.recipients[0]
            raise DeliveryFailed(_by_code(refused.code), f"{refused.code} {refused.message}", refused.code) from None
        except aiosmtplib.SMTPDataError as error:  # the message itself refused (size, content)
            raise DeliveryFailed(_by_code(error.code), f"{error.code} {error.message}", error.code) from None
        except aiosmtplib.SMTPResponseException as error:
            # Authentication, sender, greeting: our configuration, not this email's fault. Retried, so that
            # fixing the configuration sends what waited.
            raise DeliveryFailed(AttemptOutcome.TRANSIENT, f"{error.code} {error.message}", error.code) from None
        except (aiosmtplib.SMTPException, OSError) as error:  # refused, reset, timed out, TLS failed
            raise DeliveryFailed(AttemptOutcome.TRANSIENT, f"{type(error).__name__}: {error}") from None


def _by_code(code: int) -> AttemptOutcome:
    """5xx: refused for good (a bounce); 4xx: try again later."""
    return AttemptOutcome.PERMANENT if 500 <= code <= 599 else AttemptOutcome.TRANSIENT


class FileTransport:
    """Writes each email as `<mail_dir>/<UTC time>-<email id>.eml`, for development and `make run`."""

    def __init__(self, directory: Path, *, sender: str) -> None:
        self._directory = directory
        self._sender = sender
        self.description = f"files under {directory}/"

    async def send(self, email: OutgoingEmail) -> None:
        now = datetime.now(UTC)
        # Local line endings: what mail clients open from disk.
        data = compose(email, sender=self._sender, now=now).as_bytes(policy=policy.default)
        target = self._directory / f"{now:%Y%m%dT%H%M%S}-{email.id}.eml"
        try:
            await asyncio.to_thread(_write_atomically, target, data)
        except OSError as error:
            raise DeliveryFailed(AttemptOutcome.TRANSIENT, f"{type(error).__name__}: {error.strerror}") from None


def _write_atomically(target: Path, data: bytes) -> None:
    """A reader never sees half a file: write aside, then rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{time.monotonic_ns()}.part")
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def transport_for(smtp_url: str | None, mail_dir: str, *, sender: str) -> MailTransport:
    if smtp_url:
        return SmtpTransport(SmtpServer.parse(smtp_url), sender=sender)
    return FileTransport(Path(mail_dir), sender=sender)
